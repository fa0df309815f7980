//! The production module (`worker/build/`, built without the cargo feature
//! `dev`) against the development build the rest of the suite runs
//! (`worker/build-dev/`): development hooks are not compiled into
//! production (ARCHITECTURE.md), so its dev routes answer 404 even with
//! `ENVIRONMENT=development`, it ignores the development client-IP header,
//! its module holds none of their strings, and it still serves a normal
//! authenticated flow.
//!
//! Each check is made on the development build as well, where it must come
//! out the other way, so none of them passes for want of anything to find.

use agentgate_e2e::http::{client, expect_error, json};
use agentgate_e2e::session::setup_owner;
use agentgate_e2e::{process::repo_root, Build, Gateway};
use serde_json::json;

/// Every development-only route of the route table.
const DEV_ROUTES: [&str; 4] = [
    "/__dev/crypto/verify",
    "/__dev/storage/conformance",
    "/__dev/ratelimit/burst",
    "/__dev/panic",
];

const DEV_CLIENT_IP_HEADER: &str = "X-Agentgate-Dev-Client-IP";

/// Text that only the development hooks put into the module: their paths,
/// the header, the conformance suite's and the verify route's own strings.
const DEV_STRINGS: [&str; 7] = [
    "/__dev/",
    DEV_CLIENT_IP_HEADER,
    "of the conformance suite",
    "@conformance.test",
    "keyError",
    "bench:",
    "deliberate panic",
];

async fn gateway(build: Build) -> Gateway {
    let builder = Gateway::builder().var("ENVIRONMENT", "development");
    match build {
        Build::Production => builder.production_build(),
        Build::Dev => builder,
    }
    .start()
    .await
}

fn module(build: Build) -> Vec<u8> {
    let path = repo_root().join(build.dir()).join("index_bg.wasm");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn dev_routes_answer_404_in_production_even_in_development_mode() {
    let (prod, dev) = tokio::join!(gateway(Build::Production), gateway(Build::Dev));
    for path in DEV_ROUTES {
        let resp = client()
            .post(prod.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        expect_error(resp, 404, "NOT_FOUND").await;
        let resp = client()
            .post(dev.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_ne!(resp.status(), 404, "{path} on the development build");
    }
}

#[tokio::test]
async fn production_ignores_the_development_client_ip_header() {
    let (prod, dev) = tokio::join!(gateway(Build::Production), gateway(Build::Dev));
    let login = |gw: &Gateway| {
        client()
            .post(gw.url("/api/auth/login/password"))
            .header(DEV_CLIENT_IP_HEADER, "nope")
            .json(&json!({"email": "a@example.com", "password": "x"}))
            .send()
    };
    // The development build reads the header (a malformed one is a 400
    // naming it); production never looks at it.
    let body = expect_error(login(&dev).await.unwrap(), 400, "BAD_REQUEST").await;
    assert!(body.to_string().contains(DEV_CLIENT_IP_HEADER), "{body}");
    let resp = login(&prod).await.unwrap();
    assert_ne!(resp.status(), 400);
    let body = resp.text().await.unwrap();
    assert!(!body.contains(DEV_CLIENT_IP_HEADER), "{body}");
}

#[test]
fn the_production_module_holds_no_development_strings() {
    let (prod, dev) = (module(Build::Production), module(Build::Dev));
    for needle in DEV_STRINGS {
        assert!(
            !contains(&prod, needle),
            "{needle:?} in the production module"
        );
        assert!(
            contains(&dev, needle),
            "{needle:?} missing from the dev module"
        );
    }
}

#[tokio::test]
async fn production_serves_a_normal_authenticated_flow() {
    let gw = gateway(Build::Production).await;
    let (owner, body) = setup_owner(&gw).await;
    assert_eq!(body["identity"]["kind"], "owner", "{body}");
    let me = json(owner.me(&gw).await).await;
    assert_eq!(me["identityKind"], "owner", "{me}");
    assert_eq!(me["credential"], "session", "{me}");
}
