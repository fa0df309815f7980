//! `bench/run.sh storage`: an authenticated cookie request (`GET
//! /api/auth/me` with a session from first-run setup) on D1 and on
//! PostgreSQL through Hyperdrive, side by side in one run.
//!
//! Both gateways run at once under `wrangler dev` on this machine; the
//! PostgreSQL one reaches a throwaway cluster through the harness's loopback
//! proxy (as the e2e tests do). Requests are sequential, after a warm-up.

use crate::backend::Backend;
use crate::bench::{summary, time};
use crate::session::setup_owner;
use crate::Gateway;

const WARMUP: usize = 20;
const REQUESTS: usize = 200;

pub async fn run() {
    println!("storage: authenticated cookie request (GET /api/auth/me), {REQUESTS} requests each");
    for backend in [Backend::D1, Backend::Postgres] {
        let gw = Gateway::builder().storage(backend).start().await;
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
        println!(
            "{}",
            summary(&format!("  STORAGE={}", backend.var()), samples)
        );
    }
}
