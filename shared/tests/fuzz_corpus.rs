//! Replays the fuzz targets' committed seeds and regressions (crash inputs
//! found by `bench/fuzz.sh`, kept once fixed) through the same checks the
//! libFuzzer targets run, natively on stable: a fixed crash stays fixed.

#[path = "../../fuzz/src/checks.rs"]
mod checks;

use std::path::Path;

#[test]
fn fuzz_seeds_and_regressions_pass_their_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut replayed = 0;
    for (target, check) in checks::TARGETS {
        let mut seen = 0;
        for dir in ["seeds", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("a readable directory").path();
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    continue;
                }
                let input = std::fs::read(&path).expect("a readable input");
                let outcome = std::panic::catch_unwind(|| check(&input));
                assert!(
                    outcome.is_ok(),
                    "{target}: {} fails its check",
                    path.display()
                );
                seen += 1;
            }
        }
        assert!(seen > 0, "no seeds for fuzz target {target}");
        replayed += seen;
    }
    assert!(replayed >= checks::TARGETS.len());
}
