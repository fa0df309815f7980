-- Rotating a machine token replaces its secret in place (SPEC §5): the worker
-- role may update `token_hash`, still only on its own tokens
-- (`machine_tokens_own`). Idempotent; run as the owner role.
GRANT UPDATE (token_hash) ON machine_tokens TO agentgate_app;
