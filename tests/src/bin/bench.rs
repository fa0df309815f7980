//! The benchmark runner behind `bench/run.sh`: each argument names a
//! scenario; figures are printed, side by side in one run.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut scenarios: Vec<String> = std::env::args().skip(1).collect();
    if scenarios.is_empty() {
        scenarios.push("origin".into());
    }
    for scenario in &scenarios {
        let outcome = match scenario.as_str() {
            "origin" => agentgate_e2e::bench_origin::run().await,
            other => Err(format!("unknown scenario `{other}` (known: origin)")),
        };
        if let Err(e) = outcome {
            eprintln!("bench {scenario}: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
