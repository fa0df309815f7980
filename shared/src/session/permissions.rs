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

/// Whether an identity holds `admin:*` (SPEC §7): the admin flag that only
/// the owner sets, or an email in `ADMIN_EMAILS` that is proven — asserted
/// by a verified identity provider (a verified token's `email` with
/// `email_verified: true`), never an address someone typed into a form.
/// Emails are compared case-folded.
pub fn is_admin(admin_flag: bool, proven_email: Option<&str>, admin_emails: &[String]) -> bool {
    admin_flag
        || proven_email.is_some_and(|email| {
            let email = email.trim().to_lowercase();
            admin_emails.iter().any(|a| a.eq_ignore_ascii_case(&email))
        })
}

/// The email a verified token proves: its `email` claim, when the provider
/// also says `email_verified: true`.
pub fn proven_email(claims: &serde_json::Map<String, serde_json::Value>) -> Option<&str> {
    let verified = claims.get("email_verified") == Some(&serde_json::Value::Bool(true));
    verified.then(|| claims.get("email")?.as_str()).flatten()
}

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

/// What a machine token may do (SPEC §3): it acts for its owner, so it holds
/// its scopes only while the owner still holds them (an owner demoted from
/// admin takes `admin:*` away from their tokens at once).
pub fn machine_token_permissions(
    scopes: &[Permission],
    owner_permissions: &BTreeSet<Permission>,
) -> BTreeSet<Permission> {
    scopes
        .iter()
        .copied()
        .filter(|p| owner_permissions.contains(p))
        .collect()
}

/// Why a scope can't be granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeRefusal {
    /// Not a permission name.
    Unknown(String),
    /// A permission the granter does not hold.
    NotHeld(Permission),
    /// None, or more than there are permissions.
    Count,
}

impl std::fmt::Display for ScopeRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unknown(name) => write!(f, "`{name}` is not a permission"),
            Self::NotHeld(p) => write!(f, "`{}` is not a permission you hold", p.as_str()),
            Self::Count => f.write_str("at least one permission"),
        }
    }
}

/// The scopes a granter may put on a machine token: any permission they hold
/// themselves, `admin:*` included (SPEC §3), each once, in the order given.
pub fn grantable_scopes(
    names: &[String],
    granter: &BTreeSet<Permission>,
) -> Result<Vec<Permission>, ScopeRefusal> {
    if names.is_empty() || names.len() > Permission::ALL.len() {
        return Err(ScopeRefusal::Count);
    }
    let mut scopes = Vec::new();
    for name in names {
        let p = Permission::parse(name).ok_or_else(|| ScopeRefusal::Unknown(name.clone()))?;
        if !granter.contains(&p) {
            return Err(ScopeRefusal::NotHeld(p));
        }
        if !scopes.contains(&p) {
            scopes.push(p);
        }
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn admin_comes_only_from_the_flag_or_a_proven_email() {
        let admins = vec!["boss@example.com".to_string()];
        assert!(is_admin(true, None, &admins));
        assert!(is_admin(false, Some("BOSS@example.com"), &admins));
        assert!(
            !is_admin(false, None, &admins),
            "an unproven email is no proof"
        );
        assert!(!is_admin(false, Some("other@example.com"), &admins));
        let claims = |v: serde_json::Value| v.as_object().unwrap().clone();
        let proven = claims(json!({"email": "boss@example.com", "email_verified": true}));
        assert_eq!(proven_email(&proven), Some("boss@example.com"));
        for unproven in [
            json!({"email": "boss@example.com"}),
            json!({"email": "boss@example.com", "email_verified": false}),
            json!({"email": "boss@example.com", "email_verified": "true"}),
        ] {
            assert_eq!(proven_email(&claims(unproven)), None);
        }
    }

    #[test]
    fn a_token_holds_its_scopes_only_while_its_owner_does() {
        use Permission as P;
        let owner = permissions_for(IdentityKind::Owner, false, &[]);
        let user = permissions_for(IdentityKind::User, false, &[]);
        let scopes = [P::AgentRead, P::Admin, P::SystemWrite];
        assert_eq!(
            machine_token_permissions(&scopes, &owner),
            scopes.into_iter().collect()
        );
        assert_eq!(
            machine_token_permissions(&scopes, &user),
            [P::AgentRead].into_iter().collect()
        );
        assert!(machine_token_permissions(&scopes, &BTreeSet::new()).is_empty());
    }

    #[test]
    fn granters_give_only_what_they_hold_admin_included() {
        use Permission as P;
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let owner = permissions_for(IdentityKind::Owner, false, &[]);
        let admin = permissions_for(IdentityKind::User, true, &[]);
        let user = permissions_for(IdentityKind::User, false, &[]);
        assert_eq!(
            grantable_scopes(&names(&["admin:*", "agent:read", "admin:*"]), &owner),
            Ok(vec![P::Admin, P::AgentRead])
        );
        assert_eq!(
            grantable_scopes(&names(&["admin:*"]), &admin),
            Ok(vec![P::Admin])
        );
        assert_eq!(
            grantable_scopes(&names(&["system:write"]), &admin),
            Err(ScopeRefusal::NotHeld(P::SystemWrite))
        );
        assert_eq!(
            grantable_scopes(&names(&["admin:*"]), &user),
            Err(ScopeRefusal::NotHeld(P::Admin))
        );
        assert_eq!(
            grantable_scopes(&names(&["agent:*"]), &owner),
            Err(ScopeRefusal::Unknown("agent:*".into()))
        );
        assert_eq!(grantable_scopes(&[], &owner), Err(ScopeRefusal::Count));
    }
}
