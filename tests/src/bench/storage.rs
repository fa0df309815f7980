//! `bench/run.sh storage`: an authenticated cookie request (`GET
//! /api/auth/me` with a session from first-run setup) on D1 and on
//! PostgreSQL through Hyperdrive, side by side in one run.
//!
//! Each gateway runs under `wrangler dev` on this machine (one after the
//! other); PostgreSQL is a throwaway cluster reached through wrangler's local
//! Hyperdrive emulation, once directly and once through the harness's
//! loopback proxy as the e2e tests do. Requests are sequential, after a
//! warm-up.

use crate::backend::Backend;
use crate::bench::{summary, time};
use crate::session::setup_owner;
use crate::Gateway;

const WARMUP: usize = 20;
const REQUESTS: usize = 200;

pub async fn run() {
    println!("storage: authenticated cookie request (GET /api/auth/me), {REQUESTS} requests each");
    let runs = [
        ("STORAGE=d1", Backend::D1, false),
        ("STORAGE=postgres", Backend::Postgres, false),
        (
            "STORAGE=postgres (through the test proxy)",
            Backend::Postgres,
            true,
        ),
    ];
    for (label, backend, proxied) in runs {
        // 200 requests a minute exceed the SPEC's per-entity limits; the
        // limiter's cost is measured by `bench/run.sh ratelimit`.
        let mut builder = Gateway::builder()
            .storage(backend)
            .var("RATE_LIMIT_DISABLED", "true");
        if !proxied {
            builder = builder.pg_without_proxy();
        }
        let gw = builder.start().await;
        let (owner, _) = setup_owner(&gw).await;
        for _ in 0..WARMUP {
            assert_eq!(owner.me(&gw).await.status(), 200, "warm-up");
        }
        let mut samples = Vec::with_capacity(REQUESTS);
        for _ in 0..REQUESTS {
            let (elapsed, resp) = time(owner.me(&gw)).await;
            assert_eq!(resp.status(), 200, "{backend:?}");
            samples.push(elapsed);
        }
        println!("{}", summary(&format!("  {label}"), samples));
    }
}
