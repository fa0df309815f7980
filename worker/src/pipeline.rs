//! The path of a request: configuration → preflight → body limit → route table
//! → IP rate limits → gateway key → authentication → permission → entity rate
//! limits → handler → response headers.
//! Each step either passes the request on or ends it with an [`ApiError`].

use crate::error::ApiError;
use crate::storage::{RequestStore, Store};
use crate::{auth, body, env_config, random, ratelimit, response, routes};
use agentgate_shared::config::Config;
use agentgate_shared::routes::{resolve, PathParams, Resolution, RouteSpec};
use agentgate_shared::ErrorCode;
use worker::{Env, Method, Request, Response};

/// What a handler gets besides the request.
pub struct RequestContext<'a> {
    pub env: &'a Env,
    /// The request's store (one PostgreSQL connection per request).
    pub stores: &'a RequestStore<'a>,
    pub config: &'a Config,
    pub request_id: &'a str,
    pub route: &'static RouteSpec,
    pub params: PathParams,
    pub caller: Option<auth::Caller>,
}

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
    let preflight = req.method() == Method::Options;
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
    body::check_declared_length(&req)?;
    let path = req.path();
    let (spec, params) = match resolve(req.method().as_ref(), &path) {
        Resolution::Found(spec, _) if spec.development_only && !config.is_development() => {
            return Err(ErrorCode::NotFound.into())
        }
        Resolution::Found(spec, params) => (spec, params),
        Resolution::MethodNotAllowed(allow) => return Err(ApiError::method_not_allowed(allow)),
        Resolution::NotFound => return Err(ErrorCode::NotFound.into()),
    };
    let limited = ratelimit::enforce_ip(&req, env, config, spec).await?;
    auth::check_gateway_key(&req, config, spec).map_err(|e| limited.on_error(e))?;
    let caller = auth::authenticate(&req, stores, config, spec)
        .await
        .map_err(|e| limited.on_error(e))?;
    if let Some(caller) = &caller {
        auth::authorize(caller, spec).map_err(|e| limited.on_error(e))?;
    }
    let limited =
        ratelimit::enforce_entity(&req, env, config, spec, caller.as_ref(), limited).await?;
    let cx = RequestContext {
        env,
        stores,
        config,
        request_id,
        route: spec,
        params,
        caller,
    };
    limited.apply(routes::dispatch(req, &cx).await)
}

impl RequestContext<'_> {
    /// The request's store.
    pub fn store(&self) -> Result<&Store, ApiError> {
        Ok(self.stores.get()?)
    }
}

/// A request header as a string, if present and readable.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}
