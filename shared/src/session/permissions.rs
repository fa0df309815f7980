//! Permission sets by identity kind (SPEC §7).

use crate::routes::Permission;
use std::collections::BTreeSet;

/// The kind of an identity (the `identities.kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityKind {
    /// The server's owner: every permission.
    Owner,
    /// A person invited or registered: the base set, plus `admin:*` for admins.
    User,
    /// A machine: exactly the scopes of its token.
    Machine,
}

impl IdentityKind {
    /// The stored spelling: `owner`, `user`, `machine`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::User => "user",
            Self::Machine => "machine",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Self::Owner),
            "user" => Some(Self::User),
            "machine" => Some(Self::Machine),
            _ => None,
        }
    }
}

/// What every `user` identity holds: everything except `system:write` and
/// `admin:*`.
pub const USER_BASE_PERMISSIONS: [Permission; 8] = [
    Permission::AgentRead,
    Permission::AgentCreate,
    Permission::AgentWrite,
    Permission::MemoryRead,
    Permission::MemoryWrite,
    Permission::MessagingRead,
    Permission::MessagingSend,
    Permission::SystemRead,
];

/// The permissions of an identity: owners hold all; users the
/// [base set](USER_BASE_PERMISSIONS), plus `admin:*` when `is_admin`
/// (`ADMIN_EMAILS` or the admin role); machines exactly `scopes` (`is_admin`
/// is ignored for them). `scopes` is ignored for owners and users.
pub fn permissions_for(
    kind: IdentityKind,
    is_admin: bool,
    scopes: &[Permission],
) -> BTreeSet<Permission> {
    match kind {
        IdentityKind::Owner => Permission::ALL.into_iter().collect(),
        IdentityKind::User => {
            let mut set: BTreeSet<Permission> = USER_BASE_PERMISSIONS.into_iter().collect();
            if is_admin {
                set.insert(Permission::Admin);
            }
            set
        }
        IdentityKind::Machine => scopes.iter().copied().collect(),
    }
}
