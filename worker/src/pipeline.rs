//! The path of a request: configuration → preflight → body limit → route table
//! → IP rate limits → gateway key → authentication → permission → entity rate
//! limits → handler → response headers.
//! Each step either passes the request on or ends it with an [`ApiError`].

use crate::auth::GatewayKey;
use crate::client::ClientInfo;
use crate::clock::Now;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::{self, body, header, response};
use crate::storage::RequestStore;
use crate::{auth, env_config, random, ratelimit, routes};
use agentgate_shared::config::Config;
use agentgate_shared::routes::{resolve, Resolution};
use agentgate_shared::ErrorCode;
use worker::{Env, Request, Response};

pub async fn handle(req: Request, env: Env) -> Response {
    let request_id = random::request_id();
    let origin = header(&req, "origin");
    let config = match env_config::load(&env) {
        Ok(config) => config,
        Err(e) => {
            // Never serve with a broken configuration: every request gets 503.
            let error = ApiError::new(ErrorCode::Misconfigured)
                .with_message(format!("The gateway is misconfigured: {e}"))
                .with_field("variable", e.variable.into());
            return response::finalize(
                error.into_response(&request_id, false),
                &request_id,
                None,
                None,
                false,
            );
        }
    };
    let preflight = http::method(&req) == "OPTIONS";
    let outcome = if preflight {
        preflight_response(&req)
    } else {
        route(req, &env, &config, &request_id).await
    };
    let response =
        outcome.unwrap_or_else(|e| e.into_response(&request_id, config.is_development()));
    response::finalize(
        response,
        &request_id,
        Some(&config),
        origin.as_deref(),
        preflight,
    )
}

/// CORS preflight: 204 for a known path (CORS headers are added only for an
/// allowed origin, by `finalize`), 404 for an unknown one.
fn preflight_response(req: &Request) -> Result<Response, ApiError> {
    let path = req.path();
    match resolve("GET", &path) {
        Resolution::NotFound if matches!(resolve("POST", &path), Resolution::NotFound) => {
            Err(ErrorCode::NotFound.into())
        }
        _ => Ok(response::empty(204)),
    }
}

/// Routes the request with one store for all its steps, closed once the
/// handler has answered.
async fn route(
    req: Request,
    env: &Env,
    config: &Config,
    request_id: &str,
) -> Result<Response, ApiError> {
    let stores = RequestStore::new(env, config);
    let answer = route_with(req, env, config, request_id, &stores).await;
    stores.close().await;
    answer
}

async fn route_with(
    req: Request,
    env: &Env,
    config: &Config,
    request_id: &str,
    stores: &RequestStore<'_>,
) -> Result<Response, ApiError> {
    let now = Now::read();
    body::check_declared_length(&req)?;
    let path = req.path();
    let (spec, params) = match resolve(&http::method(&req), &path) {
        Resolution::Found(spec, _) if spec.development_only && !config.is_development() => {
            return Err(ErrorCode::NotFound.into())
        }
        Resolution::Found(spec, params) => (spec, params),
        Resolution::MethodNotAllowed(allow) => return Err(ApiError::method_not_allowed(allow)),
        Resolution::NotFound => return Err(ErrorCode::NotFound.into()),
    };
    auth::check_sign_in(&req, config, spec)?;
    let limited = ratelimit::enforce_ip(&req, env, config, spec).await?;
    let key = auth::check_gateway_key(&req, config, spec).map_err(|e| limited.on_error(e))?;
    let caller = match auth::authenticate(&req, stores, config, spec, now).await {
        Ok(caller) => caller,
        // Without the key, a failed credential answers as a missing key.
        Err(e) if key == GatewayKey::Missing => {
            let refused = ApiError::new(ErrorCode::ApiKeyRequired)
                .with_detail(e.detail().unwrap_or(e.code.as_str()).to_owned());
            return Err(limited.on_error(refused));
        }
        Err(e) => return Err(limited.on_error(e)),
    };
    key.require(caller.as_ref())
        .map_err(|e| limited.on_error(e))?;
    if let Some(caller) = &caller {
        auth::authorize(caller, spec).map_err(|e| limited.on_error(e))?;
    }
    let limited =
        ratelimit::enforce_entity(&req, env, config, spec, caller.as_ref(), limited).await?;
    let client = ClientInfo::of(&req, config);
    let cx = RequestContext::new(
        env, stores, config, request_id, spec, params, caller, client, now,
    );
    limited.apply(routes::dispatch(req, &cx).await)
}
