//! First run (SPEC §5): `POST /api/auth/setup` creates the owner with a
//! password and signs them in. In cloud-provisioned mode it needs the
//! bootstrap session a verified bootstrap token was exchanged for (SPEC §6),
//! which it consumes. Once an owner exists it answers 409; two concurrent
//! setups cannot both win (one owner per tenant is a unique index).

use super::password_login::{new_identity, NewIdentityBody};
use super::session_response;
use crate::audit::{route_action, AuditTrail};
use crate::auth::{now_secs, tenant, CredentialKind};
use crate::error::ApiError;
use crate::pipeline::RequestContext;
use crate::storage::{self, IdentityRepo, SessionRepo};
use crate::{body, revocation};
use agentgate_shared::audit::Outcome;
use agentgate_shared::session::IdentityKind;
use agentgate_shared::ErrorCode;
use serde_json::json;
use worker::{Request, Response};

fn already_done() -> ApiError {
    ApiError::new(ErrorCode::Conflict).with_message("Setup is already complete")
}

pub async fn setup(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let store = storage::open(cx.env, cx.config)?;
    let trail = AuditTrail::new(&store, cx, &req);
    let action = route_action(cx)?;
    let fail = |reason: &'static str| [("reason", json!(reason))];
    if store.owner_exists(&tenant(cx.config)).await? {
        trail
            .record(action, Outcome::Failure, None, &fail("already_complete"))
            .await?;
        return Err(already_done());
    }
    let cloud_provisioned = cx.config.cloud.as_ref().is_some_and(|c| c.provisioned);
    let bootstrap = cx
        .caller
        .as_ref()
        .filter(|c| c.credential == CredentialKind::BootstrapSession);
    if cloud_provisioned && bootstrap.is_none() {
        trail
            .record(action, Outcome::Failure, None, &fail("bootstrap_required"))
            .await?;
        return Err(ApiError::new(ErrorCode::AuthRequired).with_message(
            "This deployment is cloud-provisioned: exchange a bootstrap token first \
             (POST /api/auth/bootstrap/exchange)",
        ));
    }
    let input: NewIdentityBody = body::json(&mut req).await?;
    let cloud_link = bootstrap.map(|b| b.entity_id.clone());
    let owner = match new_identity(&input, IdentityKind::Owner, cloud_link, cx) {
        Ok(owner) => owner,
        Err(e) => {
            trail
                .record(
                    action,
                    Outcome::Failure,
                    None,
                    &[("reason", json!(e.code.as_str()))],
                )
                .await?;
            return Err(e);
        }
    };
    if !store.insert_identity(&tenant(cx.config), &owner).await? {
        trail
            .record(action, Outcome::Failure, None, &fail("already_complete"))
            .await?;
        return Err(already_done());
    }
    // The bootstrap session is single use: setup ends it.
    if let Some(b) = bootstrap {
        if let Some(hash) = &b.session_hash {
            store
                .revoke_session(&b.scope, hash, now_secs() as i64)
                .await?;
            revocation::close_sockets(cx.env, &store, &b.scope, std::slice::from_ref(hash)).await;
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
    session_response(&store, &req, cx, &owner, input.remember_device, 201).await
}
