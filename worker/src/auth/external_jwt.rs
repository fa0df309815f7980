//! External JWTs (SPEC §3 item 4): the sans-IO policy in `shared::jwt`
//! decides; this module supplies keys (the configured secret, and the JWKS
//! fetched through `remote_document` under the `JwksCache` state machine) and
//! the verifier (WebCrypto for RSA/EC/Ed25519, Rust for HMAC).

use super::remote_keys::RemoteKeys;
use super::{tenant, Caller, CredentialKind};
use crate::crypto::WorkerVerifier;
use crate::error::ApiError;
use crate::storage::scope::EntityScope;
use agentgate_shared::config::Config;
use agentgate_shared::entity_id::eliza_uuid;
use agentgate_shared::jwt::{self, Algorithm, JwtError, KeySet, VerificationKey};
use agentgate_shared::session::{is_admin, permissions_for, proven_email, IdentityKind};
use agentgate_shared::ErrorCode;

fn invalid(e: JwtError) -> ApiError {
    ApiError::new(ErrorCode::InvalidToken).with_detail(e.reason())
}

/// The configured JWKS endpoint, if any.
fn remote_keys(config: &Config) -> Option<RemoteKeys<'_>> {
    config
        .jwt
        .jwks_uri
        .as_ref()
        .map(|url| RemoteKeys::new(url, config.jwt.jwks_cache_ttl_secs))
}

/// The JWKS keys (if any) plus the shared secret (if configured).
fn key_set(config: &Config) -> KeySet {
    let mut keys = remote_keys(config).map(|r| r.keys()).unwrap_or_default();
    if let Some(secret) = &config.jwt.secret {
        if let Ok(key) = VerificationKey::from_secret(secret) {
            keys.push(key);
        }
    }
    keys
}

pub async fn authenticate(token: &str, config: &Config, now: u64) -> Result<Caller, ApiError> {
    let validation = config.jwt.validation();
    let decoded = jwt::decode(token, &validation).map_err(invalid)?;
    let remote = remote_keys(config);
    if let Some(remote) = &remote {
        if decoded.algorithm() != Algorithm::Hs256 {
            remote.ensure_fresh(now).await;
        }
    }
    let mut verified = decoded
        .clone()
        .verify_signature_async(&key_set(config), &WorkerVerifier)
        .await;
    if let (Err(e), Some(remote)) = (&verified, &remote) {
        if e.suggests_refetch() && remote.refetch_for_unknown_kid(now).await {
            verified = decoded
                .verify_signature_async(&key_set(config), &WorkerVerifier)
                .await;
        }
    }
    let verified = verified.map_err(invalid)?;
    let claims = jwt::validate_claims(&verified, &validation, now).map_err(invalid)?;
    let sub = claims
        .sub
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidToken).with_detail("token has no subject")
        })?;
    let entity_id = eliza_uuid(&sub);
    // `ADMIN_EMAILS` applies to an email the provider proves (SPEC §7).
    let admin = is_admin(false, proven_email(&claims.raw), &config.admin_emails);
    let permissions = permissions_for(IdentityKind::User, admin, &[]);
    Ok(Caller {
        tier: agentgate_shared::ratelimit::tier_for(&permissions),
        acts_for_owner: false,
        scope: EntityScope::new(tenant(config), entity_id.clone()),
        entity_id,
        credential: CredentialKind::ExternalJwt,
        identity_kind: IdentityKind::User,
        identity_id: None,
        issuer: claims.iss.clone(),
        permissions,
        expires_at: Some(claims.exp),
        session_hash: None,
        machine_token_id: None,
        ticket_channel: None,
    })
}
