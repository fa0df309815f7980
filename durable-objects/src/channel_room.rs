//! `ChannelRoom`: one Durable Object per channel. Holds the channel's live
//! sockets (accepted with the hibernation API, so an idle room leaves memory
//! while its sockets stay open), its message log (SQLite-backed storage) and,
//! when the channel has agent participants, the outbox of messages handed to
//! the agent origin (delivered by the room's alarm; see [`AgentOutbox`]).

use crate::agent_outbox::AgentOutbox;
use crate::env_config;
use crate::message_log::MessageLog;
use crate::origin_fetch::{self, Attempt};
use crate::room_protocol::*;
use crate::socket_limit;
use crate::subscribers::{self, Subscribers};
use agentgate_shared::agent_delivery::AgentRouting;
use agentgate_shared::realtime::{
    error_event, message_event, parse_client_event, world_state_event, ChannelMessage, ClientEvent,
    WORLD_STATE_MESSAGES,
};
use worker::{
    durable_object, DurableObject, Env, Method, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};

#[durable_object]
pub struct ChannelRoom {
    state: State,
    env: Env,
    log: MessageLog,
    outbox: AgentOutbox,
    turns: socket_limit::Turns,
    subscribers: Subscribers,
    /// Fan-out to Socket.IO subscribers awaits their objects; messages take
    /// turns so each channel's order holds.
    fanout: socket_limit::Turns,
}

impl DurableObject for ChannelRoom {
    fn new(state: State, env: Env) -> Self {
        if let Ok(pair) = worker::worker_sys::WebSocketRequestResponsePair::new(PING, PONG) {
            state.set_websocket_auto_response(&pair);
        }
        let log = MessageLog::new(state.storage().sql());
        let outbox = AgentOutbox::new(state.storage().sql());
        let subscribers = Subscribers::new(state.storage().sql());
        // One line per start of the object: after hibernation an instance is
        // built anew for the next event (observable, and what the hibernation
        // test counts).
        worker::console_log!(
            "{}",
            serde_json::json!({"event": "channel_room.started", "objectId": state.id().to_string()})
        );
        Self {
            state,
            env,
            log,
            outbox,
            turns: socket_limit::Turns::default(),
            subscribers,
            fanout: socket_limit::Turns::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Get, PATH_CONNECT) => {
                if let Some(raw) = req.headers().get(ROUTING_HEADER)? {
                    self.outbox.apply(&serde_json::from_str(&raw)?)?;
                }
                self.accept_socket(&req)
            }
            (Method::Post, PATH_POST) => {
                let post: PostMessage = req.json().await?;
                if let Some(routing) = &post.routing {
                    self.outbox.apply(routing)?;
                }
                let message = self.log.append(
                    &post.channel_id,
                    &post.sender_id,
                    &post.text,
                    post.client_id,
                )?;
                let addressable = post.routing.map(|r| r.agents).unwrap_or_default();
                self.publish(&message, &addressable, &post.permissions)
                    .await?;
                Response::from_json(&message)
            }
            (Method::Post, PATH_AGENTS) => {
                let routing: AgentRouting = req.json().await?;
                self.outbox.apply(&routing)?;
                Response::from_json(&serde_json::json!({ "agents": self.outbox.agents()? }))
            }
            (Method::Get, PATH_HISTORY) => {
                let url = req.url()?;
                let mut before = None;
                let mut limit = 50usize;
                for (k, v) in url.query_pairs() {
                    match k.as_ref() {
                        "before" => before = v.parse::<u64>().ok(),
                        "limit" => limit = v.parse::<usize>().unwrap_or(50).clamp(1, 200),
                        _ => {}
                    }
                }
                Response::from_json(&self.log.page(before, limit)?)
            }
            (Method::Post, PATH_CLOSE) => {
                let close: CloseSockets = req.json().await?;
                let closed = self.close_matching(&close) + self.drop_subscribers(&close).await?;
                Response::from_json(&serde_json::json!({ "closed": closed }))
            }
            (Method::Post, PATH_SUBSCRIBE) => {
                let sub: Subscription = req.json().await?;
                self.subscribers.add(&sub)?;
                Response::from_json(&serde_json::json!({ "subscribed": true }))
            }
            (Method::Post, PATH_UNSUBSCRIBE) => {
                let sub: Subscription = req.json().await?;
                self.subscribers.remove(&sub.sid)?;
                Response::from_json(&serde_json::json!({ "subscribed": false }))
            }
            _ => Response::error("unknown room operation", 404),
        }
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let Some(join) = ws.deserialize_attachment::<RoomJoin>()? else {
            return ws.close(Some(CLOSE_SESSION_REVOKED), Some("SESSION_REVOKED"));
        };
        if join.expires_at.is_some_and(|exp| exp <= now_secs()) {
            let _ = ws.send_with_str(error_event("SESSION_REVOKED", "the session has expired"));
            return ws.close(Some(CLOSE_SESSION_REVOKED), Some("SESSION_REVOKED"));
        }
        let _turn = self.turns.next().await;
        if let Some(refusal) = socket_limit::refusal(&self.env, &join).await {
            return ws.send_with_str(refusal);
        }
        let WebSocketIncomingMessage::String(frame) = message else {
            return ws.send_with_str(error_event("BAD_EVENT", "binary frames are not accepted"));
        };
        match parse_client_event(&frame, &join.entity_id) {
            Err(e) => ws.send_with_str(error_event(e.code(), &e.to_string())),
            Ok(ClientEvent::Ping) => ws.send_with_str(PONG),
            Ok(ClientEvent::RequestWorldState) => {
                let messages = self.log.recent(WORLD_STATE_MESSAGES)?;
                ws.send_with_str(world_state_event(
                    &join.channel_id,
                    &join.participants,
                    &messages,
                ))
            }
            Ok(ClientEvent::Message { text, client_id }) => {
                let message =
                    self.log
                        .append(&join.channel_id, &join.entity_id, &text, client_id)?;
                self.publish(&message, &join.agents, &join.permissions)
                    .await
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
        // Complete the closing handshake; codes that can't be sent become 1000.
        let code = u16::try_from(code)
            .ok()
            .filter(|c| (3000..5000).contains(c) || *c == 1000);
        let _ = ws.close(code.or(Some(1000)), Some(reason));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }

    /// Delivers the due part of the outbox to the origin, one message at a
    /// time, then sleeps until the next delivery is due.
    async fn alarm(&self) -> Result<Response> {
        let config = env_config::load(&self.env);
        for pending in self.outbox.due(now_ms())? {
            let attempt = match &config {
                Ok(config) => origin_fetch::deliver(config, &pending, now_ms()).await,
                Err(e) => Attempt::Failed(format!("the gateway is misconfigured: {e}")),
            };
            let (event, reason) = match attempt {
                Attempt::Delivered => {
                    self.outbox.done(pending.seq)?;
                    ("agent_delivery.delivered", None)
                }
                Attempt::Refused(reason) => {
                    self.outbox.done(pending.seq)?;
                    ("agent_delivery.refused", Some(reason))
                }
                Attempt::Failed(reason) if self.outbox.failed(&pending, now_ms())? => {
                    ("agent_delivery.retry", Some(reason))
                }
                Attempt::Failed(reason) => ("agent_delivery.dropped", Some(reason)),
            };
            log_delivery(
                event,
                &pending.message,
                pending.attempts + 1,
                reason.as_deref(),
            );
        }
        if let Some(at) = self.outbox.next_due()? {
            self.wake_at(at).await?;
        }
        Response::ok("")
    }
}

/// One log line per delivery attempt's outcome (ids only, never the text).
fn log_delivery(event: &str, message: &ChannelMessage, attempt: u32, reason: Option<&str>) {
    worker::console_log!(
        "{}",
        serde_json::json!({
            "event": event,
            "messageId": message.id,
            "channelId": message.channel_id,
            "attempt": attempt,
            "reason": reason,
        })
    );
}

impl ChannelRoom {
    fn accept_socket(&self, req: &Request) -> Result<Response> {
        let join: RoomJoin = match req.headers().get(JOIN_HEADER)? {
            Some(raw) => serde_json::from_str(&raw)?,
            None => return Response::error("missing join statement", 400),
        };
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        pair.server.serialize_attachment(&join)?;
        Response::from_websocket(pair.client)
    }

    /// Broadcasts a new message to the room's sockets, then queues it for the
    /// room's agents (if any) and wakes the room's alarm to deliver it: the
    /// sender has its echo before the origin is contacted.
    async fn publish(
        &self,
        message: &ChannelMessage,
        addressable: &[String],
        permissions: &[String],
    ) -> Result<()> {
        self.broadcast(&message_event(message));
        {
            // Taken before any await: turns follow the log's order.
            let _turn = self.fanout.next().await;
            self.subscribers.deliver(&self.env, message).await?;
        }
        if self
            .outbox
            .enqueue(message, addressable, permissions, now_ms())?
        {
            self.wake_at(now_ms()).await?;
        }
        Ok(())
    }

    /// Schedules the alarm for `at` (Unix ms; at once if past).
    async fn wake_at(&self, at: u64) -> Result<()> {
        let offset = at.saturating_sub(now_ms()).max(1);
        self.state
            .storage()
            .set_alarm(i64::try_from(offset).unwrap_or(i64::MAX))
            .await
    }

    fn broadcast(&self, event: &str) {
        for socket in self.state.get_websockets() {
            // A socket that is closing can't take it; the others still get it.
            let _ = socket.send_with_str(event);
        }
    }

    fn close_matching(&self, close: &CloseSockets) -> usize {
        let mut closed = 0;
        for socket in self.state.get_websockets() {
            let Ok(Some(join)) = socket.deserialize_attachment::<RoomJoin>() else {
                continue;
            };
            let by_session =
                close.session_hash.is_some() && close.session_hash == join.session_hash;
            let by_entity = close.entity_id.as_deref() == Some(join.entity_id.as_str());
            if by_session || by_entity {
                let _ = socket.send_with_str(error_event(&close.reason, "closing"));
                let _ = socket.close(Some(close.code), Some(close.reason.as_str()));
                closed += 1;
            }
        }
        closed
    }
}

impl ChannelRoom {
    /// Forgets the Socket.IO subscribers that `close` names and tells their
    /// connections they left the channel.
    async fn drop_subscribers(&self, close: &CloseSockets) -> Result<usize> {
        let taken = self
            .subscribers
            .take_matching(close.entity_id.as_deref(), close.session_hash.as_deref())?;
        for (sid, channel_id) in &taken {
            let body = serde_json::to_string(&Leave {
                channel_id: channel_id.clone(),
                code: close.code,
                reason: close.reason.clone(),
            })?;
            let _ = subscribers::call(&self.env, sid, SIO_PATH_LEAVE, &body).await;
        }
        Ok(taken.len())
    }
}

fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}

fn now_secs() -> u64 {
    now_ms() / 1000
}
