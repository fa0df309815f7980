//! `POST /api/auth/bootstrap/exchange` (SPEC §6): one cloud bootstrap token,
//! exactly once. Verification and the single-use claim are
//! `auth::bootstrap::verify`; this module reads the request and answers.

use crate::auth::bootstrap::{self, VerifiedBootstrap};
use crate::body;
use crate::error::ApiError;
use crate::pipeline::RequestContext;
use crate::response;
use serde::Deserialize;
use serde_json::json;
use worker::{Request, Response};

#[derive(Deserialize)]
struct ExchangeRequest {
    token: String,
}

pub async fn exchange(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let request: ExchangeRequest = body::json(&mut req).await?;
    let verified = bootstrap::verify(&request.token, cx.env, cx.config).await?;
    Ok(exchanged(&verified))
}

/// The answer to a successful exchange.
fn exchanged(verified: &VerifiedBootstrap) -> Response {
    let claims = &verified.claims;
    response::json(
        201,
        &json!({
            "containerId": claims.container_id,
            "jti": claims.jti,
            "expiresAt": claims.exp,
        }),
    )
}
