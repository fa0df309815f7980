//! The SPEC §8 limits as data, the caller tiers, and bucket keys.

use super::gcra::Limit;
use crate::routes::{Permission, RateBucket};

/// A caller's rate-limit tier (stored on the identity: `standard`, `premium`,
/// `admin`). Tiers raise only the default `api` bucket; category, IP and
/// socket buckets are the same for everyone (SPEC §8 names tiers only there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Tier {
    /// Everyone by default.
    #[default]
    Standard,
    /// Paying callers.
    Premium,
    /// Administrators.
    Admin,
}

impl Tier {
    /// The stored spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Premium => "premium",
            Self::Admin => "admin",
        }
    }

    /// Parses the stored spelling; anything else is `None` (callers fall back
    /// to [`Tier::Standard`], the lowest).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "standard" => Some(Self::Standard),
            "premium" => Some(Self::Premium),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// Who a bucket counts: a client IP (pre-auth buckets), an entity, or an
/// account being logged into (failed-login tracking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject<'a> {
    /// The client IP from `CF-Connecting-IP`.
    Ip(&'a str),
    /// An authenticated entity id.
    Entity(&'a str),
    /// An account, named by its case-folded email (failed logins).
    Account(&'a str),
}

impl Subject<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Self::Ip(_) => "ip",
            Self::Entity(_) => "entity",
            Self::Account(_) => "account",
        }
    }

    fn value(&self) -> &str {
        match self {
            Self::Ip(v) | Self::Entity(v) | Self::Account(v) => v,
        }
    }

    /// `kind:value`, e.g. `ip:1.2.3.4`.
    pub(crate) fn key_suffix(&self) -> String {
        format!("{}:{}", self.kind(), self.value())
    }
}

/// Every limit of SPEC §8 (all per minute). [`LimitTable::SPEC`] is the table
/// exactly; a deployment may override fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitTable {
    /// `sensitive` (§10 routes), per IP.
    pub sensitive: Limit,
    /// `auth` (other `/api/auth/*`), per IP.
    pub auth: Limit,
    /// `api` default, per entity, standard tier.
    pub api_standard: Limit,
    /// `api` default, premium tier.
    pub api_premium: Limit,
    /// `api` default, admin tier.
    pub api_admin: Limit,
    /// Category `agent:read`.
    pub agent_read: Limit,
    /// Category `agent:write`, also used for `agent:create`.
    pub agent_write: Limit,
    /// Category `memory:read`.
    pub memory_read: Limit,
    /// Category `memory:write`.
    pub memory_write: Limit,
    /// Category `messaging:send`.
    pub messaging_send: Limit,
    /// Category `messaging:read`.
    pub messaging_read: Limit,
    /// Category `system:read`.
    pub system_read: Limit,
    /// Category `system:write`, also used for `admin:*` (the strictest).
    pub system_write: Limit,
    /// `ws-connect`, per entity or IP.
    pub ws_connect: Limit,
    /// `ws-message`, per entity.
    pub ws_message: Limit,
}

impl LimitTable {
    /// The SPEC §8 table.
    pub const SPEC: Self = Self {
        sensitive: Limit::per_minute(5),
        auth: Limit::per_minute(20),
        api_standard: Limit::per_minute(100),
        api_premium: Limit::per_minute(200),
        api_admin: Limit::per_minute(1000),
        agent_read: Limit::per_minute(60),
        agent_write: Limit::per_minute(20),
        memory_read: Limit::per_minute(100),
        memory_write: Limit::per_minute(30),
        messaging_send: Limit::per_minute(50),
        messaging_read: Limit::per_minute(200),
        system_read: Limit::per_minute(20),
        system_write: Limit::per_minute(5),
        ws_connect: Limit::per_minute(10),
        ws_message: Limit::per_minute(30),
    };

    /// The limit of `bucket` for a caller of `tier`.
    pub const fn limit_for(&self, bucket: RateBucket, tier: Tier) -> Limit {
        match bucket {
            RateBucket::Sensitive => self.sensitive,
            RateBucket::Auth => self.auth,
            RateBucket::Api => match tier {
                Tier::Standard => self.api_standard,
                Tier::Premium => self.api_premium,
                Tier::Admin => self.api_admin,
            },
            RateBucket::Category(p) => match p {
                Permission::AgentRead => self.agent_read,
                Permission::AgentCreate | Permission::AgentWrite => self.agent_write,
                Permission::MemoryRead => self.memory_read,
                Permission::MemoryWrite => self.memory_write,
                Permission::MessagingSend => self.messaging_send,
                Permission::MessagingRead => self.messaging_read,
                Permission::SystemRead => self.system_read,
                Permission::SystemWrite | Permission::Admin => self.system_write,
            },
            RateBucket::WsConnect => self.ws_connect,
            RateBucket::WsMessage => self.ws_message,
        }
    }
}

impl Default for LimitTable {
    fn default() -> Self {
        Self::SPEC
    }
}

/// The SPEC §8 limit of `bucket` for a caller of `tier`
/// ([`LimitTable::SPEC`]).
pub const fn limit_for(bucket: RateBucket, tier: Tier) -> Limit {
    LimitTable::SPEC.limit_for(bucket, tier)
}

/// The bucket's name in keys: `sensitive`, `auth`, `api`, `cat:<permission>`,
/// `ws-connect`, `ws-message`.
fn bucket_name(bucket: RateBucket) -> String {
    match bucket {
        RateBucket::Sensitive => "sensitive".into(),
        RateBucket::Auth => "auth".into(),
        RateBucket::Api => "api".into(),
        RateBucket::Category(p) => format!("cat:{}", p.as_str()),
        RateBucket::WsConnect => "ws-connect".into(),
        RateBucket::WsMessage => "ws-message".into(),
    }
}

/// The `RateLimiter` Durable Object name of `bucket` for `subject`:
/// `<bucket>:<ip|entity|account>:<value>`, e.g. `sensitive:ip:1.2.3.4`,
/// `api:entity:<uuid>`, `cat:agent:read:entity:<uuid>`,
/// `ws-connect:ip:::1`. Bucket names and subject kinds are fixed words, so
/// distinct (bucket, subject) pairs never share a key. Which subject a bucket
/// counts is the caller's choice (SPEC §8: IP for `sensitive`/`auth`, entity
/// otherwise, IP for an unauthenticated `ws-connect`).
pub fn bucket_key(bucket: RateBucket, subject: &Subject<'_>) -> String {
    format!("{}:{}", bucket_name(bucket), subject.key_suffix())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_round_trip() {
        for t in [Tier::Standard, Tier::Premium, Tier::Admin] {
            assert_eq!(Tier::parse(t.as_str()), Some(t));
        }
        assert_eq!(Tier::parse("Admin"), None);
    }
}
