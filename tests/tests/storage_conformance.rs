//! The storage conformance suite (worker/src/storage/conformance.rs) run
//! inside workerd against each back end: the same cases, once on D1 and once
//! on PostgreSQL through the Hyperdrive binding (issue 7, SPEC §11).

use agentgate_e2e::backend::Backend;
use agentgate_e2e::Gateway;
use serde_json::Value;

/// Every case the worker reports, by name, with its failure if any.
async fn run_suite(backend: Backend) -> Vec<(String, Option<String>)> {
    let gw = Gateway::builder().storage(backend).start().await;
    let resp = reqwest::Client::new()
        .post(gw.url("/__dev/storage/conformance"))
        .send()
        .await
        .expect("conformance request");
    let status = resp.status();
    let body: Value = resp.json().await.expect("conformance JSON");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["storage"], backend.var(), "{body}");
    body["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let passed = c["passed"].as_bool().expect("passed");
            let failure = c["failure"].as_str().map(str::to_owned);
            assert_eq!(passed, failure.is_none(), "{c}");
            (c["name"].as_str().expect("name").to_owned(), failure)
        })
        .collect()
}

fn assert_all_passed(backend: Backend, cases: &[(String, Option<String>)]) {
    // The suite's full list: a case that silently stops running fails here.
    assert_eq!(cases.len(), 15, "{cases:?}");
    let failed: Vec<_> = cases
        .iter()
        .filter_map(|(name, failure)| failure.as_ref().map(|f| format!("{name}: {f}")))
        .collect();
    assert!(failed.is_empty(), "{backend:?}:\n{}", failed.join("\n"));
}

#[tokio::test]
async fn every_repository_behaviour_holds_on_d1() {
    let cases = run_suite(Backend::D1).await;
    assert_all_passed(Backend::D1, &cases);
}

#[tokio::test]
async fn every_repository_behaviour_holds_on_postgres() {
    let cases = run_suite(Backend::Postgres).await;
    assert_all_passed(Backend::Postgres, &cases);
}

/// The suite writes rows: in production the route does not exist.
#[tokio::test]
async fn the_conformance_route_is_404_in_production() {
    let gw = Gateway::builder()
        .var("ENVIRONMENT", "production")
        .storage(Backend::D1)
        .start()
        .await;
    let resp = reqwest::Client::new()
        .post(gw.url("/__dev/storage/conformance"))
        .send()
        .await
        .expect("conformance request");
    assert_eq!(resp.status(), 404);
}
