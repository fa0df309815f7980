//! Handlers, one module per route area. [`dispatch`] is the only way in, and it
//! is keyed by the route table's ids: a route has a handler only if it is in
//! the table.

mod agents;
mod auth;
mod bootstrap;
#[cfg(feature = "dev")]
mod dev;
#[cfg(feature = "dev")]
mod dev_ratelimit;
mod messaging;
mod server;

use crate::context::RequestContext;
use crate::error::ApiError;
use agentgate_shared::routes::RouteId;
use agentgate_shared::rules::Page;
use worker::{Request, Response};

pub async fn dispatch(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    match cx.route.id {
        RouteId::ServerPing => server::ping(cx),
        RouteId::ServerHealth => server::health(cx).await,
        RouteId::ServerStatus => server::status(cx),
        RouteId::GatewayJwks => server::gateway_jwks(cx),
        RouteId::AuthMe => auth::me(cx).await,
        RouteId::AuthStatus => auth::status(cx).await,
        RouteId::AuthSetup => auth::setup(req, cx).await,
        RouteId::AuthLoginPassword => auth::login(req, cx).await,
        RouteId::AuthLogout => auth::logout(req, cx).await,
        RouteId::AuthRegister => auth::register(req, cx).await,
        RouteId::AuthPasswordChange => auth::password_change(req, cx).await,
        RouteId::AuthSessionsList => auth::sessions_list(cx).await,
        RouteId::AuthSessionRevoke => auth::session_revoke(req, cx).await,
        RouteId::AuthSessionsRevokeAll => auth::sessions_revoke_all(req, cx).await,
        RouteId::MachineTokenCreate => auth::machine_token_create(req, cx).await,
        RouteId::MachineTokenList => auth::machine_token_list(cx).await,
        RouteId::MachineTokenRotate => auth::machine_token_rotate(cx).await,
        RouteId::MachineTokenRevoke => auth::machine_token_revoke(cx).await,
        RouteId::AuditList => auth::audit_list(req, cx).await,
        RouteId::BootstrapExchange => bootstrap::exchange(req, cx).await,
        RouteId::ChannelSocket => messaging::connect(req, cx).await,
        RouteId::SocketIo | RouteId::SocketIoPost => {
            crate::socketio::gateway::handle(req, cx).await
        }
        RouteId::ChannelCreate => messaging::create(req, cx).await,
        RouteId::ChannelList => messaging::list(req, cx).await,
        RouteId::ChannelParticipantAdd => messaging::add_participant(req, cx).await,
        RouteId::ChannelParticipantRemove => messaging::remove_participant(req, cx).await,
        RouteId::ChannelMessagesList => messaging::messages(req, cx).await,
        RouteId::ChannelMessagePost => messaging::post(req, cx).await,
        RouteId::MessagingSubmit => messaging::submit(req, cx).await,
        RouteId::DmChannel => messaging::dm_channel(req, cx).await,
        RouteId::DmChannelCreate => messaging::create_dm_channel(req, cx).await,
        RouteId::WsTicket => messaging::ws_ticket(req, cx).await,
        #[cfg(feature = "dev")]
        RouteId::DevCryptoVerify => dev::crypto_verify(req, cx).await,
        #[cfg(feature = "dev")]
        RouteId::DevStorageConformance => dev::storage_conformance(cx).await,
        RouteId::AgentList => agents::list(req, cx).await,
        RouteId::AgentCreate => agents::create(req, cx).await,
        RouteId::AgentGet => agents::get(req, cx).await,
        RouteId::AgentUpdate => agents::update(req, cx).await,
        RouteId::AgentDelete => agents::delete(req, cx).await,
        RouteId::AgentStart
        | RouteId::AgentStop
        | RouteId::AgentLogs
        | RouteId::MemoryList
        | RouteId::MemoryDelete
        | RouteId::MemoryRoomCreate
        | RouteId::AgentRoomMemories
        | RouteId::AgentLogDelete
        | RouteId::AgentPanels
        | RouteId::AgentRuns
        | RouteId::AgentRun
        | RouteId::AgentWorldAdd
        | RouteId::AgentWorldUpdate
        | RouteId::MemoryRoomsList
        | RouteId::MemoryRoomGet
        | RouteId::MemoryRoomMemories
        | RouteId::MemoryUpdate
        | RouteId::MemoryDeleteOne
        | RouteId::MemoryDeleteRoom
        | RouteId::AudioSpeechConversation
        | RouteId::AudioSpeechGenerate
        | RouteId::AudioSynthesize
        | RouteId::AudioTranscribe
        | RouteId::AudioSpeech
        | RouteId::MediaAgentUpload => agents::runtime(req, cx).await,
        RouteId::ServerLogs
        | RouteId::ServerStop
        | RouteId::ServerHello
        | RouteId::ServerDebugServers
        | RouteId::ServerLogsSubmit
        | RouteId::ServerLogsClear
        | RouteId::SystemEnvGet
        | RouteId::SystemEnvUpdate
        | RouteId::AgentWorlds
        | RouteId::MemoryGroupCreate
        | RouteId::MemoryGroupDelete
        | RouteId::MemoryGroupClear => agents::server_wide(req, cx).await,
        #[cfg(feature = "dev")]
        RouteId::DevRateLimitBurst => dev_ratelimit::burst(req, cx).await,
        #[cfg(feature = "dev")]
        RouteId::DevPanic => dev::panic(),
    }
}

/// `?before=&limit=` of a listing that returns at most `max_limit` items.
pub(crate) fn page(req: &Request, default_limit: u32, max_limit: u32) -> Result<Page, ApiError> {
    let before = crate::http::query_param(req, "before");
    let limit = crate::http::query_param(req, "limit");
    Ok(Page::parse(
        before.as_deref(),
        limit.as_deref(),
        default_limit,
        max_limit,
    )?)
}
