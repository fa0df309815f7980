//! `bash bench/run.sh rooms`: channel rooms under `wrangler dev` (issue #6).
//!
//! One room with 100 connected sockets, then 10 rooms × 10 sockets, in one
//! run: connect time per socket (upgrade through the gateway: JWT check,
//! participant lookup, Durable Object accept), fan-out (messages delivered
//! per second across all receivers) and send-to-receive latency p50/p99.
//! Every socket belongs to its own entity, so the per-entity socket limits
//! (ws-connect 10/min, ws-message 30/min) are not what is measured.

use crate::bench::summary;
use crate::http::{client, json};
use crate::jwt::{hs256, now};
use crate::ws::{connect, recv_json, send, Socket};
use crate::Gateway;
use agentgate_shared::entity_id::eliza_uuid;
use serde_json::json;
use std::time::{Duration, Instant};

const SECRET: &str = "bench-rooms-shared-secret-of-32-bytes-or-more";
/// Messages each sender sends (under the ws-message limit of 30/min).
const MESSAGES_PER_SENDER: usize = 20;
const SENDERS_PER_ROOM: usize = 5;

fn token(sub: &str) -> String {
    let t = now();
    hs256(SECRET, &json!({"sub": sub, "iat": t, "exp": t + 3600}))
}

/// The entity id the gateway derives for a JWT subject (SPEC §2), computed
/// here rather than asked for: `/api/auth/me` is in the per-IP auth bucket.
fn entity(sub: &str) -> String {
    eliza_uuid(sub)
}

struct Room {
    sockets: Vec<Socket>,
    entities: Vec<String>,
    connect_times: Vec<Duration>,
}

/// A channel whose `size` participants (subs `{prefix}-{i}`) are all connected.
async fn room(gw: &Gateway, prefix: &str, size: usize) -> Result<Room, String> {
    let subs: Vec<String> = (0..size).map(|i| format!("{prefix}-{i}")).collect();
    let mut others = Vec::new();
    for sub in &subs[1..] {
        others.push(entity(sub));
    }
    let resp = client()
        .post(gw.url("/api/messaging/channels"))
        .bearer_auth(token(&subs[0]))
        .json(&json!({"name": prefix, "participants": others}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if resp.status() != 201 {
        return Err(format!("channel create answered {}", resp.status()));
    }
    let channel = json(resp).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let url = gw.ws_url(&format!("/api/messaging/channels/{channel}/ws"));
    let mut sockets = Vec::new();
    let mut connect_times = Vec::new();
    for sub in &subs {
        let auth = format!("Bearer {}", token(sub));
        let started = Instant::now();
        let socket = connect(&url, &[("authorization", &auth)])
            .await
            .map_err(|s| format!("connect refused with {s}"))?;
        connect_times.push(started.elapsed());
        sockets.push(socket);
    }
    Ok(Room {
        entities: subs.iter().map(|s| entity(s)).collect(),
        sockets,
        connect_times,
    })
}

/// Fan-out in all `rooms` at once: the first senders of each room send
/// their messages, every socket receives every message of its room.
async fn fan_out(rooms: Vec<Room>, label: &str) -> Result<(), String> {
    let mut connect_times = Vec::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    let mut expected_deliveries = 0usize;
    for room in rooms {
        connect_times.extend(room.connect_times.iter().copied());
        let receivers = room.sockets.len();
        let per_socket = SENDERS_PER_ROOM * MESSAGES_PER_SENDER;
        expected_deliveries += receivers * per_socket;
        for (i, mut socket) in room.sockets.into_iter().enumerate() {
            let sender = i < SENDERS_PER_ROOM;
            let me = room.entities[i].clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut sent = 0;
                let mut received = 0;
                let epoch = Instant::now();
                while received < per_socket {
                    if sender && sent < MESSAGES_PER_SENDER {
                        let stamp = epoch.elapsed().as_micros().to_string();
                        let text = json!({"type": "message", "text": "bench", "clientId": stamp});
                        send(&mut socket, &text.to_string()).await;
                        sent += 1;
                    }
                    let m = recv_json(&mut socket, Duration::from_secs(60)).await;
                    if m["type"] != "message" {
                        continue;
                    }
                    received += 1;
                    // Latency only for this socket's own messages (same clock).
                    if let Some(stamp) = m["clientId"].as_str().and_then(|s| s.parse::<u128>().ok())
                    {
                        let own = m["senderId"] == me.as_str();
                        let now = epoch.elapsed().as_micros();
                        if own && now >= stamp {
                            latencies.push(Duration::from_micros((now - stamp) as u64));
                        }
                    }
                }
                latencies
            }));
        }
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())?);
    }
    let elapsed = started.elapsed();
    println!(
        "{}",
        summary(&format!("{label}: connect per socket"), connect_times)
    );
    println!(
        "{label}: {expected_deliveries} deliveries in {:.2} s = {:.0} messages delivered/s",
        elapsed.as_secs_f64(),
        expected_deliveries as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{}",
        summary(
            &format!("{label}: send→receive (sender's own echo)"),
            latencies
        )
    );
    Ok(())
}

pub async fn run() -> Result<(), String> {
    let gw = Gateway::builder().var("JWT_SECRET", SECRET).start().await;
    let one = room(&gw, "big", 100).await?;
    fan_out(vec![one], "1 room × 100 sockets").await?;
    let mut rooms = Vec::new();
    for r in 0..10 {
        rooms.push(room(&gw, &format!("small{r}"), 10).await?);
    }
    fan_out(rooms, "10 rooms × 10 sockets").await?;
    Ok(())
}
