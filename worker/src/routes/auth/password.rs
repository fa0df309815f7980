//! `POST /api/auth/password/change` (SPEC §4, §5): needs the current
//! password, applies the policy to the new one, and revokes every other
//! session of the identity (their sockets close with 4001); the current
//! session stays.

use super::password_login::password_error;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::{body, response};
use crate::storage::{IdentityRepo, SessionRepo};
use crate::{random, revocation};
use agentgate_shared::audit::Outcome;
use agentgate_shared::password::{self, PolicyInputs};
use agentgate_shared::ErrorCode;
use serde::Deserialize;
use serde_json::json;
use worker::{Request, Response};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChangeBody {
    current_password: String,
    new_password: String,
}

pub async fn change(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let input: ChangeBody = body::json(&mut req).await?;
    let store = cx.store()?;
    let trail = cx.audit()?;
    let action = cx.audit_action()?;
    let actor = caller.identity_id.as_deref();
    let identity = store
        .identity(&caller.scope)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken).with_detail("identity gone"))?;
    let current_ok = password::verify_or_dummy(
        &input.current_password,
        identity.password_hash.as_deref(),
        cx.config.password_hash,
    )
    .map_err(|e| ApiError::internal(format!("password verification: {e}")))?;
    if !current_ok {
        return Err(trail
            .refused(
                action,
                actor,
                "invalid_credentials",
                ApiError::new(ErrorCode::InvalidCredentials)
                    .with_message("The current password is not correct"),
            )
            .await);
    }
    let inputs = PolicyInputs {
        email: identity.email.as_deref(),
        display_name: Some(&identity.display_name),
    };
    let phc = match password::set_password(
        &input.new_password,
        inputs,
        &random::bytes()?,
        cx.config.password_hash,
    ) {
        Ok(phc) => phc,
        Err(e) => {
            let e = password_error(e);
            return Err(trail.refused(action, actor, e.code.as_str(), e).await);
        }
    };
    store.set_password_hash(&caller.scope, phc.as_str()).await?;
    let revoked = store
        .revoke_sessions_except(&caller.scope, caller.session_hash.as_deref(), cx.now.unix())
        .await?;
    trail
        .record(
            action,
            Outcome::Success,
            actor,
            &[("revokedSessions", json!(revoked.len()))],
        )
        .await?;
    revocation::close_sockets(cx.env, store, &caller.scope, &revoked).await;
    Ok(response::json(
        200,
        &json!({ "changed": true, "revokedSessions": revoked.len() }),
    ))
}
