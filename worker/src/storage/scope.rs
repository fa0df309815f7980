//! Storage scopes (SPEC §11): every repository method takes one, and every
//! statement is bound to it.
//!
//! Only the auth layer mints scopes: a [`TenantScope`] from the validated
//! configuration, an [`EntityScope`] from a verified caller (or a
//! just-verified login). The types live here, beside the repositories that
//! take them, so that storage depends on nothing above it; their fields are
//! private and their constructors `pub(crate)` only for that reason. Calling
//! a constructor outside `worker/src/auth/` (and `storage/conformance.rs`,
//! which plays the auth layer for its throwaway tenants) is an architecture
//! violation.

use agentgate_shared::config::Config;

/// The tenant: every row and query carries this `server_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantScope {
    server_id: String,
}

impl TenantScope {
    /// The auth layer's (see the module documentation).
    pub(crate) fn new(config: &Config) -> Self {
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
    /// The auth layer's (see the module documentation).
    pub(crate) fn new(tenant: TenantScope, entity_id: String) -> Self {
        Self { tenant, entity_id }
    }

    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    pub fn tenant(&self) -> &TenantScope {
        &self.tenant
    }
}

/// What the back ends bind every statement to: the scope's `server_id`
/// first, then, for an [`EntityScope`], its entity (see `d1::D1Store::
/// statement` and `pg::Tx`). Implemented by the two scopes only.
pub(super) trait Scope {
    fn server_id(&self) -> &str;
    /// The entity of an entity-level statement; `None` at tenant level.
    fn entity(&self) -> Option<&str>;
}

impl Scope for TenantScope {
    fn server_id(&self) -> &str {
        &self.server_id
    }

    fn entity(&self) -> Option<&str> {
        None
    }
}

impl Scope for EntityScope {
    fn server_id(&self) -> &str {
        self.tenant.server_id()
    }

    fn entity(&self) -> Option<&str> {
        Some(&self.entity_id)
    }
}
