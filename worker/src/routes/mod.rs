//! Handlers, one module per route area. [`dispatch`] is the only way in, and it
//! is keyed by the route table's ids: a route has a handler only if it is in
//! the table.

mod auth;
mod messaging;
mod server;

use crate::error::ApiError;
use crate::pipeline::RequestContext;
use agentgate_shared::routes::RouteId;
use worker::{Request, Response};

pub async fn dispatch(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    match cx.route.id {
        RouteId::ServerPing => server::ping(cx),
        RouteId::ServerHealth => server::health(cx).await,
        RouteId::ServerStatus => server::status(cx),
        RouteId::GatewayJwks => server::gateway_jwks(cx),
        RouteId::AuthMe => auth::me(cx),
        RouteId::ChannelSocket => messaging::connect(req, cx).await,
    }
}
