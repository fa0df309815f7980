//! Who is calling, and may they use this route (SPEC §3, §7).
//!
//! Credentials are tried in the SPEC's order; the route table says which kinds
//! a route accepts. Every failure fails closed with a typed error.

mod external_jwt;
pub mod scope;
mod ticket;

pub use ticket::{TICKET_PREFIX, TICKET_TTL_SECS};

use scope::{EntityScope, TenantScope};

use crate::error::ApiError;
use crate::pipeline::header;
use agentgate_shared::config::Config;
use agentgate_shared::ratelimit::Tier;
use agentgate_shared::routes::{Credentials, Permission, RouteId, RouteSpec};
use agentgate_shared::ErrorCode;
use std::collections::BTreeSet;
use worker::{Env, Request};

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Session,
    ExternalJwt,
    WsTicket,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::ExternalJwt => "jwt",
            Self::WsTicket => "ws_ticket",
        }
    }

    fn route_flag(self) -> Credentials {
        match self {
            Self::Session => Credentials::SESSION,
            Self::ExternalJwt => Credentials::EXTERNAL_JWT,
            Self::WsTicket => Credentials::WS_TICKET,
        }
    }
}

/// An authenticated caller. Only the auth layer constructs it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The tenant and entity this caller's storage access is scoped to.
    pub scope: EntityScope,
    pub entity_id: String,
    pub credential: CredentialKind,
    pub issuer: Option<String>,
    pub permissions: BTreeSet<Permission>,
    /// Unix seconds at which the credential stops being valid.
    pub expires_at: Option<u64>,
    /// SHA-256 of the session id, for session credentials.
    pub session_hash: Option<String>,
    /// For a socket ticket: the one channel it was issued for.
    pub ticket_channel: Option<String>,
    /// The rate-limit tier (SPEC §8): admin with `admin:*`, else standard
    /// (premium comes from the identity row).
    pub tier: Tier,
}

/// The tenant scope of this deployment (pre-authentication lookups).
pub fn tenant(config: &Config) -> TenantScope {
    TenantScope::new(config)
}

/// Routes that stay public even when the gateway key is configured.
fn exempt_from_gateway_key(spec: &RouteSpec) -> bool {
    matches!(
        spec.id,
        RouteId::ServerPing | RouteId::ServerHealth | RouteId::GatewayJwks
    )
}

/// SPEC §3 item 1: with `ELIZA_SERVER_AUTH_TOKEN` set, every `/api/*` route
/// except the public health routes needs `X-API-Key` equal to it.
pub fn check_gateway_key(req: &Request, config: &Config, spec: &RouteSpec) -> Result<(), ApiError> {
    let Some(key) = &config.gateway_key else {
        return Ok(());
    };
    if !spec.pattern.starts_with("/api/") || exempt_from_gateway_key(spec) {
        return Ok(());
    }
    match header(req, "x-api-key") {
        None => Err(ErrorCode::ApiKeyRequired.into()),
        Some(presented) if key.matches(&presented) => Ok(()),
        Some(_) => Err(ErrorCode::InvalidApiKey.into()),
    }
}

/// Establishes the caller for a route. Public routes have none; any other
/// route without a valid, accepted credential is refused.
pub async fn authenticate(
    req: &Request,
    _env: &Env,
    _config: &Config,
    spec: &RouteSpec,
) -> Result<Option<Caller>, ApiError> {
    if spec.credentials.is_public() {
        return Ok(None);
    }
    if spec.credentials.contains(Credentials::WS_TICKET) {
        if let Some(ticket) = query_param(req, "ticket") {
            return ticket::authenticate(&ticket, _env, _config).await.map(Some);
        }
    }
    match bearer(req) {
        Some(token) => {
            if token.len() > 8 * 1024 + 64 {
                return Err(ApiError::new(ErrorCode::InvalidToken).with_detail("token too large"));
            }
            external_jwt::authenticate(&token, _config).await.map(Some)
        }
        None => Err(ErrorCode::AuthRequired.into()),
    }
}

/// The bearer token of the `Authorization` header, if any.
fn bearer(req: &Request) -> Option<String> {
    let value = header(req, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The route's credential kind and permission (SPEC §7).
pub fn authorize(caller: &Caller, spec: &RouteSpec) -> Result<(), ApiError> {
    if !spec.credentials.contains(caller.credential.route_flag()) {
        return Err(
            ApiError::new(ErrorCode::InsufficientPermissions).with_message(format!(
                "This route does not accept {} credentials",
                caller.credential.as_str()
            )),
        );
    }
    match spec.permission {
        Some(p) if !caller.permissions.contains(&p) => {
            Err(ApiError::new(ErrorCode::InsufficientPermissions)
                .with_message(format!("Requires permission {}", p.as_str())))
        }
        _ => Ok(()),
    }
}

/// A query parameter of the request URL.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.url()
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
