-- A machine token may act as one agent (its entity id), e.g. for the agent's
-- replies in a channel (SPEC §13, messages handed to agents). Agent ids are
-- the registry's (text). Idempotent; run as the owner role. The worker role's
-- table-level INSERT and SELECT grants cover the new column.
ALTER TABLE machine_tokens ADD COLUMN IF NOT EXISTS agent_id text;
