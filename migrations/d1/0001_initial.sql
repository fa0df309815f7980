-- agentgate schema v1 (D1 / SQLite). Every row carries server_id (the tenant);
-- every query filters on it. Times are unix seconds (INTEGER).

CREATE TABLE IF NOT EXISTS identities (
  id            TEXT PRIMARY KEY,               -- uuid v7
  server_id     TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('owner', 'machine', 'user')),
  display_name  TEXT NOT NULL,
  email         TEXT,                           -- case-folded
  password_hash TEXT,                           -- argon2id PHC string
  cloud_user_id TEXT,
  is_admin      INTEGER NOT NULL DEFAULT 0,
  tier          TEXT NOT NULL DEFAULT 'standard',
  created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS identities_server_email ON identities (server_id, email) WHERE email IS NOT NULL;
CREATE INDEX IF NOT EXISTS identities_server_kind ON identities (server_id, kind);

CREATE TABLE IF NOT EXISTS sessions (
  id_hash              TEXT PRIMARY KEY,        -- SHA-256 of the cookie value
  server_id            TEXT NOT NULL,
  identity_id          TEXT NOT NULL,
  entity_id            TEXT NOT NULL,
  kind                 TEXT NOT NULL CHECK (kind IN ('browser', 'machine', 'bootstrap')),
  csrf_hash            TEXT,
  remember_device      INTEGER NOT NULL DEFAULT 0,
  created_at           INTEGER NOT NULL,
  last_seen_at         INTEGER NOT NULL,
  expires_at           INTEGER NOT NULL,
  absolute_expires_at  INTEGER NOT NULL,
  revoked_at           INTEGER,
  ip                   TEXT,
  user_agent           TEXT
);
CREATE INDEX IF NOT EXISTS sessions_server_entity ON sessions (server_id, entity_id);

CREATE TABLE IF NOT EXISTS machine_tokens (
  id            TEXT PRIMARY KEY,
  server_id     TEXT NOT NULL,
  owner_entity_id TEXT NOT NULL,
  name          TEXT NOT NULL,
  token_hash    TEXT NOT NULL,
  scopes        TEXT NOT NULL,                  -- JSON array of permissions
  channel_id    TEXT,                           -- optional restriction to one channel
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  last_used_at  INTEGER,
  revoked_at    INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS machine_tokens_server_hash ON machine_tokens (server_id, token_hash);
CREATE INDEX IF NOT EXISTS machine_tokens_server_owner ON machine_tokens (server_id, owner_entity_id);

CREATE TABLE IF NOT EXISTS api_keys (
  id            TEXT PRIMARY KEY,
  server_id     TEXT NOT NULL,
  owner_entity_id TEXT NOT NULL,
  name          TEXT NOT NULL,
  key_hash      TEXT NOT NULL,
  scopes        TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_server_hash ON api_keys (server_id, key_hash);

CREATE TABLE IF NOT EXISTS owner_bindings (
  id            TEXT PRIMARY KEY,
  server_id     TEXT NOT NULL,
  identity_id   TEXT NOT NULL,
  connector     TEXT NOT NULL,                  -- e.g. discord, telegram, cloud
  external_id   TEXT NOT NULL,
  verified_at   INTEGER,
  created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS owner_bindings_server_connector ON owner_bindings (server_id, connector, external_id);

CREATE TABLE IF NOT EXISTS audit_events (
  id                 TEXT PRIMARY KEY,
  ts                 INTEGER NOT NULL,          -- unix milliseconds
  server_id          TEXT NOT NULL,
  actor_identity_id  TEXT,
  ip                 TEXT,
  user_agent         TEXT,
  action             TEXT NOT NULL,
  outcome            TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
  metadata           TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_events_server_ts ON audit_events (server_id, ts DESC, id);
CREATE INDEX IF NOT EXISTS audit_events_server_actor ON audit_events (server_id, actor_identity_id);

CREATE TABLE IF NOT EXISTS bootstrap_jti_seen (
  server_id   TEXT NOT NULL,
  jti         TEXT NOT NULL,
  expires_at  INTEGER NOT NULL,
  seen_at     INTEGER NOT NULL,
  PRIMARY KEY (server_id, jti)                  -- the insert is the replay check
);
CREATE INDEX IF NOT EXISTS bootstrap_jti_seen_expiry ON bootstrap_jti_seen (expires_at);

CREATE TABLE IF NOT EXISTS ws_tickets (
  ticket_hash  TEXT PRIMARY KEY,
  server_id    TEXT NOT NULL,
  entity_id    TEXT NOT NULL,
  channel_id   TEXT NOT NULL,
  session_hash TEXT,
  expires_at   INTEGER NOT NULL,
  used_at      INTEGER
);

CREATE TABLE IF NOT EXISTS channels (
  id               TEXT PRIMARY KEY,
  server_id        TEXT NOT NULL,
  name             TEXT NOT NULL,
  type             TEXT NOT NULL CHECK (type IN ('public', 'private', 'dm')),
  creator_entity_id TEXT NOT NULL,
  dm_key           TEXT,                        -- set for dm channels: unique per pair
  created_at       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS channels_server ON channels (server_id, created_at);
CREATE UNIQUE INDEX IF NOT EXISTS channels_server_dm ON channels (server_id, dm_key) WHERE dm_key IS NOT NULL;

CREATE TABLE IF NOT EXISTS channel_participants (
  channel_id  TEXT NOT NULL,
  entity_id   TEXT NOT NULL,
  server_id   TEXT NOT NULL,
  role        TEXT NOT NULL DEFAULT 'member',
  added_at    INTEGER NOT NULL,
  PRIMARY KEY (channel_id, entity_id)
);
CREATE INDEX IF NOT EXISTS channel_participants_server_entity ON channel_participants (server_id, entity_id);

CREATE TABLE IF NOT EXISTS agents (
  id               TEXT PRIMARY KEY,
  server_id        TEXT NOT NULL,
  name             TEXT NOT NULL,
  owner_entity_id  TEXT NOT NULL,
  shared_with      TEXT NOT NULL DEFAULT '[]',  -- JSON array of entity ids
  status           TEXT NOT NULL DEFAULT 'stopped',
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS agents_server_owner ON agents (server_id, owner_entity_id);
