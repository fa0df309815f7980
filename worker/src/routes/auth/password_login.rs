//! Password login, registration and logout (SPEC §4, §5).
//!
//! The rate limiter runs before these handlers (sensitive bucket), so a flood
//! costs no argon2 time. An unknown email is verified against a dummy hash, so
//! it costs the same as a wrong password and answers the same 401.

use super::session_response;
use crate::audit::AuditTrail;
use crate::auth::{session_issue, tenant};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::{body, response};
use crate::storage::records::IdentityRecord;
use crate::storage::AuditRepo;
use crate::storage::{IdentityRepo, SessionRepo};
use crate::{random, ratelimit, revocation};
use agentgate_shared::audit::{AuditAction, Outcome};
use agentgate_shared::identity::fold_email;
use agentgate_shared::ids::uuid_v7;
use agentgate_shared::password::{self, PolicyInputs, MAX_BYTES};
use agentgate_shared::ratelimit::Tier;
use agentgate_shared::session::IdentityKind;
use agentgate_shared::ErrorCode;
use serde::Deserialize;
use serde_json::json;
use worker::{Request, Response};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LoginBody {
    email: String,
    password: String,
    #[serde(default)]
    remember_device: bool,
}

/// `POST /api/auth/login/password`.
pub async fn login(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let input: LoginBody = body::json(&mut req).await?;
    let store = cx.store()?;
    let trail = cx.audit()?;
    let action = cx.audit_action()?;
    // Refuse absurd input before any lookup or hashing; the answer is the
    // same 401 as for any other wrong password.
    let email = fold_email(&input.email);
    let identity = match &email {
        Some(email) if input.password.len() <= MAX_BYTES => {
            store.identity_by_email(&tenant(cx.config), email).await?
        }
        _ => None,
    };
    let verified = if input.password.len() <= MAX_BYTES {
        password::verify_or_dummy(
            &input.password,
            identity.as_ref().and_then(|i| i.password_hash.as_deref()),
            cx.config.password_hash,
        )
        .map_err(|e| ApiError::internal(format!("password verification: {e}")))?
    } else {
        false
    };
    let identity = match identity {
        Some(identity) if verified => identity,
        attempted => {
            let actor = attempted.as_ref().map(|i| i.id.as_str());
            trail
                .record(
                    action,
                    Outcome::Failure,
                    actor,
                    &[("reason", json!("invalid_credentials"))],
                )
                .await?;
            alert_on_repeated_failures(cx, &trail, email.as_deref(), actor).await?;
            return Err(ErrorCode::InvalidCredentials.into());
        }
    };
    rehash_if_outdated(store, cx, &identity, &input.password).await?;
    trail
        .record(action, Outcome::Success, Some(&identity.id), &[])
        .await?;
    session_response(store, &req, cx, &identity, input.remember_device, 200).await
}

/// Five failed logins for one account or one IP within 15 minutes write one
/// `security.alert.auth_failures` row per window (SPEC §8; the tracker lives
/// in the rate limiter's Durable Objects). An unreachable tracker fails the
/// request (503), like every other limiter failure.
async fn alert_on_repeated_failures<S: AuditRepo>(
    cx: &RequestContext<'_>,
    trail: &AuditTrail<'_, S>,
    account: Option<&str>,
    actor: Option<&str>,
) -> Result<(), ApiError> {
    let ip = cx.client.ip.as_deref().unwrap_or("unknown");
    if ratelimit::record_failed_login(cx.env, cx.config, account, ip).await? {
        trail
            .record(
                AuditAction::SECURITY_ALERT_AUTH_FAILURES,
                Outcome::Failure,
                actor,
                &[("window", json!("15m")), ("threshold", json!(5))],
            )
            .await?;
    }
    Ok(())
}

/// Raising `ARGON2_*` upgrades each stored hash at its owner's next login.
async fn rehash_if_outdated(
    store: &impl IdentityRepo,
    cx: &RequestContext<'_>,
    identity: &IdentityRecord,
    password: &str,
) -> Result<(), ApiError> {
    let params = cx.config.password_hash;
    if identity
        .password_hash
        .as_deref()
        .is_some_and(|phc| password::needs_rehash(phc, params))
    {
        let phc = password::hash_password(password, &random::bytes()?, params)
            .map_err(|e| ApiError::internal(format!("password hashing: {e}")))?;
        let scope = crate::auth::verified_identity_scope(cx.config, &identity.id);
        store.set_password_hash(&scope, phc.as_str()).await?;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct NewIdentityBody {
    pub email: String,
    pub password: String,
    pub display_name: String,
    #[serde(default)]
    pub remember_device: bool,
    /// First-run setup of a cloud-provisioned deployment only.
    #[serde(default)]
    pub bootstrap_token: Option<String>,
}

/// Checks the policy, hashes the password and builds a new identity row of
/// `kind` (setup: owner; registration: user). Nothing is stored yet.
pub(super) fn new_identity(
    input: &NewIdentityBody,
    kind: IdentityKind,
    cloud_user_id: Option<String>,
    cx: &RequestContext<'_>,
) -> Result<IdentityRecord, ApiError> {
    let email =
        fold_email(&input.email).ok_or_else(|| ApiError::bad_request("Invalid field `email`"))?;
    let display_name = input.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "Invalid field `displayName`: 1 to 100 characters",
        ));
    }
    let inputs = PolicyInputs {
        email: Some(&email),
        display_name: Some(display_name),
    };
    // The policy (length first) runs before any hashing: a 2 KiB password
    // costs no argon2 time.
    let phc = password::set_password(
        &input.password,
        inputs,
        &random::bytes()?,
        cx.config.password_hash,
    )
    .map_err(password_error)?;
    let now_ms = worker::Date::now().as_millis();
    Ok(IdentityRecord {
        id: uuid_v7(now_ms, random::bytes::<10>()?),
        kind: kind.as_str().to_owned(),
        display_name: display_name.to_owned(),
        email: Some(email),
        password_hash: Some(phc.into_string()),
        cloud_user_id,
        is_admin: 0,
        tier: Tier::Standard.as_str().to_owned(),
        created_at: (now_ms / 1000) as i64,
    })
}

/// A refused password becomes 400 `WEAK_PASSWORD` with the policy's reason;
/// a hashing failure is internal.
pub(super) fn password_error(e: password::PasswordError) -> ApiError {
    match e {
        password::PasswordError::Policy(policy) => ApiError::new(policy.code())
            .with_message(format!("The password does not meet the policy: {policy}"))
            .with_field("reason", json!(policy.reason_code())),
        other => ApiError::internal(format!("password hashing: {other}")),
    }
}

/// `POST /api/auth/register`: open only with `ALLOW_REGISTRATION=true`
/// (otherwise the owner invites, and this route does not exist: 404).
pub async fn register(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    if !cx.config.allow_registration {
        return Err(ErrorCode::NotFound.into());
    }
    let input: NewIdentityBody = body::json(&mut req).await?;
    if input.bootstrap_token.is_some() {
        return Err(ApiError::bad_request(
            "Invalid field `bootstrapToken`: only first-run setup takes one",
        ));
    }
    let store = cx.store()?;
    let trail = cx.audit()?;
    let action = cx.audit_action()?;
    let identity = match new_identity(&input, IdentityKind::User, None, cx) {
        Ok(identity) => identity,
        Err(e) => {
            return Err(trail.refused(action, None, e.code.as_str(), e).await);
        }
    };
    if !store.insert_identity(&tenant(cx.config), &identity).await? {
        return Err(trail
            .refused(
                action,
                None,
                "email_taken",
                ApiError::new(ErrorCode::Conflict)
                    .with_message("An account with this email already exists"),
            )
            .await);
    }
    trail
        .record(action, Outcome::Success, Some(&identity.id), &[])
        .await?;
    session_response(store, &req, cx, &identity, input.remember_device, 201).await
}

/// `POST /api/auth/logout`: revokes the current session (its sockets close
/// with 4001) and clears the cookies.
pub async fn logout(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let hash = caller
        .session_hash
        .as_deref()
        .ok_or_else(|| ApiError::internal("session caller without a session"))?;
    let store = cx.store()?;
    store
        .revoke_session(&caller.scope, hash, cx.now.unix())
        .await?;
    cx.audit()?
        .record(
            cx.audit_action()?,
            Outcome::Success,
            caller.identity_id.as_deref(),
            &[],
        )
        .await?;
    revocation::close_sockets(cx.env, store, &caller.scope, &[hash.to_owned()]).await;
    let mut resp = response::json(200, &json!({ "loggedOut": true }));
    session_issue::clear_cookies(&mut resp, &req, cx.config)?;
    Ok(resp)
}
