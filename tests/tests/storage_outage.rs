//! PostgreSQL stopped under a running gateway (issue 7): requests that need
//! storage answer 503 `STORAGE_UNAVAILABLE` — never 200 — and the gateway
//! recovers when the server is back, with an audit row for every login that
//! answered success. The worker reaches the cluster through the harness's
//! NeverRefuseProxy (a refused connection would end `wrangler dev` 4.86).

use agentgate_e2e::http::json;
use agentgate_e2e::pg::PgCluster;
use agentgate_e2e::session::{login, setup_owner, BrowserSession, OWNER_EMAIL, STRONG_PASSWORD};
use agentgate_e2e::Gateway;
use std::sync::Arc;
use std::time::Duration;

async fn blocking(f: impl FnOnce() + Send + 'static) {
    tokio::task::spawn_blocking(f).await.expect("blocking task");
}

async fn count_successful_logins(gw: &Gateway) -> i64 {
    let rows = gw
        .query(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'auth.login.password.success'",
        )
        .await;
    rows[0]["n"].as_i64().expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_database_means_503_then_recovery() {
    let pg = Arc::new(tokio::task::spawn_blocking(PgCluster::start).await.unwrap());
    // More logins per minute than the sensitive bucket allows; rate limiting
    // has its own suite.
    let gw = Gateway::builder()
        .postgres_on(pg.clone())
        .var("RATE_LIMIT_DISABLED", "true")
        .start()
        .await;
    let (owner, _) = setup_owner(&gw).await;
    assert_eq!(owner.me(&gw).await.status(), 200);
    let mut logins_ok = 0;
    let resp = login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await;
    assert_eq!(resp.status(), 200);
    logins_ok += 1;

    let stopped = pg.clone();
    blocking(move || stopped.stop()).await;

    // Every kind of storage use fails closed: the cookie check, a login (which
    // must not succeed without its audit row), the health check.
    let me = owner.me(&gw).await;
    assert_eq!(me.status(), 503);
    assert_eq!(json(me).await["error"]["code"], "STORAGE_UNAVAILABLE");
    for _ in 0..3 {
        let resp = login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await;
        assert_eq!(resp.status(), 503, "a login during the outage");
        assert_eq!(json(resp).await["error"]["code"], "STORAGE_UNAVAILABLE");
    }
    let health = reqwest::get(gw.url("/api/server/health")).await.unwrap();
    assert_eq!(health.status(), 503);
    assert_eq!(json(health).await["checks"]["postgres"], "unavailable");
    // What needs no storage still answers.
    let ping = reqwest::get(gw.url("/api/server/ping")).await.unwrap();
    assert_eq!(ping.status(), 200);

    let restarted = pg.clone();
    blocking(move || restarted.restart()).await;

    // Recovery: new connections succeed again without restarting the gateway.
    let mut recovered = false;
    for _ in 0..50 {
        if owner.me(&gw).await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "the gateway did not recover:\n{}", gw.log());
    let resp = login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await;
    assert_eq!(resp.status(), 200);
    logins_ok += 1;
    let second = BrowserSession::from_response(&resp);
    assert_eq!(second.me(&gw).await.status(), 200);

    // Exactly one success row per login that answered 200.
    assert_eq!(count_successful_logins(&gw).await, logins_ok);
}
