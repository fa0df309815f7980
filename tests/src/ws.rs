//! WebSocket client helpers (tokio-tungstenite, a real client).

use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a socket with extra request headers. `Err` carries the HTTP status
/// when the upgrade was refused.
pub async fn connect(url: &str, headers: &[(&str, &str)]) -> Result<Socket, u16> {
    let mut request = url.into_client_request().expect("ws request");
    for (name, value) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                .expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    match connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("websocket connect failed: {e}"),
    }
}

/// Sends a text frame.
pub async fn send(socket: &mut Socket, text: &str) {
    socket
        .send(Message::Text(text.into()))
        .await
        .expect("send frame");
}

/// The next text frame as JSON, within `timeout`.
pub async fn recv_json(socket: &mut Socket, timeout: Duration) -> serde_json::Value {
    loop {
        let frame = tokio::time::timeout(timeout, socket.next())
            .await
            .expect("a frame before the timeout")
            .expect("socket still open")
            .expect("frame");
        match frame {
            Message::Text(text) => {
                return serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Waits for the server to close the socket; returns (code, reason).
pub async fn recv_close(socket: &mut Socket, timeout: Duration) -> (u16, String) {
    loop {
        let frame = tokio::time::timeout(timeout, socket.next())
            .await
            .expect("close before the timeout");
        match frame {
            Some(Ok(Message::Close(Some(close)))) => {
                return (close.code.into(), close.reason.to_string())
            }
            Some(Ok(Message::Close(None))) | None => return (1005, String::new()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("socket error while waiting for close: {e}"),
        }
    }
}
