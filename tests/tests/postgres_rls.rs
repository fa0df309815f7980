//! Row-level security holds even when the application's own filters are
//! bypassed (issue 7): raw SQL as the worker's role (`agentgate_app`) against
//! a real PostgreSQL with `migrations/postgres/` applied.
//!
//! Every test starts its own throwaway cluster (`scripts/pg.sh`, stopped on
//! drop), seeds two tenants as the superuser (which bypasses RLS), then
//! queries as the app role with the settings the worker uses:
//! `set_config('app.server_id' | 'app.entity_id' | 'app.credential_hash' |
//! 'app.login_email', $1, true)` inside a transaction.

use agentgate_e2e::pg::{NeverRefuseProxy, PgCluster};
use tokio_postgres::{Client, Transaction};

const TENANT_A: &str = "0190b6a0-0000-7000-8000-0000000000aa";
const TENANT_B: &str = "0190b6a0-0000-7000-8000-0000000000bb";
const ALICE: &str = "0190b6a0-0000-7000-8000-00000000a11c"; // tenant A, owner
const BOB: &str = "0190b6a0-0000-7000-8000-000000000b0b"; // tenant A, user
const CAROL: &str = "0190b6a0-0000-7000-8000-00000000ca01"; // tenant B, owner
const CHANNEL_A: &str = "0190b6a0-0000-7000-8000-0000000c000a";
const CHANNEL_B: &str = "0190b6a0-0000-7000-8000-0000000c000b";

const TABLES: &[&str] = &[
    "identities",
    "sessions",
    "machine_tokens",
    "api_keys",
    "owner_bindings",
    "audit_events",
    "bootstrap_jti_seen",
    "ws_tickets",
    "channels",
    "channel_participants",
    "agents",
];

/// Two tenants' worth of rows in every table, written past RLS.
async fn seed(pg: &PgCluster) {
    let su = pg.superuser().await;
    let sql = format!(
        r#"
INSERT INTO identities (id, server_id, kind, display_name, email, password_hash, created_at) VALUES
  ('{ALICE}', '{TENANT_A}', 'owner', 'Alice', 'alice@a.test', '$argon2id$alice', 1),
  ('{BOB}',   '{TENANT_A}', 'user',  'Bob',   'bob@a.test',   '$argon2id$bob',   1),
  ('{CAROL}', '{TENANT_B}', 'owner', 'Carol', 'carol@b.test', '$argon2id$carol', 1);
INSERT INTO sessions (id_hash, server_id, identity_id, entity_id, kind, created_at, last_seen_at, expires_at, absolute_expires_at) VALUES
  ('sess-alice', '{TENANT_A}', '{ALICE}', '{ALICE}', 'browser', 1, 1, 9999999999, 9999999999),
  ('sess-bob',   '{TENANT_A}', '{BOB}',   '{BOB}',   'browser', 1, 1, 9999999999, 9999999999),
  ('sess-carol', '{TENANT_B}', '{CAROL}', '{CAROL}', 'browser', 1, 1, 9999999999, 9999999999);
INSERT INTO machine_tokens (id, server_id, owner_entity_id, name, token_hash, scopes, created_at, expires_at) VALUES
  (gen_random_uuid(), '{TENANT_A}', '{ALICE}', 'a', 'tok-alice', '["agent:read"]', 1, 9999999999),
  (gen_random_uuid(), '{TENANT_B}', '{CAROL}', 'c', 'tok-carol', '["agent:read"]', 1, 9999999999);
INSERT INTO api_keys (id, server_id, owner_entity_id, name, key_hash, scopes, created_at) VALUES
  (gen_random_uuid(), '{TENANT_A}', '{ALICE}', 'a', 'key-alice', '[]', 1),
  (gen_random_uuid(), '{TENANT_B}', '{CAROL}', 'c', 'key-carol', '[]', 1);
INSERT INTO owner_bindings (id, server_id, identity_id, connector, external_id, created_at) VALUES
  (gen_random_uuid(), '{TENANT_A}', '{ALICE}', 'discord', 'alice#1', 1),
  (gen_random_uuid(), '{TENANT_B}', '{CAROL}', 'discord', 'carol#1', 1);
INSERT INTO audit_events (id, ts, server_id, actor_identity_id, action, outcome, metadata) VALUES
  (gen_random_uuid(), 1000, '{TENANT_A}', '{ALICE}', 'auth.login.password.success', 'success', '{{}}'),
  (gen_random_uuid(), 1001, '{TENANT_A}', NULL,      'auth.login.password.failure', 'failure', '{{}}'),
  (gen_random_uuid(), 1002, '{TENANT_B}', '{CAROL}', 'auth.login.password.success', 'success', '{{}}');
INSERT INTO bootstrap_jti_seen (server_id, jti, expires_at, seen_at) VALUES
  ('{TENANT_A}', 'jti-a-expired', 1, 1),
  ('{TENANT_A}', 'jti-a-live', 9999999999, 1),
  ('{TENANT_B}', 'jti-b-expired', 1, 1);
INSERT INTO ws_tickets (ticket_hash, server_id, entity_id, channel_id, expires_at) VALUES
  ('ticket-alice', '{TENANT_A}', '{ALICE}', '{CHANNEL_A}', 9999999999),
  ('ticket-carol', '{TENANT_B}', '{CAROL}', '{CHANNEL_B}', 9999999999);
INSERT INTO channels (id, server_id, name, type, creator_entity_id, created_at) VALUES
  ('{CHANNEL_A}', '{TENANT_A}', 'a', 'public', '{ALICE}', 1),
  ('{CHANNEL_B}', '{TENANT_B}', 'b', 'public', '{CAROL}', 1);
INSERT INTO channel_participants (channel_id, entity_id, server_id, role, added_at) VALUES
  ('{CHANNEL_A}', '{ALICE}', '{TENANT_A}', 'creator', 1),
  ('{CHANNEL_A}', '{BOB}',   '{TENANT_A}', 'member',  1),
  ('{CHANNEL_B}', '{CAROL}', '{TENANT_B}', 'creator', 1);
INSERT INTO agents (id, server_id, name, owner_entity_id, shared_with, created_at, updated_at) VALUES
  (gen_random_uuid(), '{TENANT_A}', 'a', '{ALICE}', '["{BOB}"]', 1, 1),
  (gen_random_uuid(), '{TENANT_B}', 'c', '{CAROL}', '[]', 1, 1);
"#
    );
    su.batch_execute(&sql).await.expect("seed both tenants");
}

/// The worker's transaction prologue.
#[derive(Default, Clone, Copy)]
struct Scope<'a> {
    server: Option<&'a str>,
    entity: Option<&'a str>,
    credential_hash: Option<&'a str>,
    login_email: Option<&'a str>,
}

fn tenant(server: &str) -> Scope<'_> {
    Scope {
        server: Some(server),
        ..Scope::default()
    }
}

fn entity<'a>(server: &'a str, entity: &'a str) -> Scope<'a> {
    Scope {
        server: Some(server),
        entity: Some(entity),
        ..Scope::default()
    }
}

async fn begin<'c>(client: &'c mut Client, scope: Scope<'_>) -> Transaction<'c> {
    let tx = client.transaction().await.expect("BEGIN");
    tx.query(
        "SELECT set_config('app.server_id', $1, true), set_config('app.entity_id', $2, true), \
                set_config('app.credential_hash', $3, true), set_config('app.login_email', $4, true)",
        &[
            &scope.server.unwrap_or(""),
            &scope.entity.unwrap_or(""),
            &scope.credential_hash.unwrap_or(""),
            &scope.login_email.unwrap_or(""),
        ],
    )
    .await
    .expect("set the scope");
    tx
}

/// `server_id::text` of every row a raw `SELECT *` returns.
async fn tenants_seen(tx: &Transaction<'_>, table: &str) -> Vec<String> {
    tx.query(&format!("SELECT server_id::text FROM {table}"), &[])
        .await
        .unwrap_or_else(|e| panic!("select from {table}: {e}"))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn texts(tx: &Transaction<'_>, sql: &str) -> Vec<String> {
    tx.query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn count(client: &Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

#[tokio::test]
async fn tenant_a_never_sees_tenant_b_rows() {
    let pg = PgCluster::start();
    seed(&pg).await;
    let mut app = pg.app().await;

    // Every mode of tenant A: tenant level, each entity, each presented key
    // (including tenant B's own keys), on every table.
    let scopes = [
        tenant(TENANT_A),
        entity(TENANT_A, ALICE),
        entity(TENANT_A, BOB),
        // Tenant B's entity, with tenant A's server id.
        entity(TENANT_A, CAROL),
        Scope {
            credential_hash: Some("sess-carol"),
            ..tenant(TENANT_A)
        },
        Scope {
            credential_hash: Some("ticket-carol"),
            ..tenant(TENANT_A)
        },
        Scope {
            login_email: Some("carol@b.test"),
            ..tenant(TENANT_A)
        },
    ];
    let mut seen_a = 0;
    for scope in scopes {
        let tx = begin(&mut app, scope).await;
        for table in TABLES {
            let seen = tenants_seen(&tx, table).await;
            assert!(
                seen.iter().all(|s| s == TENANT_A),
                "{table}: tenant A ({:?}/{:?}) saw {seen:?}",
                scope.entity,
                scope.credential_hash.or(scope.login_email)
            );
            seen_a += seen.len();
        }
        tx.rollback().await.unwrap();
    }
    // Not vacuous: the same loop does see tenant A's own rows.
    assert!(seen_a > 10, "tenant A saw only {seen_a} of its own rows");

    // The literal check of the issue: a raw SELECT * FROM sessions.
    let tx = begin(&mut app, entity(TENANT_A, ALICE)).await;
    let rows = tx.query("SELECT * FROM sessions", &[]).await.unwrap();
    assert_eq!(rows.len(), 1);
    let hash: String = rows[0].get("id_hash");
    assert_eq!(hash, "sess-alice");
    tx.rollback().await.unwrap();

    // And tenant B, symmetrically, sees its own and nothing of A.
    let tx = begin(&mut app, entity(TENANT_B, CAROL)).await;
    assert_eq!(
        texts(&tx, "SELECT id_hash FROM sessions").await,
        ["sess-carol"]
    );
    assert!(texts(
        &tx,
        "SELECT id_hash FROM sessions WHERE server_id = '0190b6a0-0000-7000-8000-0000000000aa'"
    )
    .await
    .is_empty());
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn entity_alice_cannot_see_bobs_rows() {
    let pg = PgCluster::start();
    seed(&pg).await;
    let mut app = pg.app().await;
    let tx = begin(&mut app, entity(TENANT_A, ALICE)).await;

    assert_eq!(
        texts(&tx, "SELECT id_hash FROM sessions").await,
        ["sess-alice"]
    );
    // Asking for Bob's rows by name changes nothing.
    let bobs = format!("SELECT id_hash FROM sessions WHERE entity_id = '{BOB}'");
    assert!(texts(&tx, &bobs).await.is_empty());
    assert!(texts(
        &tx,
        "SELECT id_hash FROM sessions WHERE id_hash = 'sess-bob'"
    )
    .await
    .is_empty());
    // Alice's identity only (not Bob's password hash).
    assert_eq!(texts(&tx, "SELECT id::text FROM identities").await, [ALICE]);
    // Her own memberships; her own audit rows (as actor); her tickets.
    assert_eq!(
        texts(&tx, "SELECT entity_id::text FROM channel_participants").await,
        [ALICE]
    );
    assert_eq!(
        texts(&tx, "SELECT actor_identity_id::text FROM audit_events").await,
        [ALICE]
    );
    assert_eq!(
        texts(&tx, "SELECT ticket_hash FROM ws_tickets").await,
        ["ticket-alice"]
    );
    // Tenant-level-only tables stay closed to an entity.
    assert!(texts(&tx, "SELECT jti FROM bootstrap_jti_seen")
        .await
        .is_empty());
    tx.rollback().await.unwrap();

    // Bob: his session; the channel he is a member of; the agent shared
    // with him; none of Alice's machine tokens or bindings.
    let tx = begin(&mut app, entity(TENANT_A, BOB)).await;
    assert_eq!(
        texts(&tx, "SELECT id_hash FROM sessions").await,
        ["sess-bob"]
    );
    assert_eq!(
        texts(&tx, "SELECT id::text FROM channels").await,
        [CHANNEL_A]
    );
    assert_eq!(texts(&tx, "SELECT name FROM agents").await, ["a"]);
    assert!(texts(&tx, "SELECT token_hash FROM machine_tokens")
        .await
        .is_empty());
    assert!(texts(&tx, "SELECT external_id FROM owner_bindings")
        .await
        .is_empty());
    // Bob can't write a session, ticket or token in Alice's name.
    let forged = tx
        .execute(
            &format!(
                "INSERT INTO sessions (id_hash, server_id, identity_id, entity_id, kind, created_at, \
                 last_seen_at, expires_at, absolute_expires_at) VALUES \
                 ('forged', '{TENANT_A}', '{ALICE}', '{ALICE}', 'browser', 1, 1, 2, 2)"
            ),
            &[],
        )
        .await;
    assert_rls_violation(forged);
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn writes_to_another_tenants_rows_affect_nothing() {
    let pg = PgCluster::start();
    seed(&pg).await;
    let mut app = pg.app().await;

    for scope in [
        entity(TENANT_A, ALICE),
        entity(TENANT_A, CAROL),
        tenant(TENANT_A),
        Scope {
            credential_hash: Some("ticket-carol"),
            ..tenant(TENANT_A)
        },
    ] {
        let tx = begin(&mut app, scope).await;
        let b = format!("server_id = '{TENANT_B}'");
        for sql in [
            "UPDATE sessions SET revoked_at = 1 WHERE id_hash = 'sess-carol'".to_owned(),
            format!("UPDATE sessions SET revoked_at = 1 WHERE {b}"),
            format!("UPDATE identities SET password_hash = 'x' WHERE {b}"),
            format!("UPDATE ws_tickets SET used_at = 1 WHERE {b}"),
            format!("UPDATE machine_tokens SET revoked_at = 1 WHERE {b}"),
            format!("UPDATE agents SET name = 'x' WHERE {b}"),
            format!("DELETE FROM channel_participants WHERE {b}"),
            format!("DELETE FROM bootstrap_jti_seen WHERE {b}"),
            format!("DELETE FROM owner_bindings WHERE {b}"),
            format!("DELETE FROM agents WHERE {b}"),
        ] {
            let changed = tx
                .execute(sql.as_str(), &[])
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            assert_eq!(changed, 0, "{sql} changed tenant B rows");
        }
        // Writing a row into tenant B is refused outright.
        let cross = tx
            .execute(
                &format!(
                    "INSERT INTO audit_events (id, ts, server_id, action, outcome) \
                     VALUES (gen_random_uuid(), 1, '{TENANT_B}', 'x', 'success')"
                ),
                &[],
            )
            .await;
        assert_rls_violation(cross);
        tx.rollback().await.unwrap();
    }

    // Moving a row of one's own to tenant B is refused too.
    let tx = begin(&mut app, entity(TENANT_A, ALICE)).await;
    let moved = tx
        .execute(
            &format!(
                "UPDATE agents SET server_id = '{TENANT_B}' WHERE owner_entity_id = '{ALICE}'"
            ),
            &[],
        )
        .await;
    assert_rls_violation(moved);
    tx.rollback().await.unwrap();

    // What the superuser sees: tenant B untouched.
    let su = pg.superuser().await;
    assert_eq!(
        count(
            &su,
            "SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &su,
            &format!("SELECT count(*) FROM channel_participants WHERE server_id = '{TENANT_B}'")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &su,
            &format!("SELECT count(*) FROM bootstrap_jti_seen WHERE server_id = '{TENANT_B}'")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &su,
            "SELECT count(*) FROM ws_tickets WHERE used_at IS NOT NULL"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn without_a_server_id_nothing_is_visible() {
    let pg = PgCluster::start();
    seed(&pg).await;
    let mut app = pg.app().await;

    // Never set on this connection.
    for table in TABLES {
        assert_eq!(
            count(&app, &format!("SELECT count(*) FROM {table}")).await,
            0,
            "{table} visible without app.server_id"
        );
    }
    // Set in a transaction that has ended: the setting now reads back as ''
    // on this connection (not missing), which must mean the same: nothing.
    let tx = begin(&mut app, entity(TENANT_A, ALICE)).await;
    assert_eq!(texts(&tx, "SELECT id_hash FROM sessions").await.len(), 1);
    tx.commit().await.unwrap();
    let leftover: String = app
        .query_one("SELECT current_setting('app.server_id', true)", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(leftover, "", "SET LOCAL must not outlive the transaction");
    for table in TABLES {
        assert_eq!(
            count(&app, &format!("SELECT count(*) FROM {table}")).await,
            0,
            "{table} visible after the scoped transaction ended"
        );
    }
    // An entity without a tenant sees nothing either.
    let tx = begin(
        &mut app,
        Scope {
            entity: Some(ALICE),
            ..Scope::default()
        },
    )
    .await;
    assert!(texts(&tx, "SELECT id_hash FROM sessions").await.is_empty());
    tx.rollback().await.unwrap();
    // And nothing can be written.
    let write = app
        .execute(
            &format!(
                "INSERT INTO audit_events (id, ts, server_id, action, outcome) \
                 VALUES (gen_random_uuid(), 1, '{TENANT_A}', 'x', 'success')"
            ),
            &[],
        )
        .await;
    assert_rls_violation(write);
    // The owner is subject to the policies as well (FORCE ROW LEVEL SECURITY).
    let owner = pg.owner().await;
    assert_eq!(count(&owner, "SELECT count(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn pre_auth_policies_are_narrow_and_keyed() {
    let pg = PgCluster::start();
    seed(&pg).await;
    let mut app = pg.app().await;

    // Tenant level with no key: sessions, tickets and tokens stay closed.
    let tx = begin(&mut app, tenant(TENANT_A)).await;
    for table in [
        "sessions",
        "ws_tickets",
        "machine_tokens",
        "api_keys",
        "owner_bindings",
        "agents",
    ] {
        assert!(
            tenants_seen(&tx, table).await.is_empty(),
            "{table} open at tenant level without a key"
        );
    }
    // The owner probe shows owners only, never Bob.
    assert_eq!(texts(&tx, "SELECT id::text FROM identities").await, [ALICE]);
    // Only expired jti entries can be forgotten.
    assert_eq!(
        tx.execute("DELETE FROM bootstrap_jti_seen", &[])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        texts(&tx, "SELECT jti FROM bootstrap_jti_seen").await,
        ["jti-a-live"]
    );
    tx.rollback().await.unwrap();

    // A presented session hash opens exactly that session.
    let tx = begin(
        &mut app,
        Scope {
            credential_hash: Some("sess-bob"),
            ..tenant(TENANT_A)
        },
    )
    .await;
    assert_eq!(
        texts(&tx, "SELECT id_hash FROM sessions").await,
        ["sess-bob"]
    );
    assert!(texts(&tx, "SELECT ticket_hash FROM ws_tickets")
        .await
        .is_empty());
    // …and doesn't let it be changed at tenant level.
    assert_eq!(
        tx.execute("UPDATE sessions SET revoked_at = 1", &[])
            .await
            .unwrap(),
        0
    );
    tx.rollback().await.unwrap();

    // Login by email: that identity, and only while no entity is set.
    let tx = begin(
        &mut app,
        Scope {
            login_email: Some("bob@a.test"),
            ..tenant(TENANT_A)
        },
    )
    .await;
    let ids = texts(&tx, "SELECT id::text FROM identities WHERE kind = 'user'").await;
    assert_eq!(ids, [BOB]);
    tx.rollback().await.unwrap();

    // A presented ticket can be consumed once, and only from unused to used.
    let ticket = Scope {
        credential_hash: Some("ticket-alice"),
        ..tenant(TENANT_A)
    };
    let tx = begin(&mut app, ticket).await;
    let unuse = tx
        .execute("UPDATE ws_tickets SET expires_at = 1", &[])
        .await;
    assert_rls_violation(unuse);
    tx.rollback().await.unwrap();
    let tx = begin(&mut app, ticket).await;
    assert_eq!(
        tx.execute(
            "UPDATE ws_tickets SET used_at = 5 WHERE used_at IS NULL",
            &[]
        )
        .await
        .unwrap(),
        1
    );
    tx.commit().await.unwrap();
    let tx = begin(&mut app, ticket).await;
    assert_eq!(
        tx.execute("UPDATE ws_tickets SET used_at = 6", &[])
            .await
            .unwrap(),
        0,
        "a used ticket can't be used again"
    );
    let reset = tx
        .execute("UPDATE ws_tickets SET used_at = NULL", &[])
        .await;
    assert!(matches!(reset, Ok(0) | Err(_)), "{reset:?}");
    tx.rollback().await.unwrap();

    // Audit rows: append-only for the app.
    let tx = begin(&mut app, tenant(TENANT_A)).await;
    assert_eq!(tenants_seen(&tx, "audit_events").await.len(), 2);
    assert!(tx.execute("DELETE FROM audit_events", &[]).await.is_err());
    tx.rollback().await.unwrap();
    let tx = begin(&mut app, tenant(TENANT_A)).await;
    assert!(tx
        .execute("UPDATE audit_events SET outcome = 'success'", &[])
        .await
        .is_err());
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn the_app_role_is_not_owner_and_cannot_bypass_rls() {
    let pg = PgCluster::start();
    let app = pg.app().await;

    let row = app
        .query_one(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles \
             WHERE rolname = current_user",
            &[],
        )
        .await
        .unwrap();
    let flags: (bool, bool, bool, bool) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(
        flags,
        (false, false, false, false),
        "agentgate_app role flags"
    );

    // Every table in the schema: not owned by (nor by a role of) the app,
    // RLS enabled and forced, and the restrictive tenant policy present.
    let rows = app
        .query(
            "SELECT c.relname::text, pg_get_userbyid(c.relowner)::text, \
                    pg_has_role(current_user, c.relowner, 'MEMBER'), \
                    c.relrowsecurity, c.relforcerowsecurity, \
                    EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid \
                            AND p.polname = c.relname || '_tenant' AND NOT p.polpermissive \
                            AND p.polcmd = '*') \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let mut names: Vec<String> = Vec::new();
    for r in &rows {
        let name: String = r.get(0);
        let owner: String = r.get(1);
        assert_ne!(owner, "agentgate_app", "{name} owned by the app role");
        assert!(
            !r.get::<_, bool>(2),
            "{name}: the app is a member of its owner"
        );
        assert!(r.get::<_, bool>(3), "{name}: RLS not enabled");
        assert!(r.get::<_, bool>(4), "{name}: RLS not forced");
        assert!(r.get::<_, bool>(5), "{name}: no restrictive tenant policy");
        names.push(name);
    }
    let mut expected: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected, "tables in the schema");

    // It can't switch RLS off, alter the tables or create new ones.
    for sql in [
        "ALTER TABLE sessions DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE sessions NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY sessions_tenant ON sessions",
        "CREATE TABLE sneaky (id int)",
        "SET ROLE agentgate_owner",
    ] {
        assert!(app.batch_execute(sql).await.is_err(), "{sql} succeeded");
    }
    // row_security = off makes a query that RLS would filter fail instead.
    let off = app
        .batch_execute("SET row_security = off; SELECT * FROM sessions")
        .await;
    assert!(off.is_err(), "row_security = off bypassed the policies");
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let pg = PgCluster::start();
    seed(&pg).await;
    let su = pg.superuser().await;
    let policies = "SELECT count(*) FROM pg_policy";
    let before = count(&su, policies).await;
    // pg.sh start on a running cluster applies the migrations again.
    pg.restart();
    pg.restart();
    assert_eq!(count(&su, policies).await, before);
    assert_eq!(count(&su, "SELECT count(*) FROM sessions").await, 3);
    // And a stopped cluster comes back on the same port with the same data.
    pg.stop();
    pg.restart();
    let app = pg.app().await;
    assert_eq!(count(&app, "SELECT count(*) FROM sessions").await, 0);
    let su = pg.superuser().await;
    assert_eq!(count(&su, "SELECT count(*) FROM sessions").await, 3);
}

/// The outage tool the wrangler-dev tests use: through the proxy, a stopped
/// server is a failed connection (never a refused one), and a restarted one
/// is reachable again on the same URL.
#[tokio::test]
async fn the_never_refuse_proxy_follows_the_server_down_and_up() {
    let pg = PgCluster::start();
    let proxy = NeverRefuseProxy::start(pg.port).await;
    let url = proxy.url(&pg.app_url, pg.port);
    assert_ne!(url, pg.app_url);
    let app = agentgate_e2e::pg::connect(&url).await;
    assert_eq!(count(&app, "SELECT 1::bigint").await, 1);

    pg.stop();
    // The open connection ends; new ones are accepted, then closed.
    assert!(app.query_one("SELECT 1", &[]).await.is_err());
    let down = tokio_postgres::connect(&url, tokio_postgres::NoTls).await;
    let err = down.err().expect("no connection while the server is down");
    assert!(!err.to_string().contains("refused"), "{err}");

    pg.restart();
    let app = agentgate_e2e::pg::connect(&url).await;
    assert_eq!(count(&app, "SELECT 1::bigint").await, 1);
}

/// A write RLS refuses: SQLSTATE 42501 (insufficient_privilege, "new row
/// violates row-level security policy") or a missing privilege.
fn assert_rls_violation(result: Result<u64, tokio_postgres::Error>) {
    match result {
        Ok(n) => panic!("write succeeded ({n} rows) where RLS must refuse it"),
        Err(e) => {
            let code = e.code().map(|c| c.code().to_owned());
            assert_eq!(code.as_deref(), Some("42501"), "{e}");
        }
    }
}
