//! External JWTs (SPEC §3 item 4): the sans-IO policy in `shared::jwt`
//! decides; this module supplies keys (the configured secret, and the JWKS
//! fetched through `remote_document` under the `JwksCache` state machine) and
//! the verifier (WebCrypto for RSA/EC/Ed25519, Rust for HMAC).

use super::scope::EntityScope;
use super::{tenant, Caller, CredentialKind};
use crate::crypto::webcrypto::{self, AsymmetricAlg, PublicJwk as WebJwk};
use crate::error::ApiError;
use crate::remote_document;
use agentgate_shared::config::Config;
use agentgate_shared::entity_id::eliza_uuid;
use agentgate_shared::jwt::{
    self, Algorithm, AsyncSignatureVerifier, JwkSet, JwksCache, JwtError, KeySet, PublicJwk,
    RefetchDecision, RustCryptoVerifier, SignatureError, SignatureVerifier, Validation,
    VerificationKey,
};
use agentgate_shared::routes::Permission;
use agentgate_shared::ErrorCode;
use std::cell::RefCell;

thread_local! {
    static JWKS: RefCell<Option<JwksCache>> = const { RefCell::new(None) };
}

/// RSA, EC and Ed25519 through WebCrypto; HMAC in Rust (SPEC §3a).
pub struct WorkerVerifier;

impl AsyncSignatureVerifier for WorkerVerifier {
    async fn verify_async(
        &self,
        alg: Algorithm,
        key: &VerificationKey,
        input: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureError> {
        if alg != key.algorithm() {
            return Err(SignatureError::KeyMismatch);
        }
        let (web_alg, jwk) = match (alg, key.public_jwk()) {
            (Algorithm::Hs256, _) => return RustCryptoVerifier.verify(alg, key, input, sig),
            (Algorithm::Rs256, Some(PublicJwk::Rsa { n, e })) => (
                AsymmetricAlg::Rs256,
                WebJwk::Rsa {
                    n: n.clone(),
                    e: e.clone(),
                },
            ),
            (Algorithm::Es256, Some(PublicJwk::P256 { x, y })) => (
                AsymmetricAlg::Es256,
                WebJwk::P256 {
                    x: x.clone(),
                    y: y.clone(),
                },
            ),
            (Algorithm::EdDsa, Some(PublicJwk::Ed25519 { x })) => {
                (AsymmetricAlg::EdDsa, WebJwk::Ed25519 { x: x.clone() })
            }
            _ => return Err(SignatureError::KeyMismatch),
        };
        match webcrypto::verify(web_alg, &jwk, input, sig).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SignatureError::Invalid),
            Err(_) => Err(SignatureError::Backend),
        }
    }
}

fn now_secs() -> u64 {
    worker::Date::now().as_millis() / 1000
}

fn invalid(e: JwtError) -> ApiError {
    ApiError::new(ErrorCode::InvalidToken).with_detail(e.reason())
}

fn cached_keys() -> KeySet {
    JWKS.with(|c| {
        c.borrow()
            .as_ref()
            .map(|c| c.keys().clone())
            .unwrap_or_default()
    })
}

/// Fetches the JWKS (the Cache API copy first when `use_shared_cache`) and
/// records the outcome in the cache state machine.
async fn refresh(config: &Config, use_shared_cache: bool) {
    let Some(url) = &config.jwt.jwks_uri else {
        return;
    };
    let ttl = config.jwt.jwks_cache_ttl_secs;
    let now = now_secs();
    let document = if use_shared_cache {
        match remote_document::cached(url).await {
            Some(doc) => Ok(doc),
            None => remote_document::fetch(url, ttl).await.map(|d| (*d).clone()),
        }
    } else {
        remote_document::fetch(url, ttl).await.map(|d| (*d).clone())
    };
    let parsed = document.ok().and_then(|d| JwkSet::parse(d.as_bytes()).ok());
    JWKS.with(|c| {
        let mut c = c.borrow_mut();
        let cache = c.get_or_insert_with(|| JwksCache::new(ttl));
        match parsed {
            Some(set) => cache.on_fetch_success(set.into_keys(), now),
            None => cache.on_fetch_failure(now),
        }
    });
}

fn key_set(config: &Config) -> KeySet {
    let mut keys = cached_keys();
    if let Some(secret) = &config.jwt.secret {
        if let Ok(key) = VerificationKey::from_secret(secret) {
            keys.push(key);
        }
    }
    keys
}

pub async fn authenticate(token: &str, config: &Config) -> Result<Caller, ApiError> {
    let validation = Validation::from_config(&config.jwt);
    let decoded = jwt::decode(token, &validation).map_err(invalid)?;
    let now = now_secs();
    if config.jwt.jwks_uri.is_some() && decoded.algorithm() != Algorithm::Hs256 {
        let needs = JWKS.with(|c| c.borrow().as_ref().is_none_or(|c| c.needs_fetch(now)));
        if needs {
            refresh(config, true).await;
        }
    }
    let mut verified = decoded
        .clone()
        .verify_signature_async(&key_set(config), &WorkerVerifier)
        .await;
    if let Err(e) = &verified {
        if e.suggests_refetch() && config.jwt.jwks_uri.is_some() {
            let decision = JWKS.with(|c| {
                c.borrow_mut()
                    .get_or_insert_with(|| JwksCache::new(config.jwt.jwks_cache_ttl_secs))
                    .on_unknown_kid(now)
            });
            if decision == RefetchDecision::Refetch {
                refresh(config, false).await;
                verified = decoded
                    .verify_signature_async(&key_set(config), &WorkerVerifier)
                    .await;
            }
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
    let permissions = user_permissions();
    Ok(Caller {
        tier: agentgate_shared::ratelimit::tier_for(&permissions),
        scope: EntityScope::new(tenant(config), entity_id.clone()),
        entity_id,
        credential: CredentialKind::ExternalJwt,
        issuer: claims.iss.clone(),
        permissions,
        expires_at: Some(claims.exp),
        session_hash: None,
        ticket_channel: None,
    })
}

/// The base set of a user (SPEC §7).
fn user_permissions() -> std::collections::BTreeSet<Permission> {
    [
        Permission::AgentRead,
        Permission::AgentCreate,
        Permission::AgentWrite,
        Permission::MemoryRead,
        Permission::MemoryWrite,
        Permission::MessagingRead,
        Permission::MessagingSend,
        Permission::SystemRead,
    ]
    .into_iter()
    .collect()
}
