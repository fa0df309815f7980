//! `ChannelRoom`: one Durable Object per channel, holding its live sockets.
//! Sockets are accepted with the hibernation API, so an idle room is evicted
//! from memory while its sockets stay open.

use crate::room_protocol::{RoomJoin, JOIN_HEADER, PING, PONG};
use serde_json::json;
use worker::{
    durable_object, DurableObject, Env, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};

#[durable_object]
pub struct ChannelRoom {
    state: State,
}

impl DurableObject for ChannelRoom {
    fn new(state: State, _env: Env) -> Self {
        if let Ok(pair) = worker::worker_sys::WebSocketRequestResponsePair::new(PING, PONG) {
            state.set_websocket_auto_response(&pair);
        }
        Self { state }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let join: RoomJoin = match req.headers().get(JOIN_HEADER)? {
            Some(raw) => serde_json::from_str(&raw)?,
            None => return Response::error("missing join statement", 400),
        };
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        pair.server.serialize_attachment(&join)?;
        Response::from_websocket(pair.client)
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let Some(join) = ws.deserialize_attachment::<RoomJoin>()? else {
            ws.close(Some(4001), Some("SESSION_REVOKED"))?;
            return Ok(());
        };
        let text = match message {
            WebSocketIncomingMessage::String(text) => text,
            WebSocketIncomingMessage::Binary(_) => {
                return ws.send(&json!({"type": "error", "code": "BAD_EVENT", "error": "binary frames are not accepted"}));
            }
        };
        ws.send(&json!({
            "type": "echo",
            "channelId": join.channel_id,
            "senderId": join.entity_id,
            "text": text,
        }))
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        // Complete the closing handshake; a reserved code can't be echoed back.
        let code = u16::try_from(code)
            .ok()
            .filter(|c| (3000..5000).contains(c) || *c == 1000);
        let _ = ws.close(code.or(Some(1000)), Some(reason));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }
}
