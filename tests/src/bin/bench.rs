//! The benchmark runner behind `bench/run.sh`: `bench [scenario…]` runs the
//! named scenarios (all of them without arguments) and prints their figures.
//! A scenario is one module under `tests/src/bench/`; add it to [`SCENARIOS`]
//! and to [`run`].

use std::process::ExitCode;

/// Every scenario, in the order `bench` with no arguments runs them.
const SCENARIOS: &[&str] = &[
    "verify",
    "auth",
    "ratelimit",
    "rooms",
    "storage",
    "origin",
    "eliza",
    "coldstart",
];

async fn run(name: &str) -> Result<(), String> {
    match name {
        "verify" => agentgate_e2e::bench::verify::run().await,
        "auth" => agentgate_e2e::bench::auth::run().await,
        "ratelimit" => agentgate_e2e::bench::ratelimit::run().await,
        "rooms" => agentgate_e2e::bench::rooms::run().await,
        "origin" => agentgate_e2e::bench::origin::run().await,
        "eliza" => agentgate_e2e::bench::eliza::run().await,
        "coldstart" => agentgate_e2e::bench::coldstart::run().await,
        "storage" => {
            agentgate_e2e::bench::storage::run().await;
            Ok(())
        }
        other => Err(format!(
            "unknown scenario `{other}` (known: {})",
            SCENARIOS.join(", ")
        )),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = if args.is_empty() {
        SCENARIOS.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    let mut failed = false;
    for name in names {
        println!("== {name}");
        if let Err(e) = run(name).await {
            eprintln!("{name}: {e}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
