//! Messages handed to agents (SPEC §13, issue #8 item 5), the decisions only:
//! which messages go to the origin, what the origin receives, and when a
//! failed delivery is tried again.
//!
//! A channel's room keeps the set of its participants that are agents. A
//! message goes to the agents of that set that its sender may address (their
//! own agents or ones shared with them, as the worker found when the sender
//! connected or posted), never to an agent the sender can't see, and never
//! back to the agent that sent it. It is queued for delivery to the origin's
//! `POST /api/messaging/submit`; the sender never waits for it. A
//! failed attempt is retried with exponential backoff until
//! [`MAX_ATTEMPTS`]; then it is dropped (and logged by the room).
//!
//! Sans-IO: `now` comes in as a parameter.

use crate::realtime::ChannelMessage;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The origin path a message is delivered to.
pub const SUBMIT_PATH: &str = "/api/messaging/submit";
/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: u32 = 8;
/// The wait after the first failed attempt; it doubles per attempt.
pub const FIRST_RETRY_MS: u64 = 1_000;
/// The longest wait between two attempts.
pub const MAX_RETRY_MS: u64 = 60_000;
/// Deliveries handled per wake-up of a room (the rest wait for the next).
pub const BATCH: usize = 16;

/// What the worker tells a room about its agents: the agents the acting
/// caller may address among the channel's participants, and the channel's
/// current participants (agents no longer participating are forgotten).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AgentRouting {
    /// The gateway's own URL origin (the assertion's `iss`).
    pub issuer: String,
    pub agents: Vec<String>,
    pub participants: Vec<String>,
}

impl AgentRouting {
    /// The room's agent set after this update: the stored agents plus the
    /// new ones, keeping only those that still participate.
    pub fn merge(&self, stored: &[String]) -> BTreeSet<String> {
        let participants: BTreeSet<&str> = self.participants.iter().map(String::as_str).collect();
        stored
            .iter()
            .chain(self.agents.iter())
            .filter(|a| participants.contains(a.as_str()))
            .cloned()
            .collect()
    }
}

/// The agents a message from `sender` goes to: the room's current agents
/// that the sender may address (`addressable`, from the worker). An agent's
/// own message (its reply) goes to none, so a reply never loops back to the
/// origin.
pub fn recipients(room: &BTreeSet<String>, addressable: &[String], sender: &str) -> Vec<String> {
    if room.contains(sender) {
        return Vec::new();
    }
    let mut agents: Vec<String> = addressable
        .iter()
        .filter(|a| room.contains(a.as_str()) && a.as_str() != sender)
        .cloned()
        .collect();
    agents.sort();
    agents.dedup();
    agents
}

/// The JSON the origin receives for one message.
pub fn submit_body(message: &ChannelMessage, agent_ids: &[String], server_id: &str) -> Value {
    json!({
        "messageId": message.id,
        "channelId": message.channel_id,
        "senderId": message.sender_id,
        "text": message.text,
        "createdAt": message.created_at,
        "agentIds": agent_ids,
        "serverId": server_id,
    })
}

/// When attempt number `attempts + 1` may run after `attempts` failures at
/// `now_ms`; `None` once [`MAX_ATTEMPTS`] have failed (give up).
pub fn next_attempt_at(attempts: u32, now_ms: u64) -> Option<u64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let exponent = attempts.saturating_sub(1).min(16);
    let wait = FIRST_RETRY_MS
        .saturating_mul(1u64 << exponent)
        .min(MAX_RETRY_MS);
    Some(now_ms.saturating_add(wait))
}

/// Whether an origin's status means the message was taken.
pub fn delivered(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Whether an origin's status refuses the message for good (a client error
/// other than timeout and rate limiting): trying again would not help.
pub fn refused_for_good(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 408 | 429)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn merge_adds_new_agents_and_forgets_departed_ones() {
        /// stored, new agents, participants, expected
        type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [&'a str], &'a [&'a str]);
        let cases: &[Case] = &[
            (&[], &["a1"], &["u", "a1"], &["a1"]),
            (&["a1"], &[], &["u", "a1"], &["a1"]),
            (&["a1"], &["a2"], &["u", "a1", "a2"], &["a1", "a2"]),
            (&["a1"], &[], &["u"], &[]),
            // an "agent" that isn't a participant is never added
            (&[], &["a9"], &["u"], &[]),
        ];
        for (stored, agents, participants, expected) in cases {
            let routing = AgentRouting {
                issuer: "https://gw".into(),
                agents: strings(agents),
                participants: strings(participants),
            };
            assert_eq!(
                routing.merge(&strings(stored)),
                set(expected),
                "{stored:?} + {agents:?} in {participants:?}"
            );
        }
    }

    #[test]
    fn a_message_goes_only_to_room_agents_its_sender_may_address() {
        let room = set(&["a1", "a2"]);
        let cases: &[(&[&str], &str, &[&str])] = &[
            // addressable by the sender, sender, expected recipients
            (&["a1", "a2"], "user", &["a1", "a2"]),
            // someone else's private agent in the room is not addressed
            (&["a1"], "user", &["a1"]),
            (&[], "stranger", &[]),
            // an agent that left the room is not addressed
            (&["a1", "a9"], "user", &["a1"]),
            // an agent's own message goes to no agent
            (&["a1", "a2"], "a1", &[]),
        ];
        for (addressable, sender, expected) in cases {
            assert_eq!(
                recipients(&room, &strings(addressable), sender),
                strings(expected),
                "{addressable:?} from {sender}"
            );
        }
        assert!(recipients(&set(&[]), &strings(&["a1"]), "user").is_empty());
    }

    #[test]
    fn retries_back_off_exponentially_up_to_a_cap_then_give_up() {
        let waits: Vec<Option<u64>> = (0..=MAX_ATTEMPTS)
            .map(|n| next_attempt_at(n, 1_000_000).map(|t| t - 1_000_000))
            .collect();
        assert_eq!(
            waits,
            vec![
                Some(1_000),
                Some(1_000),
                Some(2_000),
                Some(4_000),
                Some(8_000),
                Some(16_000),
                Some(32_000),
                Some(60_000),
                None
            ]
        );
    }

    #[test]
    fn only_2xx_counts_as_delivered() {
        for (status, ok) in [(200, true), (202, true), (204, true), (301, false)] {
            assert_eq!(delivered(status), ok, "{status}");
        }
        for status in [400, 401, 404, 429, 500, 502, 503] {
            assert!(!delivered(status), "{status}");
        }
    }

    #[test]
    fn client_errors_are_final_but_timeouts_and_rate_limits_are_retried() {
        for status in [400, 401, 403, 404, 409, 413, 422] {
            assert!(refused_for_good(status), "{status}");
        }
        for status in [200, 408, 429, 500, 502, 503, 504] {
            assert!(!refused_for_good(status), "{status}");
        }
    }

    #[test]
    fn the_submit_body_names_message_sender_and_agents() {
        let message = ChannelMessage {
            id: "m1".into(),
            channel_id: "c1".into(),
            sender_id: "u1".into(),
            text: "hello".into(),
            created_at: 42,
            client_id: Some("client".into()),
        };
        let body = submit_body(&message, &strings(&["a1"]), "srv");
        assert_eq!(body["messageId"], "m1");
        assert_eq!(body["channelId"], "c1");
        assert_eq!(body["senderId"], "u1");
        assert_eq!(body["text"], "hello");
        assert_eq!(body["agentIds"], json!(["a1"]));
        assert_eq!(body["serverId"], "srv");
        assert!(body.get("clientId").is_none());
    }
}
