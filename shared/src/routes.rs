//! The route table (SPEC §7): for every route, the credential kinds it accepts,
//! the permission or scope it needs, its rate-limit buckets and its audit
//! action. The worker dispatches only through [`resolve`].
//!
//! Architecture Invariant: a route not in [`ROUTES`] is denied (404, or 405 when
//! the path exists with another method). There is no fallback handler.

/// The HTTP methods the gateway routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "GET" | "HEAD" => Self::Get,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            _ => return None,
        })
    }

    /// Methods that change state: cookie-authenticated requests need CSRF proof.
    pub fn is_unsafe(self) -> bool {
        !matches!(self, Self::Get)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// A set of credential kinds a route accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials(u8);

impl Credentials {
    /// No credential needed (public route).
    pub const PUBLIC: Self = Self(0);
    pub const SESSION: Self = Self(1);
    pub const MACHINE_TOKEN: Self = Self(1 << 1);
    pub const EXTERNAL_JWT: Self = Self(1 << 2);
    pub const LEGACY_BEARER: Self = Self(1 << 3);
    /// A single-use WebSocket ticket in `?ticket=` (socket upgrades only).
    pub const WS_TICKET: Self = Self(1 << 4);
    /// A 15-minute bootstrap session from `POST /api/auth/bootstrap/exchange`:
    /// accepted only by first-run setup.
    pub const BOOTSTRAP_SESSION: Self = Self(1 << 5);
    /// Browser sessions and external JWTs: the people, not the machines.
    pub const USER: Self = Self(Self::SESSION.0 | Self::EXTERNAL_JWT.0);
    /// Everything a caller may present in a header or cookie.
    pub const ANY: Self = Self(
        Self::SESSION.0 | Self::MACHINE_TOKEN.0 | Self::EXTERNAL_JWT.0 | Self::LEGACY_BEARER.0,
    );

    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub const fn contains(self, other: Self) -> bool {
        other.0 != 0 && self.0 & other.0 == other.0
    }

    pub const fn is_public(self) -> bool {
        self.0 == 0
    }
}

/// Permissions (SPEC §7). Machine tokens carry these as scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    AgentRead,
    AgentCreate,
    AgentWrite,
    MemoryRead,
    MemoryWrite,
    MessagingRead,
    MessagingSend,
    SystemRead,
    SystemWrite,
    Admin,
}

impl Permission {
    pub const ALL: [Permission; 10] = [
        Self::AgentRead,
        Self::AgentCreate,
        Self::AgentWrite,
        Self::MemoryRead,
        Self::MemoryWrite,
        Self::MessagingRead,
        Self::MessagingSend,
        Self::SystemRead,
        Self::SystemWrite,
        Self::Admin,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AgentRead => "agent:read",
            Self::AgentCreate => "agent:create",
            Self::AgentWrite => "agent:write",
            Self::MemoryRead => "memory:read",
            Self::MemoryWrite => "memory:write",
            Self::MessagingRead => "messaging:read",
            Self::MessagingSend => "messaging:send",
            Self::SystemRead => "system:read",
            Self::SystemWrite => "system:write",
            Self::Admin => "admin:*",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Rate-limit buckets (SPEC §8). The limiter key is derived by the worker from
/// the bucket and the caller (IP or entity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateBucket {
    /// §10 sensitive routes, per client IP.
    Sensitive,
    /// Other `/api/auth/*`, per client IP.
    Auth,
    /// The default API bucket, per entity.
    Api,
    /// A per-entity category bucket named after a permission.
    Category(Permission),
    WsConnect,
    WsMessage,
}

/// What an Engine.IO request itself may carry (the cookie, or a header).
const SOCKET_IO_CREDENTIALS: Credentials = Credentials::SESSION
    .union(Credentials::MACHINE_TOKEN)
    .union(Credentials::EXTERNAL_JWT);

/// Every route the gateway serves. Handlers are chosen by this id; the enum is
/// deliberately exhaustive so the worker's dispatch fails to compile when a
/// route has no handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteId {
    ServerPing,
    ServerHealth,
    ServerStatus,
    GatewayJwks,
    AuthMe,
    BootstrapExchange,
    AuthStatus,
    AuthSetup,
    AuthLoginPassword,
    AuthLogout,
    AuthRegister,
    AuthPasswordChange,
    AuthSessionsList,
    AuthSessionRevoke,
    AuthSessionsRevokeAll,
    MachineTokenCreate,
    MachineTokenList,
    MachineTokenRotate,
    MachineTokenRevoke,
    AuditList,
    ChannelSocket,
    /// Engine.IO/Socket.IO at `/socket.io/` (long-poll GET and WebSocket).
    SocketIo,
    /// Engine.IO polling POST at `/socket.io/`.
    SocketIoPost,
    ChannelCreate,
    ChannelList,
    ChannelParticipantAdd,
    ChannelParticipantRemove,
    ChannelMessagesList,
    ChannelMessagePost,
    MessagingSubmit,
    DmChannel,
    DmChannelCreate,
    WsTicket,
    #[cfg(feature = "dev")]
    DevCryptoVerify,
    #[cfg(feature = "dev")]
    DevStorageConformance,
    AgentList,
    AgentCreate,
    AgentGet,
    AgentUpdate,
    AgentDelete,
    AgentStart,
    AgentStop,
    AgentLogs,
    MemoryList,
    MemoryDelete,
    MemoryRoomCreate,
    AgentRoomMemories,
    ServerLogs,
    ServerStop,
    #[cfg(feature = "dev")]
    DevRateLimitBurst,
    ServerHello,
    ServerDebugServers,
    ServerLogsSubmit,
    ServerLogsClear,
    SystemEnvGet,
    SystemEnvUpdate,
    AgentWorlds,
    AgentLogDelete,
    AgentPanels,
    AgentRuns,
    AgentRun,
    AgentWorldAdd,
    AgentWorldUpdate,
    MemoryRoomsList,
    MemoryRoomGet,
    MemoryRoomMemories,
    MemoryUpdate,
    MemoryDeleteOne,
    MemoryDeleteRoom,
    MemoryGroupCreate,
    MemoryGroupDelete,
    MemoryGroupClear,
    AudioSpeechConversation,
    AudioSpeechGenerate,
    AudioSynthesize,
    AudioTranscribe,
    AudioSpeech,
    MediaAgentUpload,
    #[cfg(feature = "dev")]
    DevPanic,
}

/// Who answers a route (SPEC §7, §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// The gateway, always.
    Gateway,
    /// The agent origin: forwarded once authorized (503 without an origin).
    Origin,
    /// The registry without an origin; with one, forwarded after the
    /// registry's checks (the agents routes).
    RegistryOrOrigin,
}

/// One row of the route table.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub id: RouteId,
    pub method: Method,
    /// Path pattern; `:name` segments capture one path segment.
    pub pattern: &'static str,
    pub credentials: Credentials,
    pub permission: Option<Permission>,
    pub buckets: &'static [RateBucket],
    /// Audit action written for this route, if it is audited (SPEC §10).
    pub audit: Option<&'static str>,
    /// Served only with `ENVIRONMENT=development` (test and benchmark hooks);
    /// 404 otherwise. Such routes exist only with the `dev` feature: the
    /// production module has no table entry for them (404 whatever the
    /// environment).
    pub development_only: bool,
    /// The route also serves callers without a credential (the handler
    /// decides what an anonymous caller may do, e.g. first-run setup).
    pub credentials_optional: bool,
    /// The route signs a browser in (setup, login, register, bootstrap
    /// exchange): SPEC §3's Origin rule and a JSON body apply before anything
    /// else, so a foreign page cannot sign a browser into another account.
    pub issues_session: bool,
    /// Who answers it.
    pub answered: Answered,
}

const fn route(id: RouteId, method: Method, pattern: &'static str) -> RouteSpec {
    RouteSpec {
        id,
        method,
        pattern,
        credentials: Credentials::PUBLIC,
        permission: None,
        buckets: &[],
        audit: None,
        development_only: false,
        credentials_optional: false,
        issues_session: false,
        answered: Answered::Gateway,
    }
}

impl RouteSpec {
    const fn accepts(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }
    const fn needs(mut self, permission: Permission) -> Self {
        self.permission = Some(permission);
        self
    }
    const fn limited(mut self, buckets: &'static [RateBucket]) -> Self {
        self.buckets = buckets;
        self
    }
    const fn optional_credentials(mut self) -> Self {
        self.credentials_optional = true;
        self
    }
    const fn issues_session(mut self) -> Self {
        self.issues_session = true;
        self
    }
    #[cfg(feature = "dev")]
    const fn development_only(mut self) -> Self {
        self.development_only = true;
        self
    }
    const fn forwarded(mut self) -> Self {
        self.answered = Answered::Origin;
        self
    }
    const fn registry_or_origin(mut self) -> Self {
        self.answered = Answered::RegistryOrOrigin;
        self
    }
    const fn audited(mut self, action: &'static str) -> Self {
        self.audit = Some(action);
        self
    }
}

use Method::*;
use RouteId::*;

const SENSITIVE: &[RateBucket] = &[RateBucket::Sensitive];
const MESSAGING_SEND: &[RateBucket] = &[
    RateBucket::Api,
    RateBucket::Category(Permission::MessagingSend),
];
const MESSAGING_READ: &[RateBucket] = &[
    RateBucket::Api,
    RateBucket::Category(Permission::MessagingRead),
];

const AGENT_READ: &[RateBucket] = &[RateBucket::Api, RateBucket::Category(Permission::AgentRead)];
const AGENT_WRITE: &[RateBucket] = &[
    RateBucket::Api,
    RateBucket::Category(Permission::AgentWrite),
];
const MEMORY_READ: &[RateBucket] = &[
    RateBucket::Api,
    RateBucket::Category(Permission::MemoryRead),
];
const MEMORY_WRITE: &[RateBucket] = &[
    RateBucket::Api,
    RateBucket::Category(Permission::MemoryWrite),
];
const ADMIN: &[RateBucket] = &[RateBucket::Api, RateBucket::Category(Permission::Admin)];
const SYSTEM_READ: &[RateBucket] = &[
    RateBucket::Api,
    RateBucket::Category(Permission::SystemRead),
];
const SYSTEM_WRITE: &[RateBucket] = &[
    RateBucket::Api,
    RateBucket::Category(Permission::SystemWrite),
];

/// The route table. Order matters only for readability: patterns don't overlap.
pub static ROUTES: &[RouteSpec] = &[
    route(ServerPing, Get, "/api/server/ping"),
    route(ServerHealth, Get, "/api/server/health"),
    route(GatewayJwks, Get, "/.well-known/jwks.json"),
    route(ServerStatus, Get, "/api/server/status")
        .accepts(Credentials::ANY)
        .needs(Permission::SystemRead)
        .limited(&[
            RateBucket::Api,
            RateBucket::Category(Permission::SystemRead),
        ]),
    route(AuthMe, Get, "/api/auth/me")
        .accepts(Credentials::ANY)
        .limited(&[RateBucket::Auth]),
    // SPEC §6: one cloud bootstrap token, exactly once (public: the token is
    // the credential, checked by the handler).
    route(BootstrapExchange, Post, "/api/auth/bootstrap/exchange")
        .issues_session()
        .limited(&[RateBucket::Sensitive])
        .audited("auth.bootstrap.exchange"),
    route(AuthStatus, Get, "/api/auth/status").limited(&[RateBucket::Auth]),
    // First run: public (local mode) or a bootstrap session (cloud mode);
    // the handler decides which the deployment needs.
    route(AuthSetup, Post, "/api/auth/setup")
        .accepts(Credentials::BOOTSTRAP_SESSION)
        .optional_credentials()
        .issues_session()
        .limited(SENSITIVE)
        .audited("auth.setup"),
    route(AuthLoginPassword, Post, "/api/auth/login/password")
        .issues_session()
        .limited(SENSITIVE)
        .audited("auth.login.password"),
    route(AuthLogout, Post, "/api/auth/logout")
        .accepts(Credentials::SESSION)
        .limited(&[RateBucket::Auth])
        .audited("auth.logout"),
    route(AuthRegister, Post, "/api/auth/register")
        .issues_session()
        .limited(SENSITIVE)
        .audited("auth.register"),
    route(AuthPasswordChange, Post, "/api/auth/password/change")
        .accepts(Credentials::SESSION)
        .limited(SENSITIVE)
        .audited("auth.password.change"),
    route(AuthSessionsList, Get, "/api/auth/sessions")
        .accepts(Credentials::SESSION)
        .limited(&[RateBucket::Auth]),
    route(
        AuthSessionRevoke,
        Post,
        "/api/auth/sessions/:sessionId/revoke",
    )
    .accepts(Credentials::SESSION)
    .limited(SENSITIVE)
    .audited("auth.session.revoke"),
    route(AuthSessionsRevokeAll, Delete, "/api/auth/sessions/all")
        .accepts(Credentials::SESSION)
        .limited(SENSITIVE)
        .audited("auth.session.revoke_all"),
    // Machine tokens and the audit log: the owner, in a browser session.
    route(MachineTokenCreate, Post, "/api/auth/machine-tokens")
        .accepts(Credentials::SESSION)
        .needs(Permission::Admin)
        .limited(SENSITIVE)
        .audited("auth.machine_token.create"),
    route(MachineTokenList, Get, "/api/auth/machine-tokens")
        .accepts(Credentials::SESSION)
        .needs(Permission::Admin)
        .limited(&[RateBucket::Auth]),
    route(
        MachineTokenRotate,
        Post,
        "/api/auth/machine-tokens/:tokenId/rotate",
    )
    .accepts(Credentials::SESSION)
    .needs(Permission::Admin)
    .limited(SENSITIVE)
    .audited("auth.machine_token.rotate"),
    route(
        MachineTokenRevoke,
        Delete,
        "/api/auth/machine-tokens/:tokenId",
    )
    .accepts(Credentials::SESSION)
    .needs(Permission::Admin)
    .limited(SENSITIVE)
    .audited("auth.machine_token.revoke"),
    route(AuditList, Get, "/api/auth/audit")
        .accepts(Credentials::SESSION)
        .needs(Permission::Admin)
        .limited(&[RateBucket::Auth]),
    route(ChannelSocket, Get, "/api/messaging/channels/:channelId/ws")
        .accepts(
            Credentials::SESSION
                .union(Credentials::EXTERNAL_JWT)
                .union(Credentials::WS_TICKET),
        )
        .needs(Permission::MessagingRead)
        .limited(&[RateBucket::WsConnect]),
    // Socket.IO (SPEC §9): the HTTP request's own credential is optional (a
    // machine token, JWT or ticket may come in the CONNECT packet instead);
    // `ws-connect` counts the request that opens a session, not its polls.
    route(SocketIo, Get, "/socket.io/")
        .accepts(SOCKET_IO_CREDENTIALS)
        .optional_credentials()
        .needs(Permission::MessagingRead)
        .limited(&[RateBucket::WsConnect]),
    route(SocketIoPost, Post, "/socket.io/")
        .accepts(SOCKET_IO_CREDENTIALS)
        .optional_credentials()
        .needs(Permission::MessagingRead)
        .limited(&[RateBucket::WsConnect]),
    route(ChannelCreate, Post, "/api/messaging/channels")
        .accepts(Credentials::ANY)
        .needs(Permission::MessagingSend)
        .limited(MESSAGING_SEND),
    route(ChannelList, Get, "/api/messaging/channels")
        .accepts(Credentials::ANY)
        .needs(Permission::MessagingRead)
        .limited(MESSAGING_READ),
    route(
        ChannelParticipantAdd,
        Post,
        "/api/messaging/channels/:channelId/participants",
    )
    .accepts(Credentials::USER)
    .needs(Permission::MessagingSend)
    .limited(MESSAGING_SEND),
    route(
        ChannelParticipantRemove,
        Delete,
        "/api/messaging/channels/:channelId/participants/:entityId",
    )
    .accepts(Credentials::USER)
    .needs(Permission::MessagingSend)
    .limited(MESSAGING_SEND),
    route(
        ChannelMessagesList,
        Get,
        "/api/messaging/channels/:channelId/messages",
    )
    .accepts(Credentials::ANY)
    .needs(Permission::MessagingRead)
    .limited(MESSAGING_READ),
    route(
        ChannelMessagePost,
        Post,
        "/api/messaging/channels/:channelId/messages",
    )
    .accepts(Credentials::ANY)
    .needs(Permission::MessagingSend)
    .limited(MESSAGING_SEND),
    route(MessagingSubmit, Post, "/api/messaging/submit")
        .accepts(Credentials::ANY)
        .needs(Permission::MessagingSend)
        .limited(MESSAGING_SEND),
    // Reads an existing DM only: a GET never creates one (a top-level
    // cross-site navigation must not change state).
    route(DmChannel, Get, "/api/messaging/dm-channel")
        .accepts(Credentials::USER)
        .needs(Permission::MessagingRead)
        .limited(MESSAGING_READ),
    route(DmChannelCreate, Post, "/api/messaging/dm-channel")
        .accepts(Credentials::USER)
        .needs(Permission::MessagingSend)
        .limited(MESSAGING_SEND),
    route(WsTicket, Post, "/api/messaging/ws-ticket")
        .accepts(Credentials::USER)
        .needs(Permission::MessagingRead)
        .limited(MESSAGING_READ),
    // Runs signature vectors through the worker's verifiers (Wycheproof in
    // workerd, and the verify benchmark). Development only.
    #[cfg(feature = "dev")]
    route(DevCryptoVerify, Post, "/__dev/crypto/verify").development_only(),
    // Runs the storage conformance suite against the configured back end
    // inside workerd (tests/tests/storage_conformance.rs). Development only.
    #[cfg(feature = "dev")]
    route(DevStorageConformance, Post, "/__dev/storage/conformance").development_only(),
    // The agent server (SPEC §7, §13). Registry routes are answered from the
    // gateway's agents registry; runtime routes go to the agent origin.
    route(AgentList, Get, "/api/agents")
        .registry_or_origin()
        .accepts(Credentials::ANY)
        .needs(Permission::AgentRead)
        .limited(AGENT_READ),
    route(AgentCreate, Post, "/api/agents")
        .registry_or_origin()
        .accepts(Credentials::ANY)
        .needs(Permission::AgentCreate)
        .limited(&[
            RateBucket::Api,
            RateBucket::Category(Permission::AgentCreate),
        ])
        .audited("agent.create"),
    route(AgentGet, Get, "/api/agents/:agentId")
        .registry_or_origin()
        .accepts(Credentials::ANY)
        .needs(Permission::AgentRead)
        .limited(AGENT_READ),
    route(AgentUpdate, Patch, "/api/agents/:agentId")
        .registry_or_origin()
        .accepts(Credentials::ANY)
        .needs(Permission::AgentWrite)
        .limited(AGENT_WRITE)
        .audited("agent.update"),
    route(AgentDelete, Delete, "/api/agents/:agentId")
        .registry_or_origin()
        .accepts(Credentials::ANY)
        .needs(Permission::AgentWrite)
        .limited(AGENT_WRITE)
        .audited("agent.delete"),
    route(AgentStart, Post, "/api/agents/:agentId/start")
        .forwarded()
        .accepts(Credentials::ANY)
        .needs(Permission::AgentWrite)
        .limited(AGENT_WRITE)
        .audited("agent.start"),
    route(AgentStop, Post, "/api/agents/:agentId/stop")
        .forwarded()
        .accepts(Credentials::ANY)
        .needs(Permission::AgentWrite)
        .limited(AGENT_WRITE)
        .audited("agent.stop"),
    route(AgentLogs, Get, "/api/agents/:agentId/logs")
        .forwarded()
        .accepts(Credentials::ANY)
        .needs(Permission::AgentRead)
        .limited(AGENT_READ),
    route(MemoryList, Get, "/api/memory/:agentId/memories")
        .forwarded()
        .accepts(Credentials::ANY)
        .needs(Permission::MemoryRead)
        .limited(MEMORY_READ),
    route(MemoryDelete, Delete, "/api/memory/:agentId/memories")
        .forwarded()
        .accepts(Credentials::ANY)
        .needs(Permission::MemoryWrite)
        .limited(MEMORY_WRITE)
        .audited("memory.delete"),
    route(MemoryRoomCreate, Post, "/api/memory/:agentId/rooms")
        .forwarded()
        .accepts(Credentials::ANY)
        .needs(Permission::MemoryWrite)
        .limited(MEMORY_WRITE)
        .audited("memory.room.create"),
    route(
        AgentRoomMemories,
        Get,
        "/api/agents/:agentId/rooms/:roomId/memories",
    )
    .forwarded()
    .accepts(Credentials::ANY)
    .needs(Permission::MemoryRead)
    .limited(MEMORY_READ),
    route(ServerLogs, Get, "/api/server/logs")
        .forwarded()
        .accepts(Credentials::ANY)
        .needs(Permission::Admin)
        .limited(ADMIN),
    route(ServerStop, Post, "/api/server/stop")
        .forwarded()
        .accepts(Credentials::ANY)
        .needs(Permission::Admin)
        .limited(ADMIN)
        .audited("server.stop"),
    // The rest of ElizaOS 1.7's REST surface that `@elizaos/api-client`
    // 1.7.2 and the web UI call (outside `/api/messaging`), all forwarded.
    // Agent-scoped routes (`:agentId`) are checked against the registry
    // first; the server-wide ones need `admin:*` (their answers span every
    // agent and user, which the gateway can't filter).
    route(ServerHello, Get, "/api/server/hello")
        .accepts(Credentials::ANY)
        .needs(Permission::SystemRead)
        .limited(SYSTEM_READ)
        .forwarded(),
    route(ServerDebugServers, Get, "/api/server/debug/servers")
        .accepts(Credentials::ANY)
        .needs(Permission::Admin)
        .limited(ADMIN)
        .forwarded(),
    route(ServerLogsSubmit, Post, "/api/server/logs")
        .accepts(Credentials::ANY)
        .needs(Permission::SystemWrite)
        .limited(SYSTEM_WRITE)
        .audited("server.logs.submit")
        .forwarded(),
    route(ServerLogsClear, Delete, "/api/server/logs")
        .accepts(Credentials::ANY)
        .needs(Permission::Admin)
        .limited(ADMIN)
        .audited("server.logs.clear")
        .forwarded(),
    // The origin's environment holds its secrets: admins only.
    route(SystemEnvGet, Get, "/api/system/env/local")
        .accepts(Credentials::ANY)
        .needs(Permission::Admin)
        .limited(ADMIN)
        .forwarded(),
    route(SystemEnvUpdate, Post, "/api/system/env/local")
        .accepts(Credentials::ANY)
        .needs(Permission::Admin)
        .limited(ADMIN)
        .audited("system.env.update")
        .forwarded(),
    // Static before `/api/agents/:agentId`: `worlds` is not an agent id.
    route(AgentWorlds, Get, "/api/agents/worlds")
        .accepts(Credentials::ANY)
        .needs(Permission::Admin)
        .limited(ADMIN)
        .forwarded(),
    route(AgentLogDelete, Delete, "/api/agents/:agentId/logs/:logId")
        .accepts(Credentials::ANY)
        .needs(Permission::AgentWrite)
        .limited(AGENT_WRITE)
        .audited("agent.log.delete")
        .forwarded(),
    route(AgentPanels, Get, "/api/agents/:agentId/panels")
        .accepts(Credentials::ANY)
        .needs(Permission::AgentRead)
        .limited(AGENT_READ)
        .forwarded(),
    route(AgentRuns, Get, "/api/agents/:agentId/runs")
        .accepts(Credentials::ANY)
        .needs(Permission::AgentRead)
        .limited(AGENT_READ)
        .forwarded(),
    route(AgentRun, Get, "/api/agents/:agentId/runs/:runId")
        .accepts(Credentials::ANY)
        .needs(Permission::AgentRead)
        .limited(AGENT_READ)
        .forwarded(),
    route(AgentWorldAdd, Post, "/api/agents/:agentId/worlds")
        .accepts(Credentials::ANY)
        .needs(Permission::AgentWrite)
        .limited(AGENT_WRITE)
        .audited("agent.world.write")
        .forwarded(),
    route(
        AgentWorldUpdate,
        Patch,
        "/api/agents/:agentId/worlds/:worldId",
    )
    .accepts(Credentials::ANY)
    .needs(Permission::AgentWrite)
    .limited(AGENT_WRITE)
    .audited("agent.world.write")
    .forwarded(),
    route(MemoryRoomsList, Get, "/api/memory/:agentId/rooms")
        .accepts(Credentials::ANY)
        .needs(Permission::MemoryRead)
        .limited(MEMORY_READ)
        .forwarded(),
    route(MemoryRoomGet, Get, "/api/memory/:agentId/rooms/:roomId")
        .accepts(Credentials::ANY)
        .needs(Permission::MemoryRead)
        .limited(MEMORY_READ)
        .forwarded(),
    route(
        MemoryRoomMemories,
        Get,
        "/api/memory/:agentId/rooms/:roomId/memories",
    )
    .accepts(Credentials::ANY)
    .needs(Permission::MemoryRead)
    .limited(MEMORY_READ)
    .forwarded(),
    route(
        MemoryUpdate,
        Patch,
        "/api/memory/:agentId/memories/:memoryId",
    )
    .accepts(Credentials::ANY)
    .needs(Permission::MemoryWrite)
    .limited(MEMORY_WRITE)
    .audited("memory.update")
    .forwarded(),
    route(
        MemoryDeleteOne,
        Delete,
        "/api/memory/:agentId/memories/:memoryId",
    )
    .accepts(Credentials::ANY)
    .needs(Permission::MemoryWrite)
    .limited(MEMORY_WRITE)
    .audited("memory.delete")
    .forwarded(),
    route(
        MemoryDeleteRoom,
        Delete,
        "/api/memory/:agentId/memories/all/:roomId",
    )
    .accepts(Credentials::ANY)
    .needs(Permission::MemoryWrite)
    .limited(MEMORY_WRITE)
    .audited("memory.delete")
    .forwarded(),
    // Worlds made from a message server span agents and users: admins.
    route(MemoryGroupCreate, Post, "/api/memory/groups/:serverId")
        .accepts(Credentials::ANY)
        .needs(Permission::Admin)
        .limited(ADMIN)
        .audited("memory.world.write")
        .forwarded(),
    route(MemoryGroupDelete, Delete, "/api/memory/groups/:serverId")
        .accepts(Credentials::ANY)
        .needs(Permission::Admin)
        .limited(ADMIN)
        .audited("memory.world.write")
        .forwarded(),
    route(
        MemoryGroupClear,
        Delete,
        "/api/memory/groups/:serverId/memories",
    )
    .accepts(Credentials::ANY)
    .needs(Permission::Admin)
    .limited(ADMIN)
    .audited("memory.world.write")
    .forwarded(),
    // Talking to an agent by voice is sending it a message.
    route(
        AudioSpeechConversation,
        Post,
        "/api/audio/:agentId/speech/conversation",
    )
    .accepts(Credentials::ANY)
    .needs(Permission::MessagingSend)
    .limited(MESSAGING_SEND)
    .forwarded(),
    route(
        AudioSpeechGenerate,
        Post,
        "/api/audio/:agentId/speech/generate",
    )
    .accepts(Credentials::ANY)
    .needs(Permission::MessagingSend)
    .limited(MESSAGING_SEND)
    .forwarded(),
    route(
        AudioSynthesize,
        Post,
        "/api/audio/:agentId/audio-messages/synthesize",
    )
    .accepts(Credentials::ANY)
    .needs(Permission::MessagingSend)
    .limited(MESSAGING_SEND)
    .forwarded(),
    route(AudioTranscribe, Post, "/api/audio/:agentId/transcriptions")
        .accepts(Credentials::ANY)
        .needs(Permission::MessagingSend)
        .limited(MESSAGING_SEND)
        .forwarded(),
    route(AudioSpeech, Post, "/api/audio/:agentId/speech")
        .accepts(Credentials::ANY)
        .needs(Permission::MessagingSend)
        .limited(MESSAGING_SEND)
        .forwarded(),
    route(
        MediaAgentUpload,
        Post,
        "/api/media/agents/:agentId/upload-media",
    )
    .accepts(Credentials::ANY)
    .needs(Permission::AgentWrite)
    .limited(AGENT_WRITE)
    .audited("agent.media.upload")
    .forwarded(),
    // Benchmark hook of the rate limiter: one limiter's decisions per second.
    #[cfg(feature = "dev")]
    route(DevRateLimitBurst, Post, "/__dev/ratelimit/burst").development_only(),
    // Panics on purpose: shows that a panic's message reaches the log
    // (worker's panic hook, see worker/src/lib.rs) and the isolate recovers.
    #[cfg(feature = "dev")]
    route(DevPanic, Post, "/__dev/panic").development_only(),
];

/// Path parameters captured by a pattern, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PathParams(Vec<(&'static str, String)>);

impl PathParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the table says about a request line.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    Found(&'static RouteSpec, PathParams),
    /// The path exists, but not with this method; carries the allowed methods.
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

impl PartialEq for RouteSpec {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.method == other.method
    }
}

/// Look a request up in [`ROUTES`]. `method` is the raw method string (an
/// unknown method on a known path is 405).
pub fn resolve(method: &str, path: &str) -> Resolution {
    resolve_in(ROUTES, method, path)
}

fn resolve_in(table: &'static [RouteSpec], method: &str, path: &str) -> Resolution {
    let method = Method::parse(method);
    // Static segments before parameters: of the patterns a path matches,
    // only those with the most literal segments count (`/api/agents/worlds`
    // is never `/api/agents/:agentId`, whatever the method).
    let matches: Vec<(&'static RouteSpec, PathParams)> = table
        .iter()
        .filter_map(|spec| Some((spec, match_pattern(spec.pattern, path)?)))
        .collect();
    let Some(best) = matches
        .iter()
        .map(|(s, _)| static_segments(s.pattern))
        .max()
    else {
        return Resolution::NotFound;
    };
    let mut allowed = Vec::new();
    for (spec, params) in matches {
        if static_segments(spec.pattern) != best {
            continue;
        }
        if Some(spec.method) == method {
            return Resolution::Found(spec, params);
        }
        allowed.push(spec.method);
    }
    Resolution::MethodNotAllowed(allowed)
}

fn static_segments(pattern: &str) -> usize {
    pattern.split('/').filter(|s| !s.starts_with(':')).count()
}

fn match_pattern(pattern: &'static str, path: &str) -> Option<PathParams> {
    let mut params = Vec::new();
    let mut pattern_segments = pattern.split('/');
    let mut path_segments = path.split('/');
    loop {
        match (pattern_segments.next(), path_segments.next()) {
            (None, None) => return Some(PathParams(params)),
            (Some(p), Some(s)) => {
                if let Some(name) = p.strip_prefix(':') {
                    if s.is_empty() || !is_safe_param(s) {
                        return None;
                    }
                    params.push((name, s.to_owned()));
                } else if p != s {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// Path parameters are ids: letters, digits, `-` and `_` only. Anything else
/// (percent-escapes, dots) simply doesn't match a route.
fn is_safe_param(s: &str) -> bool {
    s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_table_driven() {
        let cases: &[(&str, &str, Option<RouteId>)] = &[
            ("GET", "/api/server/ping", Some(ServerPing)),
            ("HEAD", "/api/server/ping", Some(ServerPing)),
            ("GET", "/api/server/health", Some(ServerHealth)),
            ("GET", "/.well-known/jwks.json", Some(GatewayJwks)),
            (
                "GET",
                "/api/messaging/channels/abc-123/ws",
                Some(ChannelSocket),
            ),
            // A DM is read by GET and made by POST only.
            ("GET", "/api/messaging/dm-channel", Some(DmChannel)),
            ("POST", "/api/messaging/dm-channel", Some(DmChannelCreate)),
            ("GET", "/api/server/ping/", None),
            ("GET", "/api/server", None),
            ("GET", "/api/unknown", None),
            ("GET", "/api/messaging/channels//ws", None),
            ("GET", "/api/messaging/channels/..%2f/ws", None),
            ("GET", "/api/messaging/channels/a.b/ws", None),
        ];
        for (method, path, expected) in cases {
            let got = match resolve(method, path) {
                Resolution::Found(spec, _) => Some(spec.id),
                _ => None,
            };
            assert_eq!(got, *expected, "{method} {path}");
        }
    }

    #[test]
    fn captures_params() {
        match resolve("GET", "/api/messaging/channels/chan_1/ws") {
            Resolution::Found(spec, params) => {
                assert_eq!(spec.id, ChannelSocket);
                assert_eq!(params.get("channelId"), Some("chan_1"));
                assert_eq!(params.get("other"), None);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn wrong_method_is_405_with_allowed_list() {
        assert_eq!(
            resolve("POST", "/api/server/ping"),
            Resolution::MethodNotAllowed(vec![Get])
        );
        assert_eq!(
            resolve("BREW", "/api/server/ping"),
            Resolution::MethodNotAllowed(vec![Get])
        );
        assert_eq!(resolve("POST", "/nope"), Resolution::NotFound);
    }

    #[test]
    fn table_has_no_duplicate_method_and_pattern() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.pattern == b.pattern),
                    "duplicate route {} {}",
                    a.method.as_str(),
                    a.pattern
                );
            }
        }
    }

    #[test]
    fn non_public_routes_name_credentials_and_buckets() {
        for r in ROUTES {
            if !r.credentials.is_public() {
                assert!(!r.buckets.is_empty(), "{} has no rate bucket", r.pattern);
            }
        }
    }

    #[test]
    fn audited_routes_name_known_actions() {
        for r in ROUTES {
            if let Some(action) = r.audit {
                assert!(
                    crate::audit::AuditAction::from_base(action).is_some(),
                    "{} names unknown audit action {action}",
                    r.pattern
                );
            }
        }
    }

    /// What the gateway forwards names its permission; what the gateway
    /// answers on its own is never sent on.
    #[test]
    fn forwarded_routes_are_authorized() {
        for r in ROUTES {
            if r.answered != Answered::Gateway {
                assert!(
                    r.permission.is_some(),
                    "{} forwarded without a permission",
                    r.pattern
                );
                assert!(r.pattern.starts_with("/api/"), "{}", r.pattern);
            }
        }
    }

    #[test]
    fn permission_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        assert_eq!(Permission::parse("agent:*"), None);
    }

    /// Every ElizaOS route the background documents name, with the
    /// permission it needs: the table (the allowlist) must hold each one.
    #[test]
    fn table_covers_the_elizaos_routes() {
        use Permission as P;
        let expected: &[(&str, &str, Option<Permission>)] = &[
            ("GET", "/api/agents", Some(P::AgentRead)),
            ("POST", "/api/agents", Some(P::AgentCreate)),
            ("GET", "/api/agents/a1", Some(P::AgentRead)),
            ("PATCH", "/api/agents/a1", Some(P::AgentWrite)),
            ("DELETE", "/api/agents/a1", Some(P::AgentWrite)),
            ("POST", "/api/agents/a1/start", Some(P::AgentWrite)),
            ("POST", "/api/agents/a1/stop", Some(P::AgentWrite)),
            ("GET", "/api/agents/a1/logs", Some(P::AgentRead)),
            ("GET", "/api/memory/a1/memories", Some(P::MemoryRead)),
            ("DELETE", "/api/memory/a1/memories", Some(P::MemoryWrite)),
            ("POST", "/api/memory/a1/rooms", Some(P::MemoryWrite)),
            (
                "GET",
                "/api/agents/a1/rooms/r1/memories",
                Some(P::MemoryRead),
            ),
            ("GET", "/api/server/ping", None),
            ("GET", "/api/server/health", None),
            ("GET", "/api/server/status", Some(P::SystemRead)),
            ("GET", "/api/server/logs", Some(P::Admin)),
            ("POST", "/api/server/stop", Some(P::Admin)),
            ("POST", "/api/messaging/submit", Some(P::MessagingSend)),
            ("GET", "/api/messaging/channels", Some(P::MessagingRead)),
            // The rest of the api-client's non-messaging surface.
            ("GET", "/api/server/hello", Some(P::SystemRead)),
            ("GET", "/api/server/debug/servers", Some(P::Admin)),
            ("POST", "/api/server/logs", Some(P::SystemWrite)),
            ("DELETE", "/api/server/logs", Some(P::Admin)),
            ("GET", "/api/system/env/local", Some(P::Admin)),
            ("POST", "/api/system/env/local", Some(P::Admin)),
            ("GET", "/api/agents/worlds", Some(P::Admin)),
            ("DELETE", "/api/agents/a1/logs/l1", Some(P::AgentWrite)),
            ("GET", "/api/agents/a1/panels", Some(P::AgentRead)),
            ("GET", "/api/agents/a1/runs", Some(P::AgentRead)),
            ("GET", "/api/agents/a1/runs/r1", Some(P::AgentRead)),
            ("POST", "/api/agents/a1/worlds", Some(P::AgentWrite)),
            ("PATCH", "/api/agents/a1/worlds/w1", Some(P::AgentWrite)),
            ("GET", "/api/memory/a1/rooms", Some(P::MemoryRead)),
            ("GET", "/api/memory/a1/rooms/r1", Some(P::MemoryRead)),
            (
                "GET",
                "/api/memory/a1/rooms/r1/memories",
                Some(P::MemoryRead),
            ),
            ("PATCH", "/api/memory/a1/memories/m1", Some(P::MemoryWrite)),
            ("DELETE", "/api/memory/a1/memories/m1", Some(P::MemoryWrite)),
            (
                "DELETE",
                "/api/memory/a1/memories/all/r1",
                Some(P::MemoryWrite),
            ),
            ("POST", "/api/memory/groups/s1", Some(P::Admin)),
            ("DELETE", "/api/memory/groups/s1", Some(P::Admin)),
            ("DELETE", "/api/memory/groups/s1/memories", Some(P::Admin)),
            (
                "POST",
                "/api/audio/a1/speech/conversation",
                Some(P::MessagingSend),
            ),
            (
                "POST",
                "/api/audio/a1/speech/generate",
                Some(P::MessagingSend),
            ),
            (
                "POST",
                "/api/audio/a1/audio-messages/synthesize",
                Some(P::MessagingSend),
            ),
            (
                "POST",
                "/api/audio/a1/transcriptions",
                Some(P::MessagingSend),
            ),
            ("POST", "/api/audio/a1/speech", Some(P::MessagingSend)),
            (
                "POST",
                "/api/media/agents/a1/upload-media",
                Some(P::AgentWrite),
            ),
        ];
        for (method, path, permission) in expected {
            match resolve(method, path) {
                Resolution::Found(spec, _) => {
                    assert_eq!(spec.permission, *permission, "{method} {path}");
                    if permission.is_some() {
                        assert!(!spec.credentials.is_public(), "{method} {path}");
                        assert!(!spec.buckets.is_empty(), "{method} {path}");
                    }
                    if *method != "GET" && path.starts_with("/api/agents/") {
                        assert!(spec.audit.is_some(), "{method} {path} is not audited");
                    }
                }
                other => panic!("{method} {path}: {other:?}"),
            }
        }
        // Static segments win over parameters, whatever the method.
        assert!(matches!(
            resolve("GET", "/api/agents/worlds"),
            Resolution::Found(
                RouteSpec {
                    id: AgentWorlds,
                    ..
                },
                _
            )
        ));
        assert_eq!(
            resolve("DELETE", "/api/agents/worlds"),
            Resolution::MethodNotAllowed(vec![Get])
        );
        // Anything else under /api/ is denied by the table.
        for (method, path) in [
            ("GET", "/api/agents/a1/secrets"),
            ("GET", "/api/memory/a1"),
            ("POST", "/api/server/restart"),
            ("GET", "/api/audio/a1"),
            ("POST", "/api/agents/a1/characterPath"),
            ("GET", "/api/system/env"),
            ("GET", "/api/agents/a1/rooms/r1"),
        ] {
            assert_eq!(
                resolve(method, path),
                Resolution::NotFound,
                "{method} {path}"
            );
        }
    }
}
