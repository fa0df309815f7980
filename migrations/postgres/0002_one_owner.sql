-- At most one owner per tenant: two concurrent first-run setups cannot both
-- create one (the insert is the check). Idempotent; run as the owner role.
CREATE UNIQUE INDEX IF NOT EXISTS identities_one_owner ON identities (server_id) WHERE kind = 'owner';
