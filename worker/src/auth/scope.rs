//! Storage scopes (SPEC §11): every repository method takes one. Only the auth
//! layer constructs them: a [`TenantScope`] from the validated configuration,
//! an [`EntityScope`] from a verified caller (or a just-verified login).

use agentgate_shared::config::Config;

/// The tenant: every row and query carries this `server_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantScope {
    server_id: String,
}

impl TenantScope {
    pub(in crate::auth) fn new(config: &Config) -> Self {
        Self {
            server_id: config.server_id.to_string(),
        }
    }

    pub fn server_id(&self) -> &str {
        &self.server_id
    }
}

/// A tenant and an entity within it: rows that belong to someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityScope {
    tenant: TenantScope,
    entity_id: String,
}

impl EntityScope {
    pub(in crate::auth) fn new(tenant: TenantScope, entity_id: String) -> Self {
        Self { tenant, entity_id }
    }

    pub fn server_id(&self) -> &str {
        self.tenant.server_id()
    }

    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    pub fn tenant(&self) -> &TenantScope {
        &self.tenant
    }
}
