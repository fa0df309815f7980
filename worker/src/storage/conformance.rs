//! The storage conformance suite (SPEC §11): every repository behaviour,
//! written once against [`Store`] and run inside workerd against whichever
//! back end `STORAGE` configures (`POST /__dev/storage/conformance`, a
//! development-only route; `tests/tests/storage_conformance.rs` runs it on
//! D1 and on PostgreSQL).
//!
//! Each run works in two fresh random tenants, so runs never see each other's
//! rows. Every case reads back what it wrote through a different method (or
//! a different scope) than the one that wrote it, so a back end that loses,
//! leaks or duplicates rows fails.

use crate::random;
use crate::storage::records::*;
use crate::storage::scope::{EntityScope, TenantScope};
use crate::storage::{
    AuditRepo, BootstrapJtiRepo, ChannelRepo, IdentityRepo, MachineTokenRepo, SessionRepo,
    StorageError, Store, WsTicketRepo,
};
use agentgate_shared::config::Config;
use agentgate_shared::ids::uuid_v7;
use futures::future::join_all;
use serde::Serialize;
use std::fmt::Debug;

/// The cases, by name, in the order they run.
pub const CASES: &[&str] = &[
    "identity_email_unique",
    "identity_one_owner_race",
    "identity_scoped_to_tenant",
    "owner_login_and_password",
    "session_lookup_and_scoping",
    "session_touch",
    "session_revoke",
    "machine_token_lookup_and_list",
    "machine_token_rotate_revoke",
    "audit_pagination",
    "bootstrap_jti_concurrent_claim",
    "ws_ticket_single_use",
    "channel_participants",
    "channel_pagination",
    "dm_channel_idempotent",
];

#[derive(Serialize)]
pub struct CaseOutcome {
    pub name: &'static str,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// Runs every case against `store`; never stops at the first failure.
pub async fn run(
    store: &Store,
    config: &Config,
    now: i64,
) -> Result<Vec<CaseOutcome>, StorageError> {
    let fixture = Fixture {
        store,
        a: fresh_tenant(config)?,
        b: fresh_tenant(config)?,
        now,
    };
    let mut outcomes = Vec::with_capacity(CASES.len());
    for &name in CASES {
        let result = fixture.case(name).await;
        outcomes.push(CaseOutcome {
            name,
            passed: result.is_ok(),
            failure: result.err().map(|f| f.0),
        });
    }
    Ok(outcomes)
}

fn fresh_tenant(config: &Config) -> Result<Config, StorageError> {
    let mut tenant = config.clone();
    tenant.server_id = new_id()?
        .parse()
        .map_err(|_| StorageError::Internal("uuid_v7 produced a malformed id".into()))?;
    Ok(tenant)
}

fn new_id() -> Result<String, StorageError> {
    let now_ms = worker::Date::now().as_millis();
    let random = random::bytes::<10>()
        .map_err(|e| StorageError::Internal(e.detail().unwrap_or_default().to_owned()))?;
    Ok(uuid_v7(now_ms, random))
}

/// Why a case failed.
struct Failure(String);

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        Failure(format!("storage call failed: {e}"))
    }
}

type Outcome = Result<(), Failure>;

fn expect_eq<T: PartialEq + Debug>(what: &str, got: T, want: T) -> Outcome {
    if got == want {
        Ok(())
    } else {
        Err(Failure(format!("{what}: got {got:?}, want {want:?}")))
    }
}

struct Fixture<'s> {
    store: &'s Store,
    /// The tenant the cases write in, and another one that must not see it.
    a: Config,
    b: Config,
    now: i64,
}

impl Fixture<'_> {
    async fn case(&self, name: &str) -> Outcome {
        match name {
            "identity_email_unique" => self.identity_email_unique().await,
            "identity_one_owner_race" => self.identity_one_owner_race().await,
            "identity_scoped_to_tenant" => self.identity_scoped_to_tenant().await,
            "owner_login_and_password" => self.owner_login_and_password().await,
            "session_lookup_and_scoping" => self.session_lookup_and_scoping().await,
            "session_touch" => self.session_touch().await,
            "session_revoke" => self.session_revoke().await,
            "machine_token_lookup_and_list" => self.machine_token_lookup_and_list().await,
            "machine_token_rotate_revoke" => self.machine_token_rotate_revoke().await,
            "audit_pagination" => self.audit_pagination().await,
            "bootstrap_jti_concurrent_claim" => self.bootstrap_jti_concurrent_claim().await,
            "ws_ticket_single_use" => self.ws_ticket_single_use().await,
            "channel_participants" => self.channel_participants().await,
            "channel_pagination" => self.channel_pagination().await,
            "dm_channel_idempotent" => self.dm_channel_idempotent().await,
            other => Err(Failure(format!("no case named {other}"))),
        }
    }

    /// The suite plays the auth layer for its throwaway tenants: the one
    /// place outside `auth/` that mints scopes.
    fn tenant(config: &Config) -> TenantScope {
        TenantScope::new(config)
    }

    fn entity(config: &Config, id: &str) -> EntityScope {
        EntityScope::new(TenantScope::new(config), id.to_owned())
    }

    fn identity(&self, kind: &str, email: Option<String>) -> Result<IdentityRecord, Failure> {
        Ok(IdentityRecord {
            id: new_id()?,
            kind: kind.to_owned(),
            display_name: format!("{kind} of the conformance suite"),
            email,
            password_hash: None,
            cloud_user_id: None,
            is_admin: 0,
            tier: "standard".to_owned(),
            created_at: self.now,
        })
    }

    fn unique_email(&self) -> Result<String, Failure> {
        Ok(format!("{}@conformance.test", new_id()?))
    }

    fn session(&self, entity_id: &str, created_at: i64) -> Result<SessionRecord, Failure> {
        Ok(SessionRecord {
            id_hash: format!("session-{}", new_id()?),
            identity_id: entity_id.to_owned(),
            entity_id: entity_id.to_owned(),
            kind: "browser".to_owned(),
            csrf_hash: Some("csrf-hash".to_owned()),
            remember_device: 1,
            created_at,
            last_seen_at: created_at,
            expires_at: self.now + 3_600,
            absolute_expires_at: self.now + 86_400,
            revoked_at: None,
            ip: Some("192.0.2.7".to_owned()),
            user_agent: Some("conformance".to_owned()),
        })
    }

    fn machine_token(&self, owner: &str, created_at: i64) -> Result<MachineTokenRecord, Failure> {
        Ok(MachineTokenRecord {
            id: new_id()?,
            owner_entity_id: owner.to_owned(),
            name: "ci".to_owned(),
            token_hash: format!("token-{}", new_id()?),
            scopes: r#"["messages:read"]"#.to_owned(),
            channel_id: None,
            agent_id: None,
            created_at,
            expires_at: self.now + 3_600,
            last_used_at: None,
            revoked_at: None,
        })
    }

    fn channel(&self, creator: &str, created_at: i64) -> Result<ChannelRecord, Failure> {
        Ok(ChannelRecord {
            id: new_id()?,
            name: "conformance".to_owned(),
            channel_type: "public".to_owned(),
            creator_entity_id: creator.to_owned(),
            dm_key: None,
            created_at,
        })
    }

    async fn identity_email_unique(&self) -> Outcome {
        let (a, b) = (Self::tenant(&self.a), Self::tenant(&self.b));
        let email = self.unique_email()?;
        let first = self.identity("user", Some(email.clone()))?;
        let second = self.identity("user", Some(email.clone()))?;
        expect_eq(
            "first insert",
            self.store.insert_identity(&a, &first).await?,
            true,
        )?;
        expect_eq(
            "duplicate email",
            self.store.insert_identity(&a, &second).await?,
            false,
        )?;
        let found = self.store.identity_by_email(&a, &email).await?;
        expect_eq("lookup by email", found.map(|i| i.id), Some(first.id))?;
        let lost = self
            .store
            .identity(&Self::entity(&self.a, &second.id))
            .await?;
        expect_eq("the refused identity", lost.map(|i| i.id), None)?;
        let elsewhere = self.identity("user", Some(email))?;
        expect_eq(
            "same email, other tenant",
            self.store.insert_identity(&b, &elsewhere).await?,
            true,
        )
    }

    async fn identity_one_owner_race(&self) -> Outcome {
        let a = Self::tenant(&self.a);
        expect_eq(
            "owner before setup",
            self.store.owner_exists(&a).await?,
            false,
        )?;
        let owners = (0..4)
            .map(|_| self.identity("owner", Some(self.unique_email()?)))
            .collect::<Result<Vec<_>, Failure>>()?;
        let inserted = join_all(owners.iter().map(|o| self.store.insert_identity(&a, o))).await;
        let mut winners = 0;
        for r in inserted {
            winners += usize::from(r?);
        }
        expect_eq("concurrent owner inserts that won", winners, 1)?;
        expect_eq(
            "owner after setup",
            self.store.owner_exists(&a).await?,
            true,
        )?;
        let b = Self::tenant(&self.b);
        expect_eq(
            "owner in the other tenant",
            self.store.owner_exists(&b).await?,
            false,
        )
    }

    async fn identity_scoped_to_tenant(&self) -> Outcome {
        let a = Self::tenant(&self.a);
        let email = self.unique_email()?;
        let user = self.identity("user", Some(email.clone()))?;
        expect_eq("insert", self.store.insert_identity(&a, &user).await?, true)?;
        let read = self
            .store
            .identity(&Self::entity(&self.a, &user.id))
            .await?;
        expect_eq(
            "read back",
            read.map(|i| (i.id, i.email, i.kind)),
            Some((user.id.clone(), Some(email.clone()), "user".to_owned())),
        )?;
        let other = self
            .store
            .identity(&Self::entity(&self.b, &user.id))
            .await?;
        expect_eq("by id from the other tenant", other.map(|i| i.id), None)?;
        let by_email = self
            .store
            .identity_by_email(&Self::tenant(&self.b), &email)
            .await?;
        expect_eq(
            "by email from the other tenant",
            by_email.map(|i| i.id),
            None,
        )
    }

    async fn owner_login_and_password(&self) -> Outcome {
        let b = Self::tenant(&self.b);
        let owner = self.identity("owner", Some(self.unique_email()?))?;
        expect_eq(
            "insert owner",
            self.store.insert_identity(&b, &owner).await?,
            true,
        )?;
        expect_eq(
            "login before a password",
            self.store.owner_has_login(&b).await?,
            false,
        )?;
        let scope = Self::entity(&self.b, &owner.id);
        self.store
            .set_password_hash(&scope, "$argon2id$conformance")
            .await?;
        expect_eq(
            "login after a password",
            self.store.owner_has_login(&b).await?,
            true,
        )?;
        let read = self.store.identity(&scope).await?;
        expect_eq(
            "stored hash",
            read.and_then(|i| i.password_hash),
            Some("$argon2id$conformance".to_owned()),
        )
    }

    async fn session_lookup_and_scoping(&self) -> Outcome {
        let (alice, bob) = (new_id()?, new_id()?);
        let alice_scope = Self::entity(&self.a, &alice);
        let s = self.session(&alice, self.now)?;
        self.store.insert_session(&alice_scope, &s).await?;
        self.store
            .insert_session(&Self::entity(&self.a, &bob), &self.session(&bob, self.now)?)
            .await?;
        let read = self
            .store
            .session_by_hash(&Self::tenant(&self.a), &s.id_hash)
            .await?;
        let read = read.ok_or_else(|| Failure("session not found by hash".into()))?;
        expect_eq("entity", read.entity_id.as_str(), alice.as_str())?;
        expect_eq("csrf hash", read.csrf_hash.as_deref(), Some("csrf-hash"))?;
        expect_eq("remember device", read.remember_device, 1)?;
        expect_eq(
            "absolute expiry",
            read.absolute_expires_at,
            s.absolute_expires_at,
        )?;
        let leaked = self
            .store
            .session_by_hash(&Self::tenant(&self.b), &s.id_hash)
            .await?;
        expect_eq(
            "by hash from the other tenant",
            leaked.map(|s| s.id_hash),
            None,
        )?;
        let listed = self.store.sessions(&alice_scope).await?;
        expect_eq(
            "alice's sessions",
            listed.into_iter().map(|s| s.id_hash).collect::<Vec<_>>(),
            vec![s.id_hash],
        )
    }

    async fn session_touch(&self) -> Outcome {
        let (alice, bob) = (new_id()?, new_id()?);
        let s = self.session(&alice, self.now)?;
        self.store
            .insert_session(&Self::entity(&self.a, &alice), &s)
            .await?;
        self.store
            .touch_session(
                &Self::entity(&self.a, &bob),
                &s.id_hash,
                self.now + 50,
                self.now + 9_000,
            )
            .await?;
        let untouched = self
            .store
            .session_by_hash(&Self::tenant(&self.a), &s.id_hash)
            .await?;
        expect_eq(
            "touched by another entity",
            untouched.map(|s| s.last_seen_at),
            Some(self.now),
        )?;
        self.store
            .touch_session(
                &Self::entity(&self.a, &alice),
                &s.id_hash,
                self.now + 60,
                self.now + 7_200,
            )
            .await?;
        let touched = self
            .store
            .session_by_hash(&Self::tenant(&self.a), &s.id_hash)
            .await?;
        expect_eq(
            "touched",
            touched.map(|s| (s.last_seen_at, s.expires_at)),
            Some((self.now + 60, self.now + 7_200)),
        )
    }

    async fn session_revoke(&self) -> Outcome {
        let (alice, bob) = (new_id()?, new_id()?);
        let alice_scope = Self::entity(&self.a, &alice);
        let sessions = (0..3)
            .map(|i| self.session(&alice, self.now + i))
            .collect::<Result<Vec<_>, Failure>>()?;
        for s in &sessions {
            self.store.insert_session(&alice_scope, s).await?;
        }
        let bob_scope = Self::entity(&self.a, &bob);
        expect_eq(
            "revoked by another entity",
            self.store
                .revoke_session(&bob_scope, &sessions[0].id_hash, self.now)
                .await?,
            false,
        )?;
        expect_eq(
            "revoked by its owner",
            self.store
                .revoke_session(&alice_scope, &sessions[0].id_hash, self.now)
                .await?,
            true,
        )?;
        expect_eq(
            "revoked twice",
            self.store
                .revoke_session(&alice_scope, &sessions[0].id_hash, self.now)
                .await?,
            false,
        )?;
        let read = self
            .store
            .session_by_hash(&Self::tenant(&self.a), &sessions[0].id_hash)
            .await?;
        expect_eq(
            "revoked_at",
            read.and_then(|s| s.revoked_at),
            Some(self.now),
        )?;
        let mut others = self
            .store
            .revoke_sessions_except(&alice_scope, Some(&sessions[2].id_hash), self.now)
            .await?;
        others.sort();
        expect_eq(
            "revoked all but one",
            others,
            vec![sessions[1].id_hash.clone()],
        )?;
        let left = self.store.sessions(&alice_scope).await?;
        expect_eq(
            "active sessions",
            left.into_iter().map(|s| s.id_hash).collect::<Vec<_>>(),
            vec![sessions[2].id_hash.clone()],
        )
    }

    async fn machine_token_lookup_and_list(&self) -> Outcome {
        let (owner, other) = (new_id()?, new_id()?);
        let scope = Self::entity(&self.a, &owner);
        let older = MachineTokenRecord {
            agent_id: Some(new_id()?),
            ..self.machine_token(&owner, self.now - 10)?
        };
        let newer = self.machine_token(&owner, self.now)?;
        self.store.insert_machine_token(&scope, &older).await?;
        self.store.insert_machine_token(&scope, &newer).await?;
        self.store
            .insert_machine_token(
                &Self::entity(&self.a, &other),
                &self.machine_token(&other, self.now)?,
            )
            .await?;
        let found = self
            .store
            .machine_token_by_hash(&Self::tenant(&self.a), &older.token_hash)
            .await?;
        let found = found.ok_or_else(|| Failure("token not found by hash".into()))?;
        expect_eq("id", found.id.as_str(), older.id.as_str())?;
        expect_eq("owner", found.owner_entity_id.as_str(), owner.as_str())?;
        expect_eq("agent", found.agent_id, older.agent_id.clone())?;
        let scopes: serde_json::Value =
            serde_json::from_str(&found.scopes).map_err(|e| Failure(format!("scopes: {e}")))?;
        expect_eq("scopes", scopes, serde_json::json!(["messages:read"]))?;
        let leaked = self
            .store
            .machine_token_by_hash(&Self::tenant(&self.b), &older.token_hash)
            .await?;
        expect_eq("by hash from the other tenant", leaked.map(|t| t.id), None)?;
        let listed = self.store.machine_tokens(&scope).await?;
        expect_eq(
            "owner's tokens, newest first",
            listed.into_iter().map(|t| t.id).collect::<Vec<_>>(),
            vec![newer.id, older.id],
        )
    }

    async fn machine_token_rotate_revoke(&self) -> Outcome {
        let (owner, other) = (new_id()?, new_id()?);
        let scope = Self::entity(&self.a, &owner);
        let other_scope = Self::entity(&self.a, &other);
        let token = self.machine_token(&owner, self.now)?;
        self.store.insert_machine_token(&scope, &token).await?;
        let new_hash = format!("token-{}", new_id()?);
        expect_eq(
            "rotated by another entity",
            self.store
                .rotate_machine_token(&other_scope, &token.id, &new_hash, self.now)
                .await?,
            false,
        )?;
        expect_eq(
            "rotated with a malformed id",
            self.store
                .rotate_machine_token(&scope, "not-an-id", &new_hash, self.now)
                .await?,
            false,
        )?;
        expect_eq(
            "rotated by its owner",
            self.store
                .rotate_machine_token(&scope, &token.id, &new_hash, self.now)
                .await?,
            true,
        )?;
        let tenant = Self::tenant(&self.a);
        let old = self
            .store
            .machine_token_by_hash(&tenant, &token.token_hash)
            .await?;
        expect_eq("old secret after rotation", old.map(|t| t.id), None)?;
        let new = self.store.machine_token_by_hash(&tenant, &new_hash).await?;
        expect_eq(
            "new secret after rotation",
            new.map(|t| t.id),
            Some(token.id.clone()),
        )?;
        expect_eq(
            "revoked by another entity",
            self.store
                .revoke_machine_token(&other_scope, &token.id, self.now)
                .await?,
            false,
        )?;
        expect_eq(
            "revoked by its owner",
            self.store
                .revoke_machine_token(&scope, &token.id, self.now)
                .await?,
            true,
        )?;
        expect_eq(
            "revoked twice",
            self.store
                .revoke_machine_token(&scope, &token.id, self.now)
                .await?,
            false,
        )?;
        expect_eq(
            "rotated after revocation",
            self.store
                .rotate_machine_token(&scope, &token.id, "x", self.now)
                .await?,
            false,
        )?;
        let read = self.store.machine_token_by_hash(&tenant, &new_hash).await?;
        expect_eq(
            "revoked_at",
            read.and_then(|t| t.revoked_at),
            Some(self.now),
        )
    }

    async fn audit_pagination(&self) -> Outcome {
        let a = Self::tenant(&self.a);
        let actor = new_id()?;
        for ts in 1_000..1_005 {
            let event = AuditRecord {
                id: new_id()?,
                ts,
                actor_identity_id: Some(actor.clone()),
                ip: Some("192.0.2.7".to_owned()),
                user_agent: None,
                action: "auth.login".to_owned(),
                outcome: "success".to_owned(),
                metadata: format!(r#"{{"n":{ts}}}"#),
            };
            self.store.insert_audit(&a, &event).await?;
        }
        let page = self.store.audit_page(&a, None, 2).await?;
        expect_eq(
            "first page",
            page.iter().map(|e| e.ts).collect::<Vec<_>>(),
            vec![1_004, 1_003],
        )?;
        let metadata: serde_json::Value = serde_json::from_str(&page[0].metadata)
            .map_err(|e| Failure(format!("metadata: {e}")))?;
        expect_eq("metadata", metadata, serde_json::json!({ "n": 1_004 }))?;
        expect_eq(
            "actor",
            page[0].actor_identity_id.as_deref(),
            Some(actor.as_str()),
        )?;
        let next = self.store.audit_page(&a, Some(1_003), 2).await?;
        expect_eq(
            "second page",
            next.iter().map(|e| e.ts).collect::<Vec<_>>(),
            vec![1_002, 1_001],
        )?;
        let last = self.store.audit_page(&a, Some(1_001), 2).await?;
        expect_eq(
            "last page",
            last.iter().map(|e| e.ts).collect::<Vec<_>>(),
            vec![1_000],
        )?;
        let other = self
            .store
            .audit_page(&Self::tenant(&self.b), None, 200)
            .await?;
        expect_eq("the other tenant's log", other.len(), 0)
    }

    async fn bootstrap_jti_concurrent_claim(&self) -> Outcome {
        let a = Self::tenant(&self.a);
        let jti = new_id()?;
        let claims =
            join_all((0..6).map(|_| self.store.claim_jti(&a, &jti, self.now + 600, self.now)))
                .await;
        let mut won = 0;
        for claim in claims {
            won += usize::from(claim?);
        }
        expect_eq("concurrent claims that won", won, 1)?;
        expect_eq(
            "replay",
            self.store
                .claim_jti(&a, &jti, self.now + 600, self.now)
                .await?,
            false,
        )?;
        let b = Self::tenant(&self.b);
        expect_eq(
            "same jti, other tenant",
            self.store
                .claim_jti(&b, &jti, self.now + 600, self.now)
                .await?,
            true,
        )
    }

    async fn ws_ticket_single_use(&self) -> Outcome {
        let alice = new_id()?;
        let scope = Self::entity(&self.a, &alice);
        let grant = WsTicketGrant {
            entity_id: alice.clone(),
            channel_id: new_id()?,
            session_hash: Some("session-hash".to_owned()),
            expires_at: self.now + 30,
        };
        let ticket = format!("ticket-{}", new_id()?);
        self.store.insert_ticket(&scope, &ticket, &grant).await?;
        let b = Self::tenant(&self.b);
        let leaked = self.store.consume_ticket(&b, &ticket, self.now).await?;
        expect_eq(
            "used from the other tenant",
            leaked.map(|g| g.entity_id),
            None,
        )?;
        let a = Self::tenant(&self.a);
        let uses = join_all((0..4).map(|_| self.store.consume_ticket(&a, &ticket, self.now))).await;
        let mut granted = Vec::new();
        for used in uses {
            granted.extend(used?);
        }
        expect_eq("concurrent uses that got the grant", granted.len(), 1)?;
        let g = &granted[0];
        expect_eq(
            "grant",
            (
                g.entity_id.as_str(),
                g.channel_id.as_str(),
                g.session_hash.as_deref(),
                g.expires_at,
            ),
            (
                alice.as_str(),
                grant.channel_id.as_str(),
                Some("session-hash"),
                grant.expires_at,
            ),
        )?;
        let again = self.store.consume_ticket(&a, &ticket, self.now).await?;
        expect_eq("second use", again.map(|g| g.entity_id), None)?;
        let late = format!("ticket-{}", new_id()?);
        self.store.insert_ticket(&scope, &late, &grant).await?;
        let expired = self
            .store
            .consume_ticket(&a, &late, grant.expires_at + 1)
            .await?;
        expect_eq("use after expiry", expired.map(|g| g.entity_id), None)
    }

    async fn channel_participants(&self) -> Outcome {
        let (alice, bob, carol, dave) = (new_id()?, new_id()?, new_id()?, new_id()?);
        let alice_scope = Self::entity(&self.a, &alice);
        let channel = self.channel(&alice, self.now)?;
        self.store
            .create_channel(
                &alice_scope,
                &channel,
                std::slice::from_ref(&bob),
                std::slice::from_ref(&dave),
                self.now,
            )
            .await?;
        let a = Self::tenant(&self.a);
        let read = self.store.channel(&a, &channel.id).await?;
        expect_eq(
            "read back",
            read.map(|c| (c.id, c.creator_entity_id, c.channel_type)),
            Some((channel.id.clone(), alice.clone(), "public".to_owned())),
        )?;
        let leaked = self
            .store
            .channel(&Self::tenant(&self.b), &channel.id)
            .await?;
        expect_eq("from the other tenant", leaked.map(|c| c.id), None)?;
        let mut members = self.store.participants(&a, &channel.id).await?;
        members.sort();
        let mut want = vec![alice.clone(), bob.clone()];
        want.sort();
        expect_eq("participants", members, want)?;
        let carol_scope = Self::entity(&self.a, &carol);
        expect_eq(
            "carol before joining",
            self.store.is_participant(&carol_scope, &channel.id).await?,
            false,
        )?;
        // An invitation is not participation until the invitee accepts it.
        let dave_scope = Self::entity(&self.a, &dave);
        expect_eq(
            "dave invited",
            self.store.is_participant(&dave_scope, &channel.id).await?,
            false,
        )?;
        expect_eq(
            "dave's channels while invited",
            self.store.channels_of(&dave_scope, None, 10).await?.len(),
            0,
        )?;
        expect_eq(
            "carol accepts without an invitation",
            self.store
                .accept_invitation(&carol_scope, &channel.id, self.now)
                .await?,
            false,
        )?;
        expect_eq(
            "dave accepts",
            self.store
                .accept_invitation(&dave_scope, &channel.id, self.now)
                .await?,
            true,
        )?;
        expect_eq(
            "dave accepts twice",
            self.store
                .accept_invitation(&dave_scope, &channel.id, self.now)
                .await?,
            false,
        )?;
        expect_eq(
            "dave after accepting",
            self.store.is_participant(&dave_scope, &channel.id).await?,
            true,
        )?;
        expect_eq(
            "dave leaves",
            self.store
                .remove_participant(&a, &channel.id, &dave)
                .await?,
            true,
        )?;
        self.store
            .add_participant(&a, &channel.id, &carol, Membership::Invited, self.now)
            .await?;
        expect_eq(
            "carol invited",
            self.store.is_participant(&carol_scope, &channel.id).await?,
            false,
        )?;
        self.store
            .accept_invitation(&carol_scope, &channel.id, self.now)
            .await?;
        self.store
            .add_participant(&a, &channel.id, &carol, Membership::Member, self.now)
            .await?;
        expect_eq(
            "carol after joining",
            self.store.is_participant(&carol_scope, &channel.id).await?,
            true,
        )?;
        expect_eq(
            "participants after a repeated add",
            self.store.participants(&a, &channel.id).await?.len(),
            3,
        )?;
        expect_eq(
            "bob removed",
            self.store.remove_participant(&a, &channel.id, &bob).await?,
            true,
        )?;
        expect_eq(
            "bob removed twice",
            self.store.remove_participant(&a, &channel.id, &bob).await?,
            false,
        )?;
        let bob_scope = Self::entity(&self.a, &bob);
        expect_eq(
            "bob after removal",
            self.store.is_participant(&bob_scope, &channel.id).await?,
            false,
        )?;
        let other_tenant_alice = Self::entity(&self.b, &alice);
        expect_eq(
            "alice in the other tenant",
            self.store
                .is_participant(&other_tenant_alice, &channel.id)
                .await?,
            false,
        )
    }

    async fn channel_pagination(&self) -> Outcome {
        let (alice, bob) = (new_id()?, new_id()?);
        let scope = Self::entity(&self.a, &alice);
        let mut ids = Vec::new();
        for created_at in [100, 200, 300] {
            let channel = self.channel(&alice, created_at)?;
            self.store
                .create_channel(&scope, &channel, &[], &[], self.now)
                .await?;
            ids.push(channel.id);
        }
        let bob_channel = self.channel(&bob, 400)?;
        self.store
            .create_channel(
                &Self::entity(&self.a, &bob),
                &bob_channel,
                &[],
                &[],
                self.now,
            )
            .await?;
        let first = self.store.channels_of(&scope, None, 2).await?;
        expect_eq(
            "first page",
            first.into_iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![ids[2].clone(), ids[1].clone()],
        )?;
        let next = self.store.channels_of(&scope, Some(200), 2).await?;
        expect_eq(
            "second page",
            next.into_iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![ids[0].clone()],
        )?;
        let other = self
            .store
            .channels_of(&Self::entity(&self.b, &alice), None, 200)
            .await?;
        expect_eq("alice's channels in the other tenant", other.len(), 0)
    }

    async fn dm_channel_idempotent(&self) -> Outcome {
        let (alice, bob) = (new_id()?, new_id()?);
        let scope = Self::entity(&self.a, &alice);
        let mut pair = [alice.clone(), bob.clone()];
        pair.sort();
        let dm_key = pair.join(":");
        let candidates = (0..4)
            .map(|_| {
                Ok(ChannelRecord {
                    channel_type: "dm".to_owned(),
                    dm_key: Some(dm_key.clone()),
                    ..self.channel(&alice, self.now)?
                })
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        let made = join_all(
            candidates
                .iter()
                .map(|c| self.store.dm_channel(&scope, c, &bob, self.now)),
        )
        .await;
        let mut ids = Vec::new();
        for channel in made {
            ids.push(channel?.id);
        }
        ids.dedup();
        expect_eq("distinct channels from concurrent calls", ids.len(), 1)?;
        let again = self
            .store
            .dm_channel(
                &scope,
                &self.channel(&alice, self.now).map(|c| ChannelRecord {
                    dm_key: Some(dm_key.clone()),
                    ..c
                })?,
                &bob,
                self.now,
            )
            .await?;
        expect_eq("a later call", again.id.as_str(), ids[0].as_str())?;
        let mut members = self
            .store
            .participants(&Self::tenant(&self.a), &ids[0])
            .await?;
        members.sort();
        expect_eq("participants", members, pair.to_vec())?;
        let found = self.store.find_dm_channel(&scope, &dm_key).await?;
        expect_eq("found by key", found.map(|c| c.id), Some(ids[0].clone()))?;
        let stranger = Self::entity(&self.a, &new_id()?);
        let found = self.store.find_dm_channel(&stranger, &dm_key).await?;
        expect_eq("found by a stranger", found.map(|c| c.id), None)
    }
}
