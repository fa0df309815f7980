//! First run (SPEC §5): `POST /api/auth/setup` creates the owner with a
//! password and signs them in. In cloud-provisioned mode it needs a
//! verified bootstrap token (SPEC §6): in the request, or as the bootstrap
//! session it was exchanged for, which setup consumes. Once an owner exists it answers 409; two concurrent
//! setups cannot both win (one owner per tenant is a unique index).

use super::password_login::{new_identity, NewIdentityBody};
use super::session_response;
use crate::auth::bootstrap as auth_bootstrap;
use crate::auth::{tenant, CredentialKind};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::body;
use crate::revocation;
use crate::storage::{IdentityRepo, SessionRepo};
use agentgate_shared::audit::Outcome;
use agentgate_shared::session::IdentityKind;
use agentgate_shared::ErrorCode;
use serde_json::json;
use worker::{Request, Response};

fn already_done() -> ApiError {
    ApiError::new(ErrorCode::Conflict).with_message("Setup is already complete")
}

pub async fn setup(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let store = cx.store()?;
    let trail = cx.audit()?;
    let action = cx.audit_action()?;
    if store.owner_exists(&tenant(cx.config)).await? {
        return Err(trail
            .refused(action, None, "already_complete", already_done())
            .await);
    }
    let input: NewIdentityBody = body::json(&mut req).await?;
    let cloud_provisioned = cx.config.cloud.as_ref().is_some_and(|c| c.provisioned);
    let bootstrap = cx
        .caller
        .as_ref()
        .filter(|c| c.credential == CredentialKind::BootstrapSession);
    // Cloud-provisioned: the owner is the cloud user a bootstrap token speaks
    // for, proven by the session it was exchanged for, or by the token itself
    // in this request (verified and claimed here: single use either way).
    let cloud_link = match (bootstrap, &input.bootstrap_token) {
        (Some(b), _) => Some(b.entity_id.clone()),
        (None, Some(token)) if cx.config.cloud.is_some() => {
            match auth_bootstrap::verify(token, cx.store()?, cx.config, cx.now.secs()).await {
                Ok(verified) => Some(verified.entity_id()),
                Err(e) => {
                    let reason = auth_bootstrap::refusal_reason(&e).to_owned();
                    return Err(trail.refused(action, None, &reason, e).await);
                }
            }
        }
        (None, Some(_)) => {
            return Err(ApiError::bad_request(
                "Invalid field `bootstrapToken`: cloud bootstrap is not configured",
            ))
        }
        (None, None) => None,
    };
    if cloud_provisioned && cloud_link.is_none() {
        return Err(trail
            .refused(
                action,
                None,
                "bootstrap_required",
                ApiError::new(ErrorCode::AuthRequired).with_message(
                    "This deployment is cloud-provisioned: send `bootstrapToken`, or exchange it \
             first (POST /api/auth/bootstrap/exchange)",
                ),
            )
            .await);
    }
    let owner = match new_identity(&input, IdentityKind::Owner, cloud_link, cx) {
        Ok(owner) => owner,
        Err(e) => {
            return Err(trail.refused(action, None, e.code.as_str(), e).await);
        }
    };
    if !store.insert_identity(&tenant(cx.config), &owner).await? {
        return Err(trail
            .refused(action, None, "already_complete", already_done())
            .await);
    }
    // The bootstrap session is single use: setup ends it.
    if let Some(b) = bootstrap {
        if let Some(hash) = &b.session_hash {
            store.revoke_session(&b.scope, hash, cx.now.unix()).await?;
            revocation::close_sockets(cx.env, store, &b.scope, std::slice::from_ref(hash)).await;
        }
    }
    trail
        .record(
            action,
            Outcome::Success,
            Some(&owner.id),
            &[(
                "mode",
                json!(if cloud_provisioned { "cloud" } else { "local" }),
            )],
        )
        .await?;
    session_response(store, &req, cx, &owner, input.remember_device, 201).await
}
