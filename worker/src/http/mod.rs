//! Plain HTTP helpers over the runtime's `Request`/`Response`: headers, query
//! parameters, bounded bodies, JSON responses and the headers every response
//! carries.
//!
//! Architecture Invariant: `http` imports nothing from this crate; everything
//! else may use it.

pub mod body;
pub mod response;

use worker::Request;

/// A request header as a string, if present and readable.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The request method exactly as sent. `worker::Request::method` turns a
/// method it does not know (`PROPFIND`, `FOO`) into `GET`; the route table
/// must see the real one, so such a request is 405, never a GET.
pub fn method(req: &Request) -> String {
    req.inner().method()
}

/// A query parameter of the request URL.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.url()
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
