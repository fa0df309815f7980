//! Handlers, one module per route area. [`dispatch`] is the only way in, and it
//! is keyed by the route table's ids: a route has a handler only if it is in
//! the table.

mod auth;
mod dev;
mod dev_ratelimit;
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
        RouteId::ChannelCreate => messaging::create(req, cx).await,
        RouteId::ChannelList => messaging::list(req, cx).await,
        RouteId::ChannelParticipantAdd => messaging::add_participant(req, cx).await,
        RouteId::ChannelParticipantRemove => messaging::remove_participant(req, cx).await,
        RouteId::ChannelMessagesList => messaging::messages(req, cx).await,
        RouteId::ChannelMessagePost => messaging::post(req, cx).await,
        RouteId::MessagingSubmit => messaging::submit(req, cx).await,
        RouteId::DmChannel => messaging::dm_channel(req, cx).await,
        RouteId::WsTicket => messaging::ws_ticket(req, cx).await,
        RouteId::DevCryptoVerify => dev::crypto_verify(req, cx).await,
        RouteId::DevRateLimitFailedLogin => dev_ratelimit::failed_login(req, cx).await,
        RouteId::DevRateLimitBurst => dev_ratelimit::burst(req, cx).await,
    }
}
