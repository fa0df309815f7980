//! The benchmark runner behind bench/run.sh: `bench <scenario>…` (all when
//! none is named). Each scenario prints its own figures.

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let all = args.is_empty();
    let wants = |name: &str| all || args.iter().any(|a| a == name);
    let mut ran = false;
    if wants("storage") {
        agentgate_e2e::bench_storage::run().await;
        ran = true;
    }
    if !ran {
        eprintln!("unknown scenario(s) {args:?}; known: storage");
        std::process::exit(2);
    }
}
