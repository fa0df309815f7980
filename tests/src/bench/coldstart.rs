//! Cold start: the time from spawning `wrangler dev` to its first answered
//! request (`GET /api/server/ping`, polled every 25 ms), median of
//! [`RUNS`], for the production module (`worker/build/`), the development
//! build (`worker/build-dev/`) and, when `AGENTGATE_COLDSTART_BASELINE`
//! names a module directory (e.g. an older build), that one too. Each run
//! starts from fresh state; the D1 migrations are applied before the clock
//! starts. Not part of `npm test`.

use crate::process::repo_root;
use crate::Gateway;
use std::path::PathBuf;
use std::time::Duration;

/// Starts per module.
const RUNS: usize = 5;

pub async fn run() -> Result<(), String> {
    let root = repo_root();
    let mut modules = vec![
        ("production", root.join("worker/build")),
        ("dev", root.join("worker/build-dev")),
    ];
    if let Ok(dir) = std::env::var("AGENTGATE_COLDSTART_BASELINE") {
        modules.insert(0, ("baseline", PathBuf::from(dir)));
    }
    println!("module      raw bytes  gzip -9 bytes  first answer (median of {RUNS}, ms)  runs");
    for (label, dir) in modules {
        let wasm = dir.join("index_bg.wasm");
        let raw = std::fs::metadata(&wasm)
            .map_err(|e| format!("{}: {e}", wasm.display()))?
            .len();
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let gw = Gateway::builder().module_dir(dir.clone()).start().await;
            times.push(gw.started_in);
            drop(gw);
        }
        times.sort();
        let ms = |d: &Duration| d.as_millis();
        println!(
            "{label:<11} {:>9}  {:>13}  {:>34}  {:?}",
            raw,
            gzip9(&wasm)?,
            ms(&times[RUNS / 2]),
            times.iter().map(ms).collect::<Vec<_>>()
        );
    }
    Ok(())
}

/// `gzip -9 -c file | wc -c`, as scripts/test.sh measures.
fn gzip9(path: &std::path::Path) -> Result<usize, String> {
    let out = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("gzip: {e}"))?;
    Ok(out.stdout.len())
}
