-- A machine token may act as one agent (its entity id), e.g. for the agent's
-- replies in a channel (SPEC §13, messages handed to agents). Applied once:
-- wrangler records applied migrations in d1_migrations.
ALTER TABLE machine_tokens ADD COLUMN agent_id TEXT;
