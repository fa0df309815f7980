//! `SocketIoConnection`: one Durable Object per Engine.IO session (its name
//! is the session id the worker minted). It holds what must outlive one HTTP
//! request and survive hibernation: the transport (polling, upgrading,
//! WebSocket), the verified identity once CONNECT succeeds, and the joined
//! channels (stored); the packets waiting for the next long-poll and the
//! pending long-poll itself (memory: a polling client always has a request
//! in flight, so the object stays resident while it polls).
//!
//! Pings use the alarm, so an idle WebSocket connection hibernates between
//! them; a polling one pings by answering its long-poll with `2` after
//! [`PING_INTERVAL_MS`].

use super::identity::{self, Identity};
use super::protocol::*;
use super::{hub, rooms_link};
use crate::storage::{ChannelRepo, RequestStore};
use agentgate_durable_objects::env_config;
use agentgate_durable_objects::room_protocol::{Delivery, Leave, SIO_PATH_DELIVER, SIO_PATH_LEAVE};
use agentgate_shared::routes::Permission;
use agentgate_shared::socketio::eliza::{self, Command};
use agentgate_shared::socketio::engine::{self, Packet, PING_INTERVAL_MS, PING_TIMEOUT_MS};
use agentgate_shared::socketio::packet::{self, ClientPacket};
use futures::channel::oneshot;
use futures::future::{select, Either};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::time::Duration;
use worker::{
    durable_object, Delay, DurableObject, Env, Method, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};

/// Storage key of the [`Session`].
const SESSION_KEY: &str = "session";
/// The most channels one connection may join.
const MAX_CHANNELS: usize = 100;
/// The most packets queued for a polling client before it is dropped as
/// gone (it stopped polling).
const MAX_QUEUED: usize = 1_000;
/// How long a session may stay open without a successful CONNECT (ms), as
/// Socket.IO servers' `connectTimeout`.
const CONNECT_TIMEOUT_MS: u64 = 45_000;
/// Close codes on the WebSocket.
const CLOSE_REVOKED: u16 = 4001;
const CLOSE_PROTOCOL: u16 = 1008;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Transport {
    Polling,
    /// A WebSocket is probing; packets still go to the long-poll.
    Upgrading,
    WebSocket,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    sid: String,
    /// The entity the HTTP request that opened the session proved (cookie or
    /// header credential), if any: every later request must prove the same,
    /// so another user's cookie can't drive this session.
    http: Option<Identity>,
    transport: Transport,
    /// The verified identity, once the Socket.IO CONNECT succeeded.
    connected: Option<Identity>,
    channels: Vec<String>,
    /// WebSocket pings (Unix ms).
    ping_sent_ms: Option<u64>,
    pong_ms: u64,
    /// Unix ms of the Engine.IO open.
    #[serde(default)]
    opened_ms: u64,
}

impl Session {
    fn entity(&self) -> Option<&str> {
        self.connected.as_ref().map(|i| i.entity_id.as_str())
    }
}

/// An Engine.IO transport error, answered as Engine.IO's JSON body.
struct EngineRefusal {
    status: u16,
    code: u8,
    message: &'static str,
}

const UNKNOWN_SID: EngineRefusal = EngineRefusal {
    status: 400,
    code: 1,
    message: "Session ID unknown",
};
const BAD_REQUEST: EngineRefusal = EngineRefusal {
    status: 400,
    code: 3,
    message: "Bad request",
};
const FORBIDDEN: EngineRefusal = EngineRefusal {
    status: 403,
    code: 4,
    message: "Forbidden",
};

impl EngineRefusal {
    fn respond(&self) -> Result<Response> {
        Ok(Response::from_json(&serde_json::json!({
            "code": self.code,
            "message": self.message,
        }))?
        .with_status(self.status))
    }
}

#[durable_object]
pub struct SocketIoConnection {
    state: State,
    env: Env,
    queue: RefCell<Vec<String>>,
    waiter: RefCell<Option<oneshot::Sender<()>>>,
    /// Unix ms of the last request from a polling client.
    last_seen: Cell<u64>,
    turns: agentgate_durable_objects::Turns,
}

impl DurableObject for SocketIoConnection {
    fn new(state: State, env: Env) -> Self {
        // One line per start: after hibernation a new instance handles the
        // next event (what the hibernation test counts).
        worker::console_log!(
            "{}",
            serde_json::json!({"event": "socketio_connection.started"})
        );
        Self {
            state,
            env,
            queue: RefCell::new(Vec::new()),
            waiter: RefCell::new(None),
            last_seen: Cell::new(now_ms()),
            turns: Default::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Get, PATH_OPEN) => {
                let statement = statement(&req)?;
                self.open(&req, statement).await
            }
            (Method::Get, PATH_WEBSOCKET) => {
                let statement = statement(&req)?;
                self.upgrade(statement).await
            }
            (Method::Get, PATH_POLL) => {
                let statement = statement(&req)?;
                self.long_poll(statement).await
            }
            (Method::Post, PATH_POLL) => {
                let statement = statement(&req)?;
                let body = req.text().await?;
                self.polling_post(statement, &body).await
            }
            (Method::Post, SIO_PATH_DELIVER) => {
                let delivery: Delivery = req.json().await?;
                self.deliver(&delivery).await
            }
            (Method::Post, SIO_PATH_LEAVE) => {
                let leave: Leave = req.json().await?;
                self.leave(&leave).await
            }
            (Method::Post, PATH_CLOSE) => {
                let close: CloseConnection = req.json().await?;
                self.close_session(Some((CLOSE_REVOKED, close.reason.as_str())))
                    .await?;
                Response::ok("")
            }
            _ => Response::error("unknown connection operation", 404),
        }
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let WebSocketIncomingMessage::String(frame) = message else {
            // Binary frames have no place in the ElizaOS protocol.
            return self
                .close_session(Some((CLOSE_PROTOCOL, "binary frames are not accepted")))
                .await;
        };
        let _turn = self.turns.next().await;
        let Some(mut session) = self.load().await? else {
            let _ = ws.close(Some(CLOSE_PROTOCOL), Some("Session ID unknown"));
            return Ok(());
        };
        let packet = match engine::decode(&frame) {
            Ok(p) => p,
            Err(_) => {
                drop(_turn);
                return self
                    .close_session(Some((CLOSE_PROTOCOL, "malformed Engine.IO packet")))
                    .await;
            }
        };
        match packet {
            Packet::Ping("probe") if session.transport == Transport::Upgrading => {
                ws.send_with_str(engine::encode(&Packet::Pong("probe")))?;
                // Release the long-poll so the client can pause polling.
                self.wake();
                Ok(())
            }
            Packet::Upgrade if session.transport == Transport::Upgrading => {
                session.transport = Transport::WebSocket;
                self.save(&session).await?;
                let pending: Vec<String> = self.queue.borrow_mut().drain(..).collect();
                for p in pending {
                    ws.send_with_str(p)?;
                }
                self.wake();
                self.schedule(now_ms() + u64::from(PING_INTERVAL_MS)).await
            }
            Packet::Pong(_) => {
                session.pong_ms = now_ms();
                self.save(&session).await
            }
            Packet::Close => {
                drop(_turn);
                self.close_session(None).await
            }
            other => {
                if session.transport != Transport::WebSocket {
                    return Ok(());
                }
                self.on_packet(&mut session, other).await
            }
        }
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        let code = u16::try_from(code)
            .ok()
            .filter(|c| (3000..5000).contains(c) || *c == 1000);
        let _ = ws.close(code.or(Some(1000)), Some(reason));
        // The WebSocket was this session's transport: it is over. A probe
        // that failed leaves a polling session polling.
        if let Some(session) = self.load().await? {
            if session.transport == Transport::WebSocket {
                self.close_session(None).await?;
            } else if session.transport == Transport::Upgrading {
                let mut session = session;
                session.transport = Transport::Polling;
                self.save(&session).await?;
            }
        }
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }

    async fn alarm(&self) -> Result<Response> {
        let Some(mut session) = self.load().await? else {
            return Response::ok("");
        };
        let now = now_ms();
        let interval = u64::from(PING_INTERVAL_MS);
        let timeout = u64::from(PING_TIMEOUT_MS);
        if session.connected.is_none() && now.saturating_sub(session.opened_ms) > CONNECT_TIMEOUT_MS
        {
            // Socket.IO's connectTimeout: an Engine.IO session that never
            // joined the namespace is not a client.
            self.close_session(Some((CLOSE_PROTOCOL, "connect timeout")))
                .await?;
            return Response::ok("");
        }
        if session.transport != Transport::WebSocket {
            // A polling client always has a long-poll in flight or starts
            // one right after the last answer.
            let gone = self.waiter.borrow().is_none()
                && now.saturating_sub(self.last_seen.get()) > interval + timeout;
            if gone {
                self.close_session(None).await?;
            } else {
                self.schedule(now + interval).await?;
            }
            return Response::ok("");
        }
        match session.ping_sent_ms {
            Some(sent) if session.pong_ms < sent => {
                if now >= sent + timeout {
                    self.close_session(Some((CLOSE_PROTOCOL, "ping timeout")))
                        .await?;
                } else {
                    self.schedule(sent + timeout).await?;
                }
            }
            Some(sent) if now < sent + interval => self.schedule(sent + interval).await?,
            _ => {
                self.send_ws(&engine::encode(&Packet::Ping("")));
                session.ping_sent_ms = Some(now);
                self.save(&session).await?;
                self.schedule(now + timeout).await?;
            }
        }
        Response::ok("")
    }
}

fn statement(req: &Request) -> Result<HttpStatement> {
    match req.headers().get(STATEMENT_HEADER)? {
        Some(raw) => Ok(serde_json::from_str(&raw)?),
        None => Ok(HttpStatement::default()),
    }
}

fn text(body: String) -> Result<Response> {
    let mut resp = Response::ok(body)?;
    resp.headers_mut()
        .set("Content-Type", "text/plain; charset=UTF-8")?;
    Ok(resp)
}

impl SocketIoConnection {
    async fn load(&self) -> Result<Option<Session>> {
        self.state.storage().get(SESSION_KEY).await
    }

    async fn save(&self, session: &Session) -> Result<()> {
        self.state.storage().put(SESSION_KEY, session).await
    }

    async fn schedule(&self, at_ms: u64) -> Result<()> {
        let offset = at_ms.saturating_sub(now_ms()).max(1);
        self.state
            .storage()
            .set_alarm(i64::try_from(offset).unwrap_or(i64::MAX))
            .await
    }

    /// Whether a later request proves the same entity as the one that
    /// opened the session (none stays none).
    fn same_http_entity(session: &Session, statement: &HttpStatement) -> bool {
        session.http.as_ref().map(|i| &i.entity_id) == statement.http.as_ref().map(|i| &i.entity_id)
    }

    async fn open(&self, req: &Request, statement: HttpStatement) -> Result<Response> {
        let sid = req
            .url()?
            .query_pairs()
            .find(|(k, _)| k == "sid")
            .map(|(_, v)| v.into_owned())
            .filter(|s| engine::is_valid_sid(s))
            .ok_or_else(|| worker::Error::RustError("open without a sid".into()))?;
        if self.load().await?.is_some() {
            return BAD_REQUEST.respond();
        }
        let websocket = req
            .headers()
            .get("Upgrade")?
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        let session = Session {
            sid: sid.clone(),
            http: statement.http,
            transport: if websocket {
                Transport::WebSocket
            } else {
                Transport::Polling
            },
            connected: None,
            channels: Vec::new(),
            ping_sent_ms: None,
            pong_ms: 0,
            opened_ms: now_ms(),
        };
        self.save(&session).await?;
        self.last_seen.set(now_ms());
        self.schedule(now_ms() + u64::from(PING_INTERVAL_MS))
            .await?;
        if websocket {
            let pair = WebSocketPair::new()?;
            self.state.accept_web_socket(&pair.server);
            pair.server
                .send_with_str(engine::open_packet(&sid, false))?;
            Response::from_websocket(pair.client)
        } else {
            text(engine::open_packet(&sid, true))
        }
    }

    async fn upgrade(&self, statement: HttpStatement) -> Result<Response> {
        let _turn = self.turns.next().await;
        let Some(mut session) = self.load().await? else {
            return UNKNOWN_SID.respond();
        };
        if !Self::same_http_entity(&session, &statement) {
            return FORBIDDEN.respond();
        }
        if session.transport != Transport::Polling {
            return BAD_REQUEST.respond();
        }
        session.transport = Transport::Upgrading;
        self.save(&session).await?;
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        Response::from_websocket(pair.client)
    }

    async fn long_poll(&self, statement: HttpStatement) -> Result<Response> {
        self.last_seen.set(now_ms());
        {
            let _turn = self.turns.next().await;
            let Some(session) = self.load().await? else {
                return self.drain_or(UNKNOWN_SID);
            };
            if !Self::same_http_entity(&session, &statement) {
                return FORBIDDEN.respond();
            }
            if session.transport == Transport::WebSocket || self.waiter.borrow().is_some() {
                return BAD_REQUEST.respond();
            }
            if !self.queue.borrow().is_empty() {
                return self.drain_or(BAD_REQUEST);
            }
            if session.transport == Transport::Upgrading {
                // A probe is under way: don't hold the poll, or the client
                // can't pause polling to finish the upgrade.
                return text(engine::encode(&Packet::Noop));
            }
        }
        let (tx, rx) = oneshot::channel();
        *self.waiter.borrow_mut() = Some(tx);
        let delay = Delay::from(Duration::from_millis(u64::from(PING_INTERVAL_MS)));
        let woke = matches!(select(rx, delay).await, Either::Left(_));
        self.waiter.borrow_mut().take();
        self.last_seen.set(now_ms());
        if woke {
            let queued = !self.queue.borrow().is_empty();
            if queued {
                return self.drain_or(BAD_REQUEST);
            }
            // Released for an upgrade, or the session ended.
            return match self.load().await? {
                Some(_) => text(engine::encode(&Packet::Noop)),
                None => UNKNOWN_SID.respond(),
            };
        }
        // Nothing to say for a whole interval: ping.
        text(engine::encode(&Packet::Ping("")))
    }

    /// Answers a long-poll with everything queued, or `refusal` if nothing is.
    fn drain_or(&self, refusal: EngineRefusal) -> Result<Response> {
        let packets: Vec<String> = self.queue.borrow_mut().drain(..).collect();
        if packets.is_empty() {
            return refusal.respond();
        }
        text(engine::encode_payload(&packets))
    }

    async fn polling_post(&self, statement: HttpStatement, body: &str) -> Result<Response> {
        self.last_seen.set(now_ms());
        let _turn = self.turns.next().await;
        let Some(mut session) = self.load().await? else {
            return UNKNOWN_SID.respond();
        };
        if !Self::same_http_entity(&session, &statement) {
            return FORBIDDEN.respond();
        }
        if session.transport == Transport::WebSocket {
            return BAD_REQUEST.respond();
        }
        let Ok(packets) = engine::decode_payload(body) else {
            drop(_turn);
            self.close_session(None).await?;
            return BAD_REQUEST.respond();
        };
        for p in packets {
            match p {
                Packet::Close => {
                    drop(_turn);
                    self.close_session(None).await?;
                    return text("ok".into());
                }
                Packet::Pong(_) => {}
                Packet::Upgrade => return BAD_REQUEST.respond(),
                other => self.on_packet(&mut session, other).await?,
            }
        }
        text("ok".into())
    }

    /// One client packet on an open transport (WebSocket, or polling).
    async fn on_packet(&self, session: &mut Session, p: Packet<'_>) -> Result<()> {
        match p {
            Packet::Ping(data) => {
                self.emit(session, engine::encode(&Packet::Pong(data)));
                Ok(())
            }
            Packet::Message(data) => self.on_message(session, data).await,
            _ => Ok(()),
        }
    }

    /// A Socket.IO packet.
    async fn on_message(&self, session: &mut Session, data: &str) -> Result<()> {
        let decoded = packet::decode(data);
        let Some(identity) = session.connected.clone() else {
            return match decoded {
                Ok(ClientPacket::Connect { auth }) => self.on_connect(session, auth).await,
                // Anything before CONNECT: refuse the namespace.
                _ => {
                    self.emit_message(
                        session,
                        packet::connect_error("BAD_PACKET", "expected a CONNECT packet"),
                    );
                    Ok(())
                }
            };
        };
        if identity.expired(now_ms() / 1000) {
            return self
                .close_session(Some((CLOSE_REVOKED, "SESSION_REVOKED")))
                .await;
        }
        match decoded {
            Ok(ClientPacket::Connect { .. }) => {
                // Already connected: confirm again, as Socket.IO servers do.
                let sid = session.sid.clone();
                self.emit_message(session, packet::connect(&sid));
                Ok(())
            }
            Ok(ClientPacket::Disconnect) => {
                self.leave_all(session).await;
                self.unregister(session, &identity).await;
                session.connected = None;
                self.save(session).await
            }
            Ok(ClientPacket::Ack { .. }) => Ok(()),
            Ok(ClientPacket::Event { name, args, .. }) => {
                match eliza::parse_event(&name, &args, &identity.entity_id) {
                    Ok(Command::Join { channel_id }) => {
                        self.join(session, &identity, channel_id).await
                    }
                    Ok(send @ Command::Send { .. }) => self.send(session, &identity, send).await,
                    Err(e) => {
                        self.emit_event(session, "messageError", &eliza::message_error(&e));
                        Ok(())
                    }
                }
            }
            Err(e) => {
                self.emit_event(
                    session,
                    "messageError",
                    &eliza::refusal("BAD_PACKET", &e.to_string()),
                );
                Ok(())
            }
        }
    }

    async fn on_connect(&self, session: &mut Session, auth: Option<Value>) -> Result<()> {
        let fields = eliza::handshake_auth(auth.as_ref());
        let identity = match self.verify(&fields, session.http.as_ref()).await {
            Ok(identity) => identity,
            Err(refusal) => {
                self.emit_message(
                    session,
                    packet::connect_error(refusal.code, &refusal.message),
                );
                return Ok(());
            }
        };
        session.connected = Some(identity.clone());
        self.save(session).await?;
        let entry = HubEntry {
            sid: session.sid.clone(),
            session_hash: identity.revocation_key(),
        };
        if let Err(e) = hub::post(
            &self.env,
            HUB_BINDING,
            &identity.entity_id,
            HUB_REGISTER,
            &entry,
        )
        .await
        {
            // Without the index revocation could miss this connection:
            // refuse rather than serve it.
            worker::console_warn!(
                "{}",
                serde_json::json!({"event": "socketio.hub_register_failed", "detail": e.to_string()})
            );
            session.connected = None;
            self.save(session).await?;
            self.emit_message(
                session,
                packet::connect_error("SERVICE_UNAVAILABLE", "try again"),
            );
            return Ok(());
        }
        let sid = session.sid.clone();
        self.emit_message(session, packet::connect(&sid));
        self.emit_event(
            session,
            "authenticated",
            &eliza::authenticated(&identity.entity_id, now_ms()),
        );
        self.emit_event(
            session,
            "connection_established",
            &eliza::connection_established(&sid),
        );
        Ok(())
    }

    async fn verify(
        &self,
        fields: &eliza::HandshakeAuth,
        http: Option<&Identity>,
    ) -> std::result::Result<Identity, identity::Refusal> {
        let config = env_config::load(&self.env).map_err(|e| identity::Refusal {
            code: "MISCONFIGURED",
            message: format!("The gateway is misconfigured: {e}"),
        })?;
        let stores = RequestStore::new(&self.env, &config);
        let result = identity::at_connect(fields, http, &stores, &config).await;
        stores.close().await;
        result
    }

    /// Whether `identity` participates in `channel_id` (the store decides).
    async fn participates(&self, identity: &Identity, channel_id: &str) -> Result<bool> {
        if identity.bound_elsewhere(channel_id) {
            return Ok(false);
        }
        let config =
            env_config::load(&self.env).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let stores = RequestStore::new(&self.env, &config);
        let scope = crate::auth::verified_identity_scope(&config, &identity.entity_id);
        let answer = match stores.get() {
            Ok(store) => store
                .is_participant(&scope, channel_id)
                .await
                .map_err(|e| worker::Error::RustError(e.to_string())),
            Err(e) => Err(worker::Error::RustError(e.to_string())),
        };
        stores.close().await;
        answer
    }

    async fn join(
        &self,
        session: &mut Session,
        identity: &Identity,
        channel_id: String,
    ) -> Result<()> {
        let refused = |this: &Self, session: &Session, code: &str, error: &str| {
            let mut payload = eliza::refusal(code, error);
            payload["channelId"] = channel_id.clone().into();
            this.emit_event(session, "messageError", &payload);
        };
        if !session.channels.contains(&channel_id) {
            if session.channels.len() >= MAX_CHANNELS {
                refused(
                    self,
                    session,
                    "TOO_MANY_CHANNELS",
                    "too many channels on one connection",
                );
                return Ok(());
            }
            if !self.participates(identity, &channel_id).await? {
                refused(
                    self,
                    session,
                    "CHANNEL_UNAUTHORIZED",
                    "not a participant of this channel",
                );
                return Ok(());
            }
            rooms_link::subscribe(&self.env, &channel_id, &session.sid, identity).await?;
            // Reload: a delivery or leave may have run meanwhile.
            if let Some(fresh) = self.load().await? {
                *session = fresh;
            }
            if !session.channels.contains(&channel_id) {
                session.channels.push(channel_id.clone());
            }
            self.save(session).await?;
        }
        let joined = eliza::joined(&session.sid, &channel_id);
        self.emit_event(session, "channel_joined", &joined);
        self.emit_event(session, "room_joined", &joined);
        Ok(())
    }

    async fn send(&self, session: &mut Session, identity: &Identity, send: Command) -> Result<()> {
        let Command::Send {
            channel_id,
            text,
            client_message_id,
            ..
        } = send
        else {
            return Ok(());
        };
        let refuse = |code: &str, error: &str| {
            let mut payload = eliza::refusal(code, error);
            payload["channelId"] = channel_id.clone().into();
            payload
        };
        if !identity.may(Permission::MessagingSend) {
            let p = refuse(
                "INSUFFICIENT_PERMISSIONS",
                "requires permission messaging:send",
            );
            self.emit_event(session, "messageError", &p);
            return Ok(());
        }
        let joined = session.channels.contains(&channel_id);
        if !joined && !self.participates(identity, &channel_id).await? {
            let p = refuse("CHANNEL_UNAUTHORIZED", "not a participant of this channel");
            self.emit_event(session, "messageError", &p);
            return Ok(());
        }
        if let Some((code, error)) = rooms_link::rate_limited(&self.env, identity).await {
            let p = refuse(code, &error);
            self.emit_event(session, "messageError", &p);
            return Ok(());
        }
        let message =
            rooms_link::post(&self.env, identity, &channel_id, text, client_message_id).await?;
        if !joined {
            // Not subscribed, so no fan-out reaches it: its own copy.
            self.emit_event(
                session,
                "messageBroadcast",
                &eliza::message_broadcast(&message, true),
            );
        }
        self.emit_event(session, "messageAck", &eliza::message_ack(&message));
        Ok(())
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<Response> {
        let session = match self.load().await? {
            Some(s) if s.connected.is_some() && s.channels.contains(&delivery.channel_id) => s,
            _ => return Response::error("gone", 410),
        };
        let to_sender = session.entity() == Some(delivery.message.sender_id.as_str());
        self.emit_event(
            &session,
            "messageBroadcast",
            &eliza::message_broadcast(&delivery.message, to_sender),
        );
        if self.queue.borrow().len() > MAX_QUEUED {
            // A polling client that stopped polling: let it go.
            self.close_session(None).await?;
            return Response::error("gone", 410);
        }
        Response::ok("")
    }

    async fn leave(&self, leave: &Leave) -> Result<Response> {
        let Some(mut session) = self.load().await? else {
            return Response::error("gone", 410);
        };
        session.channels.retain(|c| c != &leave.channel_id);
        self.save(&session).await?;
        let mut payload = eliza::refusal(&leave.reason, "removed from the channel");
        payload["channelId"] = leave.channel_id.clone().into();
        self.emit_event(&session, "messageError", &payload);
        Response::ok("")
    }

    async fn leave_all(&self, session: &mut Session) {
        let sid = session.sid.clone();
        let channels = std::mem::take(&mut session.channels);
        let calls = channels
            .iter()
            .map(|c| rooms_link::unsubscribe(&self.env, c, &sid));
        futures::future::join_all(calls).await;
    }

    /// Ends the session: tells the client (`notify`: the WebSocket close
    /// code and reason; Socket.IO's DISCONNECT first, so the client does not
    /// reconnect), forgets it in its rooms and its hub, and clears storage.
    async fn close_session(&self, notify: Option<(u16, &str)>) -> Result<()> {
        let Some(mut session) = self.load().await? else {
            return Ok(());
        };
        self.state.storage().delete_all().await?;
        let _ = self.state.storage().delete_alarm().await;
        if let Some((code, reason)) = notify {
            if session.connected.is_some() {
                self.emit_message(&session, packet::disconnect());
            }
            match session.transport {
                Transport::WebSocket => {
                    for ws in self.state.get_websockets() {
                        let _ = ws.close(Some(code), Some(reason));
                    }
                }
                // socket.io-client handles DISCONNECT on the next tick but a
                // close packet at once: after DISCONNECT it closes the
                // transport itself, so send the close packet only to a client
                // that never connected.
                _ if session.connected.is_some() => self.wake(),
                _ => {
                    self.queue.borrow_mut().push(engine::encode(&Packet::Close));
                    self.wake();
                }
            }
        } else {
            for ws in self.state.get_websockets() {
                let _ = ws.close(Some(1000), Some("closed"));
            }
            self.wake();
        }
        if let Some(identity) = session.connected.clone() {
            self.unregister(&session, &identity).await;
        }
        self.leave_all(&mut session).await;
        Ok(())
    }

    /// Leaves the entity's hub (best effort: the hub forgets a connection
    /// that is gone when it next closes them).
    async fn unregister(&self, session: &Session, identity: &Identity) {
        let entry = HubEntry {
            sid: session.sid.clone(),
            session_hash: identity.revocation_key(),
        };
        let _ = hub::post(
            &self.env,
            HUB_BINDING,
            &identity.entity_id,
            HUB_UNREGISTER,
            &entry,
        )
        .await;
    }

    fn wake(&self) {
        if let Some(tx) = self.waiter.borrow_mut().take() {
            let _ = tx.send(());
        }
    }

    fn send_ws(&self, frame: &str) {
        for ws in self.state.get_websockets() {
            let _ = ws.send_with_str(frame);
        }
    }

    /// Writes one Engine.IO packet to the session's current transport.
    fn emit(&self, session: &Session, frame: String) {
        if session.transport == Transport::WebSocket {
            self.send_ws(&frame);
        } else {
            self.queue.borrow_mut().push(frame);
            self.wake();
        }
    }

    fn emit_message(&self, session: &Session, socket_io: String) {
        self.emit(session, engine::encode(&Packet::Message(&socket_io)));
    }

    fn emit_event(&self, session: &Session, name: &str, payload: &Value) {
        self.emit_message(session, packet::event(name, payload));
    }
}

fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}
