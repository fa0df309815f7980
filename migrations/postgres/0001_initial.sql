-- agentgate schema v1 (PostgreSQL, reached through Hyperdrive), with
-- row-level security. The same tables, columns and keys as
-- migrations/d1/0001_initial.sql; the repositories map 1:1
-- (worker/src/storage/pg/).
--
-- Who runs this: the database OWNER role (scripts/pg.sh uses
-- `agentgate_owner`: LOGIN CREATEROLE, not a superuser), with
-- `psql -v ON_ERROR_STOP=1 -f`, once per start of the test/dev cluster and
-- before every deploy. The worker never runs migrations: it connects as
-- `agentgate_app`, which owns nothing and has no DDL rights.
--
-- Idempotent: every statement is IF NOT EXISTS, CREATE OR REPLACE, or
-- DROP POLICY IF EXISTS + CREATE POLICY, and the whole file is one
-- transaction under an advisory lock, so re-running it (also concurrently)
-- converges on exactly this schema and never leaves a table without its
-- policies, even for an instant.
--
-- Types:
--   * ids (tenant, identities, entities, channels, tokens, agents) are `uuid`;
--     hashes, jti, dm keys, emails and PHC strings stay `text`.
--   * times are `bigint` unix SECONDS (audit_events.ts: unix MILLISECONDS),
--     exactly as in D1, not timestamptz: the repository code, the records and
--     the wire format use integer seconds, so both back ends store, compare
--     and page by the same numbers (`WHERE created_at < $before`), with no
--     time-zone or rounding conversion in either direction.
--   * flags are `boolean` (D1: INTEGER 0/1; the repository converts).
--   * metadata, scopes and shared_with are `jsonb` (D1: JSON text), with a
--     CHECK on the JSON kind (object or array).
--
-- ---------------------------------------------------------------------------
-- Row-level security model
--
-- Every table has ENABLE and FORCE ROW LEVEL SECURITY (FORCE: the owner is
-- subject to the policies too; only a superuser bypasses them). The worker
-- opens a transaction per unit of work and first runs, with bound
-- parameters,
--
--   SELECT set_config('app.server_id',       $1, true),  -- the tenant
--          set_config('app.entity_id',       $2, true),  -- '' = tenant level
--          set_config('app.credential_hash', $3, true),  -- '' unless a lookup
--          set_config('app.login_email',     $4, true);  -- '' unless a login
--
-- (`true` = SET LOCAL: the values vanish at COMMIT/ROLLBACK, so a pooled
-- connection never carries one request's identity into the next).
--
-- 1. Tenant: on every table a RESTRICTIVE policy `<table>_tenant`
--    `server_id = current_server_id()` for every command, reads and writes
--    (USING and WITH CHECK). Restrictive policies are AND-ed with everything
--    else, so no other policy can ever widen access beyond the tenant.
--    `current_server_id()` is `NULLIF(current_setting('app.server_id', true),
--    '')::uuid`: a missing OR reset setting is NULL, `server_id = NULL` is
--    never true, so without app.server_id every query sees and changes
--    nothing (the NULLIF matters: after a SET LOCAL transaction ends the
--    setting reads back as '' on that connection, not as missing).
--
-- 2. Restrictive policies grant nothing by themselves: access needs at least
--    one PERMISSIVE policy. These come in two kinds.
--
--    a. Entity policies (app.entity_id set, an EntityScope in the worker):
--       rows that belong to `current_entity_id()`:
--         identities.id, sessions.entity_id, machine_tokens.owner_entity_id,
--         api_keys.owner_entity_id, owner_bindings.identity_id,
--         audit_events.actor_identity_id (read), ws_tickets.entity_id,
--         channel_participants.entity_id (one's own memberships),
--         channels (created by, or with a membership row of, the entity),
--         agents (owned by, or shared with, the entity).
--
--    b. Tenant-level policies (app.entity_id unset: a TenantScope in the
--       worker, i.e. before an entity is known, or an operation on the
--       tenant as a whole). Tenant level is NOT "see the whole tenant": it
--       sees nothing except through these explicitly named policies, each
--       requiring `current_entity_id() IS NULL` and, where the flow presents
--       a key, keyed to it:
--         identities_login_by_email     SELECT the identity whose email is
--                                       app.login_email (password login)
--         identities_owner_probe        SELECT rows of kind 'owner'
--                                       ("does an owner exist", first run)
--         identities_register           INSERT (setup / registration)
--         sessions_lookup_by_hash       SELECT the session whose id_hash is
--                                       app.credential_hash (cookie check)
--         machine_tokens_lookup_by_hash SELECT by app.credential_hash
--         api_keys_lookup_by_hash       SELECT by app.credential_hash
--         ws_tickets_consume_read       SELECT the ticket app.credential_hash
--         ws_tickets_consume            UPDATE it only from unused to used
--         bootstrap_jti_claim           INSERT (the replay check is the PK)
--         bootstrap_jti_read            SELECT (needed to DELETE ... WHERE)
--         bootstrap_jti_expire          DELETE only rows already expired by
--                                       the database clock (so no unexpired
--                                       jti can be forgotten and replayed)
--         audit_events_append           INSERT (audit rows of pre-auth
--                                       events; no UPDATE/DELETE anywhere)
--         audit_events_tenant_read      SELECT (the owner's audit page; the
--                                       route requires the permission)
--         channels_tenant_read          SELECT (channel metadata by id)
--         channel_participants_tenant_manage  SELECT/INSERT/DELETE (room
--                                       participant lists; the route checks
--                                       the caller is the channel's creator)
--
-- 3. Grants bound the commands: `agentgate_app` gets only the privileges the
--    repositories use (column-level UPDATE where only some columns change;
--    audit_events is INSERT + SELECT only: append-only for the app).
--
-- The helpers are plain SQL functions (no SECURITY DEFINER: nothing here
-- runs with more rights than the caller), STABLE and therefore inlined into
-- the policy expressions by the planner, so index scans on
-- (server_id, ...) still apply.
-- ---------------------------------------------------------------------------

BEGIN;

-- Serialise concurrent runs of this file (two deploys, two test clusters
-- sharing a database). The key is arbitrary but fixed.
SELECT pg_advisory_xact_lock(7263540018830301);

-- The worker's role: LOGIN (its password is set by whoever provisions the
-- database, never here), not a superuser, cannot create roles or databases,
-- and above all no BYPASSRLS. It owns nothing.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agentgate_app') THEN
    CREATE ROLE agentgate_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
      NOREPLICATION NOBYPASSRLS NOINHERIT;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'agentgate_app'
             AND (rolsuper OR rolbypassrls)) THEN
    RAISE EXCEPTION 'agentgate_app must be neither superuser nor BYPASSRLS';
  END IF;
  IF pg_has_role('agentgate_app', current_user, 'MEMBER') THEN
    RAISE EXCEPTION 'agentgate_app must not be a member of the owner role %',
      current_user;
  END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- Helpers: the request's scope, NULL when unset or reset.

CREATE OR REPLACE FUNCTION public.current_server_id() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('app.server_id', true), '')::uuid $$;

CREATE OR REPLACE FUNCTION public.current_entity_id() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('app.entity_id', true), '')::uuid $$;

CREATE OR REPLACE FUNCTION public.current_credential_hash() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('app.credential_hash', true), '') $$;

CREATE OR REPLACE FUNCTION public.current_login_email() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('app.login_email', true), '') $$;

-- ---------------------------------------------------------------------------
-- Tables (as in D1).

CREATE TABLE IF NOT EXISTS identities (
  id            uuid PRIMARY KEY,               -- uuid v7
  server_id     uuid NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('owner', 'machine', 'user')),
  display_name  text NOT NULL,
  email         text,                           -- case-folded
  password_hash text,                           -- argon2id PHC string
  cloud_user_id text,
  is_admin      boolean NOT NULL DEFAULT false,
  tier          text NOT NULL DEFAULT 'standard',
  created_at    bigint NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS identities_server_email ON identities (server_id, email) WHERE email IS NOT NULL;
CREATE INDEX IF NOT EXISTS identities_server_kind ON identities (server_id, kind);

CREATE TABLE IF NOT EXISTS sessions (
  id_hash              text PRIMARY KEY,        -- SHA-256 of the cookie value
  server_id            uuid NOT NULL,
  identity_id          uuid NOT NULL,
  entity_id            uuid NOT NULL,
  kind                 text NOT NULL CHECK (kind IN ('browser', 'machine', 'bootstrap')),
  csrf_hash            text,
  remember_device      boolean NOT NULL DEFAULT false,
  created_at           bigint NOT NULL,
  last_seen_at         bigint NOT NULL,
  expires_at           bigint NOT NULL,
  absolute_expires_at  bigint NOT NULL,
  revoked_at           bigint,
  ip                   text,
  user_agent           text
);
CREATE INDEX IF NOT EXISTS sessions_server_entity ON sessions (server_id, entity_id);

CREATE TABLE IF NOT EXISTS machine_tokens (
  id              uuid PRIMARY KEY,
  server_id       uuid NOT NULL,
  owner_entity_id uuid NOT NULL,
  name            text NOT NULL,
  token_hash      text NOT NULL,
  scopes          jsonb NOT NULL CHECK (jsonb_typeof(scopes) = 'array'),
  channel_id      uuid,                         -- optional restriction to one channel
  created_at      bigint NOT NULL,
  expires_at      bigint NOT NULL,
  last_used_at    bigint,
  revoked_at      bigint
);
CREATE UNIQUE INDEX IF NOT EXISTS machine_tokens_server_hash ON machine_tokens (server_id, token_hash);
CREATE INDEX IF NOT EXISTS machine_tokens_server_owner ON machine_tokens (server_id, owner_entity_id);

CREATE TABLE IF NOT EXISTS api_keys (
  id              uuid PRIMARY KEY,
  server_id       uuid NOT NULL,
  owner_entity_id uuid NOT NULL,
  name            text NOT NULL,
  key_hash        text NOT NULL,
  scopes          jsonb NOT NULL CHECK (jsonb_typeof(scopes) = 'array'),
  created_at      bigint NOT NULL,
  revoked_at      bigint
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_server_hash ON api_keys (server_id, key_hash);

CREATE TABLE IF NOT EXISTS owner_bindings (
  id            uuid PRIMARY KEY,
  server_id     uuid NOT NULL,
  identity_id   uuid NOT NULL,
  connector     text NOT NULL,                  -- e.g. discord, telegram, cloud
  external_id   text NOT NULL,
  verified_at   bigint,
  created_at    bigint NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS owner_bindings_server_connector ON owner_bindings (server_id, connector, external_id);

CREATE TABLE IF NOT EXISTS audit_events (
  id                 uuid PRIMARY KEY,
  ts                 bigint NOT NULL,           -- unix milliseconds
  server_id          uuid NOT NULL,
  actor_identity_id  uuid,
  ip                 text,
  user_agent         text,
  action             text NOT NULL,
  outcome            text NOT NULL CHECK (outcome IN ('success', 'failure')),
  metadata           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object')
);
CREATE INDEX IF NOT EXISTS audit_events_server_ts ON audit_events (server_id, ts DESC, id);
CREATE INDEX IF NOT EXISTS audit_events_server_actor ON audit_events (server_id, actor_identity_id);

CREATE TABLE IF NOT EXISTS bootstrap_jti_seen (
  server_id   uuid NOT NULL,
  jti         text NOT NULL,
  expires_at  bigint NOT NULL,
  seen_at     bigint NOT NULL,
  PRIMARY KEY (server_id, jti)                  -- the insert is the replay check
);
CREATE INDEX IF NOT EXISTS bootstrap_jti_seen_expiry ON bootstrap_jti_seen (expires_at);

CREATE TABLE IF NOT EXISTS ws_tickets (
  ticket_hash  text PRIMARY KEY,
  server_id    uuid NOT NULL,
  entity_id    uuid NOT NULL,
  channel_id   uuid NOT NULL,
  session_hash text,
  expires_at   bigint NOT NULL,
  used_at      bigint
);

CREATE TABLE IF NOT EXISTS channels (
  id                uuid PRIMARY KEY,
  server_id         uuid NOT NULL,
  name              text NOT NULL,
  type              text NOT NULL CHECK (type IN ('public', 'private', 'dm')),
  creator_entity_id uuid NOT NULL,
  dm_key            text,                       -- set for dm channels: unique per pair
  created_at        bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS channels_server ON channels (server_id, created_at);
CREATE UNIQUE INDEX IF NOT EXISTS channels_server_dm ON channels (server_id, dm_key) WHERE dm_key IS NOT NULL;

CREATE TABLE IF NOT EXISTS channel_participants (
  channel_id  uuid NOT NULL,
  entity_id   uuid NOT NULL,
  server_id   uuid NOT NULL,
  role        text NOT NULL DEFAULT 'member',
  added_at    bigint NOT NULL,
  PRIMARY KEY (channel_id, entity_id)
);
CREATE INDEX IF NOT EXISTS channel_participants_server_entity ON channel_participants (server_id, entity_id);

CREATE TABLE IF NOT EXISTS agents (
  id               uuid PRIMARY KEY,
  server_id        uuid NOT NULL,
  name             text NOT NULL,
  owner_entity_id  uuid NOT NULL,
  shared_with      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(shared_with) = 'array'), -- entity ids
  status           text NOT NULL DEFAULT 'stopped',
  created_at       bigint NOT NULL,
  updated_at       bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS agents_server_owner ON agents (server_id, owner_entity_id);

-- ---------------------------------------------------------------------------
-- Row-level security: on, forced, and the restrictive tenant policy on every
-- table. (The list is every table above; a table added later must be added
-- here, and tests/tests/postgres_rls.rs checks that no table in the schema
-- lacks FORCE ROW LEVEL SECURITY or its tenant policy.)

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'identities', 'sessions', 'machine_tokens', 'api_keys', 'owner_bindings',
    'audit_events', 'bootstrap_jti_seen', 'ws_tickets', 'channels',
    'channel_participants', 'agents'
  ] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS %I ON %I', t || '_tenant', t);
    EXECUTE format(
      'CREATE POLICY %I ON %I AS RESTRICTIVE FOR ALL '
      'USING (server_id = current_server_id()) '
      'WITH CHECK (server_id = current_server_id())',
      t || '_tenant', t);
  END LOOP;
END
$$;

-- identities -------------------------------------------------------------

DROP POLICY IF EXISTS identities_self ON identities;
CREATE POLICY identities_self ON identities FOR ALL
  USING (id = current_entity_id())
  WITH CHECK (id = current_entity_id());

DROP POLICY IF EXISTS identities_login_by_email ON identities;
CREATE POLICY identities_login_by_email ON identities FOR SELECT
  USING (current_entity_id() IS NULL AND email = current_login_email());

DROP POLICY IF EXISTS identities_owner_probe ON identities;
CREATE POLICY identities_owner_probe ON identities FOR SELECT
  USING (current_entity_id() IS NULL AND kind = 'owner');

DROP POLICY IF EXISTS identities_register ON identities;
CREATE POLICY identities_register ON identities FOR INSERT
  WITH CHECK (current_entity_id() IS NULL);

-- sessions -----------------------------------------------------------------

DROP POLICY IF EXISTS sessions_own ON sessions;
CREATE POLICY sessions_own ON sessions FOR ALL
  USING (entity_id = current_entity_id())
  WITH CHECK (entity_id = current_entity_id());

DROP POLICY IF EXISTS sessions_lookup_by_hash ON sessions;
CREATE POLICY sessions_lookup_by_hash ON sessions FOR SELECT
  USING (current_entity_id() IS NULL AND id_hash = current_credential_hash());

-- machine_tokens / api_keys ---------------------------------------------------

DROP POLICY IF EXISTS machine_tokens_own ON machine_tokens;
CREATE POLICY machine_tokens_own ON machine_tokens FOR ALL
  USING (owner_entity_id = current_entity_id())
  WITH CHECK (owner_entity_id = current_entity_id());

DROP POLICY IF EXISTS machine_tokens_lookup_by_hash ON machine_tokens;
CREATE POLICY machine_tokens_lookup_by_hash ON machine_tokens FOR SELECT
  USING (current_entity_id() IS NULL AND token_hash = current_credential_hash());

DROP POLICY IF EXISTS api_keys_own ON api_keys;
CREATE POLICY api_keys_own ON api_keys FOR ALL
  USING (owner_entity_id = current_entity_id())
  WITH CHECK (owner_entity_id = current_entity_id());

DROP POLICY IF EXISTS api_keys_lookup_by_hash ON api_keys;
CREATE POLICY api_keys_lookup_by_hash ON api_keys FOR SELECT
  USING (current_entity_id() IS NULL AND key_hash = current_credential_hash());

-- owner_bindings ---------------------------------------------------------------

DROP POLICY IF EXISTS owner_bindings_own ON owner_bindings;
CREATE POLICY owner_bindings_own ON owner_bindings FOR ALL
  USING (identity_id = current_entity_id())
  WITH CHECK (identity_id = current_entity_id());

-- audit_events (append-only for the app: no UPDATE or DELETE policy or grant) --

DROP POLICY IF EXISTS audit_events_own ON audit_events;
CREATE POLICY audit_events_own ON audit_events FOR SELECT
  USING (actor_identity_id = current_entity_id());

DROP POLICY IF EXISTS audit_events_append ON audit_events;
CREATE POLICY audit_events_append ON audit_events FOR INSERT
  WITH CHECK (current_entity_id() IS NULL OR actor_identity_id = current_entity_id());

DROP POLICY IF EXISTS audit_events_tenant_read ON audit_events;
CREATE POLICY audit_events_tenant_read ON audit_events FOR SELECT
  USING (current_entity_id() IS NULL);

-- bootstrap_jti_seen (tenant level only) ---------------------------------------

DROP POLICY IF EXISTS bootstrap_jti_claim ON bootstrap_jti_seen;
CREATE POLICY bootstrap_jti_claim ON bootstrap_jti_seen FOR INSERT
  WITH CHECK (current_entity_id() IS NULL);

DROP POLICY IF EXISTS bootstrap_jti_read ON bootstrap_jti_seen;
CREATE POLICY bootstrap_jti_read ON bootstrap_jti_seen FOR SELECT
  USING (current_entity_id() IS NULL);

DROP POLICY IF EXISTS bootstrap_jti_expire ON bootstrap_jti_seen;
CREATE POLICY bootstrap_jti_expire ON bootstrap_jti_seen FOR DELETE
  USING (current_entity_id() IS NULL
         AND expires_at < floor(extract(epoch FROM statement_timestamp()))::bigint);

-- ws_tickets -------------------------------------------------------------------

DROP POLICY IF EXISTS ws_tickets_own ON ws_tickets;
CREATE POLICY ws_tickets_own ON ws_tickets FOR ALL
  USING (entity_id = current_entity_id())
  WITH CHECK (entity_id = current_entity_id());

DROP POLICY IF EXISTS ws_tickets_consume_read ON ws_tickets;
CREATE POLICY ws_tickets_consume_read ON ws_tickets FOR SELECT
  USING (current_entity_id() IS NULL AND ticket_hash = current_credential_hash());

DROP POLICY IF EXISTS ws_tickets_consume ON ws_tickets;
CREATE POLICY ws_tickets_consume ON ws_tickets FOR UPDATE
  USING (current_entity_id() IS NULL AND ticket_hash = current_credential_hash()
         AND used_at IS NULL)
  WITH CHECK (ticket_hash = current_credential_hash() AND used_at IS NOT NULL);

-- channels / channel_participants -----------------------------------------------
-- channel_participants' policies never read `channels` (channels' member policy
-- reads channel_participants; the reverse would be infinite policy recursion).

DROP POLICY IF EXISTS channels_member_read ON channels;
CREATE POLICY channels_member_read ON channels FOR SELECT
  USING (creator_entity_id = current_entity_id()
         OR EXISTS (SELECT 1 FROM channel_participants p
                    WHERE p.channel_id = channels.id
                      AND p.entity_id = current_entity_id()));

DROP POLICY IF EXISTS channels_create ON channels;
CREATE POLICY channels_create ON channels FOR INSERT
  WITH CHECK (creator_entity_id = current_entity_id());

DROP POLICY IF EXISTS channels_tenant_read ON channels;
CREATE POLICY channels_tenant_read ON channels FOR SELECT
  USING (current_entity_id() IS NULL);

DROP POLICY IF EXISTS channel_participants_own ON channel_participants;
CREATE POLICY channel_participants_own ON channel_participants FOR SELECT
  USING (entity_id = current_entity_id());

DROP POLICY IF EXISTS channel_participants_tenant_manage ON channel_participants;
CREATE POLICY channel_participants_tenant_manage ON channel_participants FOR ALL
  USING (current_entity_id() IS NULL)
  WITH CHECK (current_entity_id() IS NULL);

-- agents -----------------------------------------------------------------------

DROP POLICY IF EXISTS agents_own ON agents;
CREATE POLICY agents_own ON agents FOR ALL
  USING (owner_entity_id = current_entity_id())
  WITH CHECK (owner_entity_id = current_entity_id());

DROP POLICY IF EXISTS agents_shared_read ON agents;
CREATE POLICY agents_shared_read ON agents FOR SELECT
  USING (shared_with ? (current_entity_id()::text));

-- ---------------------------------------------------------------------------
-- Grants: only what the repositories use. Revoked first so a re-run also
-- takes back anything granted by hand.

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM agentgate_app;
REVOKE ALL ON SCHEMA public FROM agentgate_app;
GRANT USAGE ON SCHEMA public TO agentgate_app;
DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO agentgate_app', current_database());
END
$$;
GRANT EXECUTE ON FUNCTION current_server_id(), current_entity_id(),
  current_credential_hash(), current_login_email() TO agentgate_app;

GRANT SELECT, INSERT ON identities TO agentgate_app;
GRANT UPDATE (password_hash, display_name, email, cloud_user_id) ON identities TO agentgate_app;
GRANT SELECT, INSERT ON sessions TO agentgate_app;
GRANT UPDATE (last_seen_at, expires_at, revoked_at) ON sessions TO agentgate_app;
GRANT SELECT, INSERT ON machine_tokens TO agentgate_app;
GRANT UPDATE (last_used_at, revoked_at) ON machine_tokens TO agentgate_app;
GRANT SELECT, INSERT ON api_keys TO agentgate_app;
GRANT UPDATE (revoked_at) ON api_keys TO agentgate_app;
GRANT SELECT, INSERT, DELETE ON owner_bindings TO agentgate_app;
GRANT UPDATE (verified_at) ON owner_bindings TO agentgate_app;
GRANT SELECT, INSERT ON audit_events TO agentgate_app;
GRANT SELECT, INSERT, DELETE ON bootstrap_jti_seen TO agentgate_app;
GRANT SELECT, INSERT ON ws_tickets TO agentgate_app;
GRANT UPDATE (used_at) ON ws_tickets TO agentgate_app;
GRANT SELECT, INSERT ON channels TO agentgate_app;
GRANT SELECT, INSERT, DELETE ON channel_participants TO agentgate_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON agents TO agentgate_app;

COMMIT;
