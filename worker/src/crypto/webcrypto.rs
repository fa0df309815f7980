//! Signature verification through the runtime's WebCrypto (`crypto.subtle`),
//! which runs at native speed in workerd (SPEC §3a: RS256 ~29 µs vs ~750 µs
//! for the pure-Rust `rsa` crate in wasm). Imported keys are cached per
//! isolate, keyed by the key's public members, as are `crypto.subtle` and the
//! algorithm parameter objects.

use super::verify_call;
use agentgate_shared::jwt::PublicJwk;
use js_sys::{Object, Reflect};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

/// The asymmetric algorithms verified through WebCrypto. Each is bound to
/// one kind of [`PublicJwk`] (the key decides, see `shared::jwt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum AsymmetricAlg {
    Rs256,
    Es256,
    EdDsa,
}

impl AsymmetricAlg {
    fn of(jwk: &PublicJwk) -> Self {
        match jwk {
            PublicJwk::Rsa { .. } => Self::Rs256,
            PublicJwk::P256 { .. } => Self::Es256,
            PublicJwk::Ed25519 { .. } => Self::EdDsa,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebCryptoError {
    #[error("crypto.subtle is not available")]
    Unavailable,
    #[error("the key was refused by WebCrypto: {0}")]
    KeyImport(String),
    #[error("verification failed to run: {0}")]
    Verify(String),
}

/// What a verification needs from JavaScript, made once per isolate: the
/// hot path then crosses into JavaScript only to copy the two byte strings
/// and to call `verify`.
struct Runtime {
    subtle: SubtleCrypto,
    verify_params: HashMap<AsymmetricAlg, Object>,
    keys: ImportedKeys,
}

/// Imported keys by their public members, bounded; the last one used is
/// checked first (a comparison instead of hashing a 2048-bit modulus).
#[derive(Default)]
struct ImportedKeys {
    by_jwk: HashMap<PublicJwk, CryptoKey>,
    last: Option<(PublicJwk, CryptoKey)>,
}

impl ImportedKeys {
    /// The most keys kept: a JWKS rotation adds a few; never grow without end.
    const MAX: usize = 64;

    fn get(&mut self, jwk: &PublicJwk) -> Option<&CryptoKey> {
        if !self.last.as_ref().is_some_and(|(last, _)| last == jwk) {
            let key = self.by_jwk.get(jwk)?.clone();
            self.last = Some((jwk.clone(), key));
        }
        self.last.as_ref().map(|(_, key)| key)
    }

    fn insert(&mut self, jwk: &PublicJwk, key: CryptoKey) {
        if self.by_jwk.len() >= Self::MAX {
            self.by_jwk.clear();
            self.last = None;
        }
        self.by_jwk.insert(jwk.clone(), key);
    }
}

thread_local! {
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

fn subtle() -> Result<SubtleCrypto, WebCryptoError> {
    let global = js_sys::global();
    let crypto =
        Reflect::get(&global, &"crypto".into()).map_err(|_| WebCryptoError::Unavailable)?;
    let subtle =
        Reflect::get(&crypto, &"subtle".into()).map_err(|_| WebCryptoError::Unavailable)?;
    subtle
        .dyn_into::<SubtleCrypto>()
        .map_err(|_| WebCryptoError::Unavailable)
}

/// Runs `f` on this isolate's [`Runtime`], creating it first if needed.
fn with_runtime<T>(
    f: impl FnOnce(&mut Runtime) -> Result<T, WebCryptoError>,
) -> Result<T, WebCryptoError> {
    RUNTIME.with(|cell| {
        let mut cell = cell.borrow_mut();
        let runtime = match cell.as_mut() {
            Some(runtime) => runtime,
            None => cell.insert(Runtime {
                subtle: subtle()?,
                verify_params: [
                    AsymmetricAlg::Rs256,
                    AsymmetricAlg::Es256,
                    AsymmetricAlg::EdDsa,
                ]
                .into_iter()
                .map(|alg| (alg, verify_params(alg)))
                .collect(),
                keys: ImportedKeys::default(),
            }),
        };
        f(runtime)
    })
}

fn object(pairs: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), &(*v).into());
    }
    o
}

fn describe(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "unknown error".into())
}

fn import_params(alg: AsymmetricAlg) -> Object {
    match alg {
        AsymmetricAlg::Rs256 => object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")]),
        AsymmetricAlg::Es256 => object(&[("name", "ECDSA"), ("namedCurve", "P-256")]),
        AsymmetricAlg::EdDsa => object(&[("name", "Ed25519")]),
    }
}

fn verify_params(alg: AsymmetricAlg) -> Object {
    match alg {
        AsymmetricAlg::Rs256 => object(&[("name", "RSASSA-PKCS1-v1_5")]),
        AsymmetricAlg::Es256 => object(&[("name", "ECDSA"), ("hash", "SHA-256")]),
        AsymmetricAlg::EdDsa => object(&[("name", "Ed25519")]),
    }
}

fn jwk_object(jwk: &PublicJwk) -> Object {
    match jwk {
        PublicJwk::Rsa { n, e } => object(&[("kty", "RSA"), ("n", n), ("e", e)]),
        PublicJwk::P256 { x, y } => object(&[("kty", "EC"), ("crv", "P-256"), ("x", x), ("y", y)]),
        PublicJwk::Ed25519 { x } => object(&[("kty", "OKP"), ("crv", "Ed25519"), ("x", x)]),
    }
}

/// Imports `jwk` for verification into this isolate's key cache.
async fn import(jwk: &PublicJwk) -> Result<(), WebCryptoError> {
    let alg = AsymmetricAlg::of(jwk);
    let usages = js_sys::Array::of1(&"verify".into());
    let promise = with_runtime(|r| {
        r.subtle
            .import_key_with_object("jwk", &jwk_object(jwk), &import_params(alg), false, &usages)
            .map_err(|e| WebCryptoError::KeyImport(describe(e)))
    })?;
    let key: CryptoKey = JsFuture::from(promise)
        .await
        .map_err(|e| WebCryptoError::KeyImport(describe(e)))?
        .unchecked_into();
    with_runtime(|r| {
        r.keys.insert(jwk, key);
        Ok(())
    })
}

/// Verifies `signature` over `data` with the algorithm `jwk`'s type is bound
/// to. `Ok(false)` is a bad signature; `Err` means verification could not
/// run (the caller fails closed).
pub async fn verify(
    jwk: &PublicJwk,
    data: &[u8],
    signature: &[u8],
) -> Result<bool, WebCryptoError> {
    // Imported once per isolate, then started with the cached key.
    let start = |r: &mut Runtime| {
        let params = &r.verify_params[&AsymmetricAlg::of(jwk)];
        let key = r.keys.get(jwk)?;
        Some(verify_call::start(&r.subtle, params, key, signature, data))
    };
    let call = match with_runtime(|r| Ok(start(r)))? {
        Some(call) => call,
        None => {
            import(jwk).await?;
            with_runtime(|r| Ok(start(r)))?.ok_or(WebCryptoError::Unavailable)?
        }
    };
    match call.await {
        verify_call::Outcome::Valid => Ok(true),
        verify_call::Outcome::Invalid => Ok(false),
        verify_call::Outcome::Failed => {
            Err(WebCryptoError::Verify("the verify promise rejected".into()))
        }
    }
}
