//! A browser, as far as the gateway can tell: the session and CSRF cookies
//! from `Set-Cookie`, sent back the way a browser page would (cookies on
//! every request; the CSRF header and the page's `Origin` on unsafe ones).

use crate::http::{client, json};
use crate::Gateway;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

/// A strong password (zxcvbn 4) used wherever a test needs one that passes.
pub const STRONG_PASSWORD: &str = "violet-tugboat-cantilever-87";
/// The owner every `setup_owner` creates.
pub const OWNER_EMAIL: &str = "owner@agentgate.test";

/// The cookies of one browser session.
#[derive(Clone, Debug)]
pub struct BrowserSession {
    pub session: String,
    pub csrf: String,
}

/// The raw `Set-Cookie` values of a response.
pub fn set_cookies(resp: &Response) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|c| {
        let first = c.split(';').next()?;
        let (n, v) = first.split_once('=')?;
        (n.trim() == name).then(|| v.trim().to_owned())
    })
}

impl BrowserSession {
    /// The session a response just set (panics if it set none).
    pub fn from_response(resp: &Response) -> Self {
        let cookies = set_cookies(resp);
        Self {
            session: cookie_value(&cookies, "eliza_session").expect("eliza_session cookie"),
            csrf: cookie_value(&cookies, "eliza_csrf").expect("eliza_csrf cookie"),
        }
    }

    pub fn cookie_header(&self) -> String {
        format!("eliza_session={}; eliza_csrf={}", self.session, self.csrf)
    }

    /// A request carrying the cookies only (what a cross-site form or a
    /// careless client sends).
    pub fn bare(&self, method: Method, url: &str) -> RequestBuilder {
        client()
            .request(method, url)
            .header("cookie", self.cookie_header())
    }

    /// A request as the allowed page sends it: cookies, and for unsafe
    /// methods the CSRF header and the page's Origin.
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        let unsafe_method = method != Method::GET;
        let req = self.bare(method, url);
        if unsafe_method {
            req.header("x-eliza-csrf", &self.csrf)
                .header("origin", crate::ALLOWED_ORIGIN)
        } else {
            req
        }
    }

    pub async fn me(&self, gw: &Gateway) -> Response {
        self.request(Method::GET, &gw.url("/api/auth/me"))
            .send()
            .await
            .unwrap()
    }
}

/// First-run setup of the owner with [`STRONG_PASSWORD`]; returns the
/// owner's session and the response body.
pub async fn setup_owner(gw: &Gateway) -> (BrowserSession, Value) {
    let resp = client()
        .post(gw.url("/api/auth/setup"))
        .json(&json!({
            "email": OWNER_EMAIL,
            "password": STRONG_PASSWORD,
            "displayName": "The Owner",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "setup");
    let session = BrowserSession::from_response(&resp);
    (session, json(resp).await)
}

/// A password login; returns the raw response.
pub async fn login(gw: &Gateway, email: &str, password: &str) -> Response {
    client()
        .post(gw.url("/api/auth/login/password"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}
