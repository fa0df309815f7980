//! The worker's one error type, and the one place it becomes a response.

use agentgate_shared::routes::Method;
use agentgate_shared::ErrorCode;
use serde_json::json;
use std::borrow::Cow;
use worker::Response;

/// A failed request: the client-visible code and message, plus internal detail
/// that is shown only in development (SPEC §12) and always logged.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    message: Cow<'static, str>,
    detail: Option<String>,
    allow: Vec<Method>,
    extra_headers: Vec<(&'static str, String)>,
    extra_fields: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: Cow::Borrowed(code.default_message()),
            detail: None,
            allow: Vec::new(),
            extra_headers: Vec::new(),
            extra_fields: serde_json::Map::new(),
        }
    }

    /// The client-safe message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// A client-safe message replacing the default one.
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = message.into();
        self
    }

    /// Internal detail: logged, and shown to clients only in development.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_field(mut self, name: &str, value: serde_json::Value) -> Self {
        self.extra_fields.insert(name.to_owned(), value);
        self
    }

    /// A response header carried by the error response (e.g. `Retry-After`).
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.extra_headers.push((name, value));
        self
    }

    pub fn method_not_allowed(allow: Vec<Method>) -> Self {
        let mut e = Self::new(ErrorCode::MethodNotAllowed);
        e.allow = allow;
        e
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal).with_detail(detail)
    }

    pub fn storage(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::StorageUnavailable).with_detail(detail)
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::BadRequest).with_message(message)
    }

    /// The internal detail, if any.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The JSON envelope `{error, code, requestId}` with the code's status.
    pub fn into_response(self, request_id: &str, development: bool) -> Response {
        if let Some(detail) = &self.detail {
            worker::console_error!(
                "{}",
                json!({"level": "error", "requestId": request_id, "code": self.code.as_str(), "detail": detail})
            );
        }
        // ElizaOS's envelope (SPEC §12), which its clients read:
        // `{success: false, error: {code, message, requestId, …}}`.
        let mut error = json!({
            "code": self.code.as_str(),
            "message": self.message,
            "requestId": request_id,
        });
        if let serde_json::Value::Object(map) = &mut error {
            map.extend(self.extra_fields);
            if development {
                if let Some(detail) = self.detail {
                    map.insert("details".into(), detail.into());
                }
            }
        }
        let body = json!({ "success": false, "error": error });
        let mut response = crate::http::response::json(self.code.status(), &body);
        let headers = response.headers_mut();
        if !self.allow.is_empty() {
            let allow: Vec<&str> = self.allow.iter().map(|m| m.as_str()).collect();
            let _ = headers.set("Allow", &allow.join(", "));
        }
        for (name, value) in self.extra_headers {
            let _ = headers.set(name, &value);
        }
        response
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

/// Errors from the runtime (bindings, fetch, D1) are infrastructure failures:
/// the request fails closed with 500 and the detail stays internal.
impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        Self::internal(e.to_string())
    }
}

/// A refused body: 413 over the limit, otherwise 400 with the message that
/// names the field.
impl From<crate::http::body::BodyError> for ApiError {
    fn from(e: crate::http::body::BodyError) -> Self {
        use crate::http::body::BodyError;
        match e {
            BodyError::TooLarge => ErrorCode::PayloadTooLarge.into(),
            BodyError::BadContentLength => Self::bad_request("Content-Length is not a number"),
            BodyError::Unreadable(detail) => {
                Self::bad_request("The request body could not be read").with_detail(detail)
            }
            BodyError::Invalid(message) => Self::bad_request(message),
        }
    }
}

/// A rule of `shared::rules` refused a field: 400 naming it.
impl From<agentgate_shared::rules::FieldError> for ApiError {
    fn from(e: agentgate_shared::rules::FieldError) -> Self {
        Self::bad_request(e.to_string())
    }
}
