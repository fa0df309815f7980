//! Small timing helpers for the benchmarks (bench/run.sh). Figures are
//! measured side by side in one run: these machines are noisy.

pub mod auth;
pub mod coldstart;
pub mod eliza;
pub mod origin;
pub mod rooms;
pub mod storage;
pub mod verify;

use std::time::{Duration, Instant};

/// Percentile of sorted durations, in microseconds.
pub fn percentile_us(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1e6
}

/// Summary line for a set of samples.
pub fn summary(label: &str, mut samples: Vec<Duration>) -> String {
    samples.sort();
    format!(
        "{label:<48} n={:<5} p50={:>9.1} µs  p99={:>9.1} µs",
        samples.len(),
        percentile_us(&samples, 50.0),
        percentile_us(&samples, 99.0)
    )
}

/// Times `f` once.
pub async fn time<F, T>(f: F) -> (Duration, T)
where
    F: std::future::Future<Output = T>,
{
    let start = Instant::now();
    let out = f.await;
    (start.elapsed(), out)
}

pub mod ratelimit;
