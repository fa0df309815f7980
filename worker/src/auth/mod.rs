//! Who is calling, and may they use this route (SPEC §3, §7).
//!
//! Credentials are tried in the SPEC's order; the route table says which kinds
//! a route accepts. Every failure fails closed with a typed error.

pub mod bootstrap;
mod external_jwt;
mod legacy;
mod machine_token;
mod remote_keys;
mod session;
pub mod session_issue;
mod ticket;

pub use machine_token::stored_scopes as machine_token_scopes;
pub use ticket::{TICKET_PREFIX, TICKET_TTL_SECS};

use crate::clock::Now;
use crate::error::ApiError;
use crate::http::{header, query_param};
use crate::storage::scope::{EntityScope, TenantScope};
use crate::storage::RequestStore;
use agentgate_shared::config::Config;
use agentgate_shared::ratelimit::Tier;
use agentgate_shared::routes::{Credentials, Permission, RouteId, RouteSpec};
use agentgate_shared::session::{
    check_sign_in as check_sign_in_rule, find_cookie, looks_like_machine_token, CookieLookup,
    IdentityKind, SignInRefusal, SESSION_COOKIE,
};
use agentgate_shared::ErrorCode;
use std::collections::BTreeSet;
use worker::Request;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Session,
    BootstrapSession,
    MachineToken,
    ExternalJwt,
    LegacyBearer,
    WsTicket,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::BootstrapSession => "bootstrap_session",
            Self::MachineToken => "machine_token",
            Self::ExternalJwt => "jwt",
            Self::LegacyBearer => "legacy_token",
            Self::WsTicket => "ws_ticket",
        }
    }

    fn route_flag(self) -> Credentials {
        match self {
            Self::Session => Credentials::SESSION,
            Self::BootstrapSession => Credentials::BOOTSTRAP_SESSION,
            Self::MachineToken => Credentials::MACHINE_TOKEN,
            Self::ExternalJwt => Credentials::EXTERNAL_JWT,
            Self::LegacyBearer => Credentials::LEGACY_BEARER,
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
    /// The kind of identity behind the credential (SPEC §2).
    pub identity_kind: IdentityKind,
    /// The local identity row, for sessions (the audit actor).
    pub identity_id: Option<String>,
    /// The caller's rate-limit tier (SPEC §8): admin with `admin:*`, premium
    /// from the identity row, else standard.
    pub tier: Tier,
    pub issuer: Option<String>,
    pub permissions: BTreeSet<Permission>,
    /// Unix seconds at which the credential stops being valid.
    pub expires_at: Option<u64>,
    /// SHA-256 of the session id, for session credentials.
    pub session_hash: Option<String>,
    /// The machine token's id, for machine-token credentials (revoking it
    /// ends the Socket.IO connections it opened).
    pub machine_token_id: Option<String>,
    /// For a socket ticket (or a channel-bound machine token): the one
    /// channel it may act in.
    pub ticket_channel: Option<String>,
    /// The deployment's owner, in person or through a machine token acting
    /// for them: origin agents nobody registered are theirs (SPEC §7).
    pub acts_for_owner: bool,
}

impl Caller {
    /// Whether this caller is the deployment's owner (owner-only routes).
    pub fn is_owner(&self) -> bool {
        self.identity_kind == IdentityKind::Owner
    }
}

/// The tenant scope of this deployment (pre-authentication lookups).
pub fn tenant(config: &Config) -> TenantScope {
    TenantScope::new(config)
}

/// The scope of an identity whose credentials the caller just proved (a
/// password login, first-run setup, registration): the one way code outside
/// the credential checks gets an [`EntityScope`] without a [`Caller`].
pub fn verified_identity_scope(config: &Config, identity_id: &str) -> EntityScope {
    EntityScope::new(tenant(config), identity_id.to_owned())
}

/// Whether `entity_id` is a local identity of this deployment (an agent may
/// not take such an id: a token acting as the agent would act as the person).
pub async fn is_local_identity(
    store: &crate::storage::Store,
    config: &Config,
    entity_id: &str,
) -> Result<bool, ApiError> {
    use crate::storage::IdentityRepo;
    let scope = EntityScope::new(tenant(config), entity_id.to_owned());
    Ok(store.identity(&scope).await?.is_some())
}

/// Routes that stay public even when the gateway key is configured.
fn exempt_from_gateway_key(spec: &RouteSpec) -> bool {
    matches!(
        spec.id,
        RouteId::ServerPing | RouteId::ServerHealth | RouteId::GatewayJwks
    )
}

/// SPEC §3 item 1: with `ELIZA_SERVER_AUTH_TOKEN` set, every `/api/*` route
/// except the public health routes needs `X-API-Key` equal to it. An
/// `X-API-Key` that is a machine token (`agm_…`) is a credential, never
/// compared with the key. A request without the key may still pass on a
/// credential the gateway issued itself (see [`waives_gateway_key`]): a
/// browser cannot send the key with a socket upgrade or a page load.
pub fn check_gateway_key(
    req: &Request,
    config: &Config,
    spec: &RouteSpec,
) -> Result<GatewayKey, ApiError> {
    let Some(key) = &config.gateway_key else {
        return Ok(GatewayKey::Passed);
    };
    if !spec.pattern.starts_with("/api/") || exempt_from_gateway_key(spec) {
        return Ok(GatewayKey::Passed);
    }
    match header(req, "x-api-key") {
        Some(presented) if looks_like_machine_token(&presented) => Ok(GatewayKey::Missing),
        None => Ok(GatewayKey::Missing),
        Some(presented) if key.matches(&presented) => Ok(GatewayKey::Passed),
        Some(_) => Err(ErrorCode::InvalidApiKey.into()),
    }
}

/// What the gateway-key layer saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayKey {
    /// Not configured, not needed on this route, or presented correctly.
    Passed,
    /// Needed but absent: only a credential the gateway issued can stand in.
    Missing,
}

impl GatewayKey {
    /// Fails closed unless the key passed or `caller` proved a credential the
    /// gateway issued itself (session, socket ticket, machine token): those
    /// already show the caller is the deployment's own. External JWTs, the
    /// legacy bearer and anonymous callers need the key.
    pub fn require(self, caller: Option<&Caller>) -> Result<(), ApiError> {
        match (self, caller.map(|c| c.credential)) {
            (GatewayKey::Passed, _) => Ok(()),
            (
                GatewayKey::Missing,
                Some(
                    CredentialKind::Session
                    | CredentialKind::BootstrapSession
                    | CredentialKind::WsTicket
                    | CredentialKind::MachineToken,
                ),
            ) => Ok(()),
            (GatewayKey::Missing, _) => Err(ErrorCode::ApiKeyRequired.into()),
        }
    }
}

/// Whether a browser `Origin` may act with the gateway's cookies: the
/// gateway's own origin (the web UI it serves) or one in `ALLOWED_ORIGINS`.
pub fn origin_allowed(req: &Request, config: &Config, origin: &str) -> bool {
    config.origin_allowed(origin)
        || req
            .url()
            .is_ok_and(|u| u.origin().ascii_serialization() == origin)
}

/// SPEC §3 for the routes that sign a browser in: a same-site request with a
/// JSON body, checked before anything else runs.
pub fn check_sign_in(req: &Request, config: &Config, spec: &RouteSpec) -> Result<(), ApiError> {
    if !spec.issues_session {
        return Ok(());
    }
    let origin = header(req, "origin");
    let site = header(req, "sec-fetch-site");
    let content_type = header(req, "content-type");
    let allowed = |o: &str| origin_allowed(req, config, o);
    check_sign_in_rule(
        origin.as_deref(),
        site.as_deref(),
        content_type.as_deref(),
        allowed,
    )
    .map_err(|e| match e {
        SignInRefusal::CrossSite => ApiError::new(ErrorCode::CsrfFailed)
            .with_message("Signing in is only possible from this gateway's own pages"),
        SignInRefusal::NotJson => ErrorCode::UnsupportedMediaType.into(),
    })
}

/// Establishes the caller for a route, trying credentials in the SPEC §3
/// order: socket ticket (upgrades only), session cookie, then the bearer
/// token (machine token, legacy bearer, external JWT). Public routes have no
/// caller; a route with optional credentials serves an anonymous caller; any
/// other route without a valid credential is refused. A credential that is
/// present but invalid always fails, even on an optional route.
pub async fn authenticate(
    req: &Request,
    stores: &RequestStore<'_>,
    config: &Config,
    spec: &RouteSpec,
    now: Now,
) -> Result<Option<Caller>, ApiError> {
    if spec.credentials.is_public() {
        return Ok(None);
    }
    let now = now.secs();
    if spec.credentials.contains(Credentials::WS_TICKET) {
        if let Some(ticket) = query_param(req, "ticket") {
            return ticket::authenticate(&ticket, stores.get()?, config, now)
                .await
                .map(Some);
        }
    }
    let cookies = header(req, "cookie").unwrap_or_default();
    match find_cookie(&cookies, SESSION_COOKIE) {
        CookieLookup::One(token) if !token.is_empty() => {
            return session::authenticate(req, &cookies, token, stores.get()?, config, spec, now)
                .await
                .map(Some);
        }
        CookieLookup::Ambiguous => {
            return Err(
                ApiError::new(ErrorCode::InvalidToken).with_detail("more than one session cookie")
            )
        }
        _ => {}
    }
    match bearer(req).or_else(|| api_key_machine_token(req)) {
        Some(token) => {
            if token.len() > 8 * 1024 + 64 {
                return Err(ApiError::new(ErrorCode::InvalidToken).with_detail("token too large"));
            }
            if looks_like_machine_token(&token) {
                return machine_token::authenticate(&token, stores.get()?, config, now)
                    .await
                    .map(Some);
            }
            if let Some(legacy) = &config.legacy_token {
                if legacy.token.matches(&token) {
                    return legacy::authenticate(legacy, stores.get()?, config, now)
                        .await
                        .map(Some);
                }
            }
            external_jwt::authenticate(&token, config, now)
                .await
                .map(Some)
        }
        None if spec.credentials_optional => Ok(None),
        None => Err(ErrorCode::AuthRequired.into()),
    }
}

/// A machine token sent as `X-API-KEY` (the `apiKey` option of
/// `@elizaos/api-client` and the web UI's key box; SPEC §3 item 3).
fn api_key_machine_token(req: &Request) -> Option<String> {
    header(req, "x-api-key")
        .map(|v| v.trim().to_owned())
        .filter(|v| looks_like_machine_token(v))
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

/// A socket ticket presented in a Socket.IO handshake's `auth.ticket`.
pub async fn handshake_ticket(
    ticket: &str,
    stores: &RequestStore<'_>,
    config: &Config,
    now: u64,
) -> Result<Caller, ApiError> {
    ticket::authenticate(ticket, stores.get()?, config, now).await
}

/// A machine token or JWT presented in a Socket.IO handshake's `auth`
/// (`apiKey` or `token`): checked exactly as the bearer of an HTTP request.
pub async fn handshake_token(
    token: &str,
    stores: &RequestStore<'_>,
    config: &Config,
    now: u64,
) -> Result<Caller, ApiError> {
    let token = token.trim();
    if token.len() > 8 * 1024 + 64 {
        return Err(ApiError::new(ErrorCode::InvalidToken).with_detail("token too large"));
    }
    if looks_like_machine_token(token) {
        return machine_token::authenticate(token, stores.get()?, config, now).await;
    }
    if let Some(legacy) = &config.legacy_token {
        if legacy.token.matches(token) {
            return legacy::authenticate(legacy, stores.get()?, config, now).await;
        }
    }
    external_jwt::authenticate(token, config, now).await
}
