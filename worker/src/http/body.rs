//! Request bodies: the 1 MiB limit and JSON parsing that names what is wrong.
//! Failures are a [`BodyError`]; `crate::error` turns it into the API's 400
//! or 413.

use agentgate_shared::http_policy::MAX_BODY_BYTES;
use serde::de::DeserializeOwned;
use worker::Request;

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Over [`MAX_BODY_BYTES`], declared or read (413).
    TooLarge,
    /// A `Content-Length` that is not a number (400).
    BadContentLength,
    /// The runtime could not read the body (400).
    Unreadable(String),
    /// Not JSON, or not the expected shape; the message names the field (400).
    Invalid(String),
}

/// Refuses a request whose declared length is over the limit, before reading.
pub fn check_declared_length(req: &Request) -> Result<(), BodyError> {
    let declared = super::header(req, "content-length").map(|v| v.trim().parse::<u64>());
    match declared {
        Some(Ok(len)) if len > MAX_BODY_BYTES as u64 => Err(BodyError::TooLarge),
        Some(Err(_)) => Err(BodyError::BadContentLength),
        _ => Ok(()),
    }
}

/// Reads the body as JSON into `T`. Over 1 MiB → 413; not JSON or the wrong
/// shape → 400 naming the field (e.g. `password: missing field`).
pub async fn json<T: DeserializeOwned>(req: &mut Request) -> Result<T, BodyError> {
    parse_json(&bytes(req).await?)
}

/// Reads the body as bytes, chunk by chunk, and stops at the first byte over
/// 1 MiB (413): a chunked body without a declared length is never held whole.
pub async fn bytes(req: &mut Request) -> Result<Vec<u8>, BodyError> {
    use futures::StreamExt;
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let mut stream = req
        .stream()
        .map_err(|e| BodyError::Unreadable(e.to_string()))?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| BodyError::Unreadable(e.to_string()))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses JSON into `T`, naming the offending field in the 400 message.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    if bytes.is_empty() {
        return Err(BodyError::Invalid("A JSON body is required".into()));
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
        BodyError::Invalid(message)
    })
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}
