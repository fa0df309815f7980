//! Cloud bootstrap tokens at the edge (SPEC §6). The sans-IO checks are
//! `shared::bootstrap`; this module supplies what they need and what they
//! can't do themselves:
//!
//! - the cloud issuer's keys, `${ELIZA_CLOUD_ISSUER}/.well-known/jwks.json`,
//!   through [`RemoteKeys`] (kept 6 h, an unknown `kid` refetches at most once
//!   per 60 s), verified with RS256 through WebCrypto;
//! - the revocation list, `${ELIZA_CLOUD_ISSUER}/.well-known/revocations.json`,
//!   fetched whenever the JWKS is (and on its own 6 h schedule with back-off
//!   after a failure). A list that was never loaded fails closed, like keys
//!   that were never loaded: `503 BOOTSTRAP_UNAVAILABLE`, never a bypass;
//! - single use: the token's `jti` is claimed in the store's
//!   `bootstrap_jti_seen` until `exp`; the insert is the check, so of two
//!   concurrent exchanges of one token exactly one wins.
//!
//! Every refusal keeps its own reason code (`BOOTSTRAP_WRONG_CONTAINER`,
//! `BOOTSTRAP_REPLAYED`, …) in the error detail, shown only in development.

use super::remote_keys::RemoteKeys;
use super::tenant;
use crate::crypto::WorkerVerifier;
use crate::error::ApiError;
use crate::remote_document;
use crate::storage::BootstrapJtiRepo;
use crate::storage::Store;
use agentgate_shared::bootstrap::{
    decode_bootstrap, verify_bootstrap_token_async, BootstrapClaims, BootstrapError,
    BootstrapPolicy, RevocationList,
};
use agentgate_shared::config::{CloudConfig, Config};
use agentgate_shared::jwt::{JwksCache, RefreshSchedule};
use agentgate_shared::ErrorCode;
use std::cell::RefCell;
use std::rc::Rc;
use worker::Url;

/// A bootstrap token that passed every check and whose `jti` this request
/// has claimed: it can never be exchanged again.
#[derive(Debug, Clone)]
pub struct VerifiedBootstrap {
    pub claims: BootstrapClaims,
}

impl VerifiedBootstrap {
    /// The cloud user the token speaks for, as an entity id (SPEC §2): the
    /// `sub` when present, else the container itself.
    pub fn entity_id(&self) -> String {
        match &self.claims.sub {
            Some(sub) if !sub.is_empty() => agentgate_shared::entity_id::eliza_uuid(sub),
            _ => agentgate_shared::entity_id::eliza_uuid(&format!(
                "cloud-container:{}",
                self.claims.container_id
            )),
        }
    }
}

/// Verifies `token` as a bootstrap token of this container and claims its
/// `jti` (see the module docs).
pub async fn verify(
    token: &str,
    store: &Store,
    config: &Config,
    now: u64,
) -> Result<VerifiedBootstrap, ApiError> {
    let cloud = config.cloud.as_ref().ok_or_else(|| {
        ApiError::new(ErrorCode::BootstrapUnavailable)
            .with_message("Cloud bootstrap is not configured")
            .with_detail("ELIZA_CLOUD_ISSUER is not set")
    })?;
    let policy = BootstrapPolicy::from_config(cloud);
    // Form and algorithm first: a malformed or HS256 token costs no fetch.
    decode_bootstrap(token, &policy).map_err(refused)?;

    let jwks_url = well_known(cloud, "jwks.json")?;
    let jwks = RemoteKeys::new(&jwks_url, JwksCache::CLOUD_TTL_SECS);
    jwks.ensure_fresh(now).await;
    if jwks.keys().is_empty() {
        return Err(refused(BootstrapError::Unavailable));
    }
    let mut revoked = revocations(cloud, jwks.fetched_at(), false, now).await?;
    let mut outcome = check(token, &jwks, &policy, &revoked, now).await;
    if let Err(e) = outcome {
        if e.suggests_refetch() && jwks.refetch_for_unknown_kid(now).await {
            revoked = revocations(cloud, jwks.fetched_at(), true, now).await?;
            outcome = check(token, &jwks, &policy, &revoked, now).await;
        }
    }
    let claims = outcome.map_err(refused)?;

    let expires_at = i64::try_from(claims.exp).map_err(|_| refused(BootstrapError::Expired))?;
    let first_use = store
        .claim_jti(&tenant(config), &claims.jti, expires_at, now as i64)
        .await?;
    if !first_use {
        return Err(refused(BootstrapError::Replayed));
    }
    Ok(VerifiedBootstrap { claims })
}

/// The sans-IO check with the keys at hand, signatures through WebCrypto.
async fn check(
    token: &str,
    jwks: &RemoteKeys<'_>,
    policy: &BootstrapPolicy,
    revoked: &RevocationList,
    now: u64,
) -> Result<BootstrapClaims, BootstrapError> {
    verify_bootstrap_token_async(token, &jwks.keys(), policy, &WorkerVerifier, now, revoked).await
}

/// The reason code of an error from [`verify`], for audit metadata: the
/// refusal's own code (e.g. `BOOTSTRAP_REPLAYED`, which [`refused`] puts at
/// the start of the detail), otherwise the client code.
pub fn refusal_reason(e: &ApiError) -> &str {
    e.detail()
        .and_then(|d| d.split_once(": "))
        .map(|(code, _)| code)
        .filter(|code| code.starts_with("BOOTSTRAP_"))
        .unwrap_or(e.code.as_str())
}

/// The error answer for a refusal: its client code (401 `INVALID_TOKEN`, or
/// 503 `BOOTSTRAP_UNAVAILABLE`) with the reason code in the detail.
fn refused(e: BootstrapError) -> ApiError {
    ApiError::new(e.code()).with_detail(format!("{}: {}", e.reason_code(), e.reason()))
}

/// `${ELIZA_CLOUD_ISSUER}/.well-known/<name>`.
fn well_known(cloud: &CloudConfig, name: &str) -> Result<Url, ApiError> {
    let base = cloud.issuer.as_str().trim_end_matches('/');
    Url::parse(&format!("{base}/.well-known/{name}"))
        .map_err(|e| ApiError::new(ErrorCode::Misconfigured).with_detail(e.to_string()))
}

/// The revocation list of this isolate.
struct Revocations {
    schedule: RefreshSchedule,
    list: Option<Rc<RevocationList>>,
    /// The JWKS fetch the last attempt followed.
    synced_with: Option<u64>,
}

thread_local! {
    static REVOCATIONS: RefCell<Revocations> = RefCell::new(Revocations {
        schedule: RefreshSchedule::new(JwksCache::CLOUD_TTL_SECS),
        list: None,
        synced_with: None,
    });
}

/// The current revocation list, fetched first when the JWKS was fetched since
/// the last attempt or the list's own schedule says so. `from_network` skips
/// the shared Cache API copy (after an unknown-`kid` refetch). Never loaded →
/// `BOOTSTRAP_UNAVAILABLE`.
async fn revocations(
    cloud: &CloudConfig,
    jwks_fetched_at: Option<u64>,
    from_network: bool,
    now: u64,
) -> Result<Rc<RevocationList>, ApiError> {
    let due = REVOCATIONS.with(|r| {
        let r = r.borrow();
        r.schedule.needs_fetch(now)
            || (jwks_fetched_at.is_some() && jwks_fetched_at != r.synced_with)
    });
    if due {
        let url = well_known(cloud, "revocations.json")?;
        let document = remote_document::load(
            &url,
            JwksCache::CLOUD_TTL_SECS,
            !from_network,
            is_revocation_list,
        )
        .await;
        let parsed = document
            .ok()
            .and_then(|d| RevocationList::parse(d.as_bytes()).ok());
        REVOCATIONS.with(|r| {
            let mut r = r.borrow_mut();
            r.synced_with = jwks_fetched_at;
            match parsed {
                Some(list) => {
                    r.list = Some(Rc::new(list));
                    r.schedule.on_success(now);
                }
                None => r.schedule.on_failure(now),
            }
        });
    }
    REVOCATIONS
        .with(|r| r.borrow().list.clone())
        .ok_or_else(|| {
            ApiError::new(ErrorCode::BootstrapUnavailable).with_detail(format!(
                "{}: the revocation list has never been loaded",
                BootstrapError::Unavailable.reason_code()
            ))
        })
}

fn is_revocation_list(document: &str) -> bool {
    RevocationList::parse(document.as_bytes()).is_ok()
}
