//! The official `@elizaos/api-client` 1.7.2 against the real ElizaOS 1.7.2
//! origin, directly (the first half of the conformance comparison; the run
//! through the gateway comes next): every call the client offers, in order,
//! with real ids (`tests/eliza/conformance.mjs`).
//!
//! The calls that fail directly fail for reasons of ElizaOS 1.7.2 itself
//! (routes the client names but the server lacks, client/server body
//! mismatches, jobs that never complete, speech synthesis that throws before
//! reaching the model); the table printed here names each with its status.

use agentgate_e2e::eliza::{api_client_conformance, ElizaOrigin};

/// The calls that succeeded directly when this was measured (of 102, with
/// `server.stopServer` run last). A drop means the origin, the model plugin
/// or the script regressed.
const DIRECT_FLOOR: usize = 83;

#[tokio::test]
async fn the_api_client_works_directly_against_the_real_origin() {
    let origin = ElizaOrigin::start().await;
    println!("origin ready in {:?} at {}", origin.startup, origin.url());

    let direct = api_client_conformance(origin.url(), None, &[]).await;
    println!("direct against ElizaOS 1.7.2:\n{}", direct.table());

    // Every method of every service the client offers was counted.
    assert!(direct.total >= 100, "only {} calls counted", direct.total);
    assert!(
        !direct
            .records
            .iter()
            .any(|r| r["errorCode"] == "NOT_EXERCISED"),
        "calls the script does not reach:\n{}",
        direct.table()
    );
    // Nothing the calls set off in the server tried to leave loopback.
    assert!(
        !origin.log().contains("ELIZA_ORIGIN_BLOCKED_LOOKUP"),
        "the origin looked up an external host:\n{}",
        origin.log()
    );
    assert!(
        direct.ok >= DIRECT_FLOOR,
        "{} ok of {} directly, fewer than the {DIRECT_FLOOR} measured:\n{}\n{}",
        direct.ok,
        direct.total,
        direct.table(),
        origin.log()
    );
}
