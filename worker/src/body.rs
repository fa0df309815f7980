//! Request bodies: the 1 MiB limit and JSON parsing that names what is wrong.

use crate::error::ApiError;
use agentgate_shared::http_policy::MAX_BODY_BYTES;
use agentgate_shared::ErrorCode;
use serde::de::DeserializeOwned;
use worker::Request;

/// Refuses a request whose declared length is over the limit, before reading.
pub fn check_declared_length(req: &Request) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .map(|v| v.trim().parse::<u64>());
    match declared {
        Some(Ok(len)) if len > MAX_BODY_BYTES as u64 => Err(ErrorCode::PayloadTooLarge.into()),
        Some(Err(_)) => Err(ApiError::bad_request("Content-Length is not a number")),
        _ => Ok(()),
    }
}

/// Reads the body as JSON into `T`. Over 1 MiB → 413; not JSON or the wrong
/// shape → 400 naming the field (e.g. `password: missing field`).
pub async fn json<T: DeserializeOwned>(req: &mut Request) -> Result<T, ApiError> {
    parse_json(&bytes(req).await?)
}

/// Reads the body as bytes. Over 1 MiB → 413.
pub async fn bytes(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    let bytes = req.bytes().await.map_err(|e| {
        ApiError::bad_request("The request body could not be read").with_detail(e.to_string())
    })?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ErrorCode::PayloadTooLarge.into());
    }
    Ok(bytes)
}

/// Parses JSON into `T`, naming the offending field in the 400 message.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request("A JSON body is required"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!(
                "Malformed JSON at line {} column {}",
                inner.line(),
                inner.column()
            )
        } else if path == "." {
            format!(
                "Invalid request body: {}",
                strip_position(&inner.to_string())
            )
        } else {
            format!(
                "Invalid field `{path}`: {}",
                strip_position(&inner.to_string())
            )
        };
        ApiError::bad_request(message)
    })
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}
