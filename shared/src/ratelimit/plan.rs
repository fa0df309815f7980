//! Which subject each bucket counts, which tier and adaptive policy apply, the
//! client IP, and which of several bucket decisions a response reports.
//! The worker's glue (`worker/src/ratelimit.rs`) only does the I/O around these.

use super::adaptive::AdaptivePolicy;
use super::headers::RateLimitHeaders;
use super::limits::Tier;
use super::settings::RateLimitSettings;
use crate::routes::{Permission, RateBucket};
use std::net::IpAddr;

/// The only header the client IP is read from (set by Cloudflare's edge, which
/// overwrites any client-sent value). `X-Forwarded-For` and `True-Client-IP`
/// are never read: clients can forge them.
pub const CLIENT_IP_HEADER: &str = "CF-Connecting-IP";

/// Test hook: with `ENVIRONMENT=development` only, this header names the
/// client IP so end-to-end tests can act as several clients from loopback. In
/// production it is ignored like every client-sent `X-Agentgate-*` header.
pub const DEV_CLIENT_IP_HEADER: &str = "X-Agentgate-Dev-Client-IP";

/// The address used under `wrangler dev` when no `CF-Connecting-IP` arrives.
pub const DEV_LOOPBACK_IP: &str = "127.0.0.1";

/// Who a bucket counts (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// The client IP, before authentication (`sensitive`, `auth`).
    Ip,
    /// The authenticated entity (`api`, categories, `ws-message`).
    Entity,
    /// The entity when there is one, else the client IP (`ws-connect`).
    EntityOrIp,
}

/// Who `bucket` counts.
pub const fn counted_by(bucket: RateBucket) -> Counted {
    match bucket {
        RateBucket::Sensitive | RateBucket::Auth => Counted::Ip,
        RateBucket::Api | RateBucket::Category(_) | RateBucket::WsMessage => Counted::Entity,
        RateBucket::WsConnect => Counted::EntityOrIp,
    }
}

/// The tier of a caller holding `permissions`: administrators (`admin:*`) get
/// the admin tier; everyone else is standard until the identity says premium.
pub fn tier_for<'a>(permissions: impl IntoIterator<Item = &'a Permission>) -> Tier {
    if permissions.into_iter().any(|p| *p == Permission::Admin) {
        Tier::Admin
    } else {
        Tier::Standard
    }
}

impl RateLimitSettings {
    /// The adaptive policy of a bucket counted per IP (`by_ip`) or per entity:
    /// only entities are penalised (SPEC §8: "an entity that hits limits").
    pub fn adaptive_for(&self, by_ip: bool) -> AdaptivePolicy {
        if by_ip {
            AdaptivePolicy::OFF
        } else {
            self.adaptive
        }
    }
}

/// Whether a request may proceed when a limiter of its route can't be
/// reached: never for a route with a `sensitive` bucket, otherwise only when
/// the deployment chose `RATE_LIMIT_FAIL_OPEN=true` (default: fail closed).
pub fn may_proceed_unlimited(route_buckets: &[RateBucket], fail_open: bool) -> bool {
    fail_open && !route_buckets.contains(&RateBucket::Sensitive)
}

/// Why no client IP could be established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientIpError {
    /// Production request without `CF-Connecting-IP` (not behind Cloudflare).
    #[error("the request carries no CF-Connecting-IP")]
    Missing,
    /// A header that should hold an IP address does not.
    #[error("{0} is not an IP address")]
    Malformed(&'static str),
}

/// The client IP of a request, normalised (`::ffff:1.2.3.4` stays as written
/// by `IpAddr`'s display). `cf_connecting_ip` is the `CF-Connecting-IP`
/// header; `dev_override` the [`DEV_CLIENT_IP_HEADER`], honoured only when
/// `development`. Without either, development uses the loopback address and
/// production fails (closed).
pub fn client_ip(
    cf_connecting_ip: Option<&str>,
    dev_override: Option<&str>,
    development: bool,
) -> Result<String, ClientIpError> {
    match (development, dev_override) {
        (true, Some(v)) => parse_ip(v, DEV_CLIENT_IP_HEADER),
        _ => platform_client_ip(cf_connecting_ip, development),
    }
}

/// [`client_ip`] without the development override: what the production
/// module uses, which reads no [`DEV_CLIENT_IP_HEADER`] (see `worker/src/client.rs`).
pub fn platform_client_ip(
    cf_connecting_ip: Option<&str>,
    development: bool,
) -> Result<String, ClientIpError> {
    match (cf_connecting_ip, development) {
        (Some(v), _) => parse_ip(v, CLIENT_IP_HEADER),
        (None, true) => Ok(DEV_LOOPBACK_IP.to_owned()),
        (None, false) => Err(ClientIpError::Missing),
    }
}

fn parse_ip(v: &str, header: &'static str) -> Result<String, ClientIpError> {
    v.trim()
        .parse::<IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| ClientIpError::Malformed(header))
}

/// The figures a response reports when several buckets were consulted: a
/// refused bucket if any (the one with the longest wait, since the client must
/// wait that long anyway), otherwise the bucket with the fewest remaining
/// requests (ties: the smaller limit). `None` when nothing was consulted.
pub fn tightest(decisions: &[RateLimitHeaders]) -> Option<RateLimitHeaders> {
    let refused = decisions
        .iter()
        .filter(|d| d.retry_after_secs.is_some())
        .max_by_key(|d| (d.retry_after_secs, d.reset_secs));
    if let Some(r) = refused {
        return Some(*r);
    }
    decisions
        .iter()
        .min_by_key(|d| (d.remaining, d.limit, std::cmp::Reverse(d.reset_secs)))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(limit: u32, remaining: u32, reset: u64, retry: Option<u64>) -> RateLimitHeaders {
        RateLimitHeaders {
            limit,
            remaining,
            reset_secs: reset,
            retry_after_secs: retry,
        }
    }

    #[test]
    fn buckets_count_the_spec_subjects() {
        let cases = [
            (RateBucket::Sensitive, Counted::Ip),
            (RateBucket::Auth, Counted::Ip),
            (RateBucket::Api, Counted::Entity),
            (RateBucket::Category(Permission::AgentRead), Counted::Entity),
            (RateBucket::WsMessage, Counted::Entity),
            (RateBucket::WsConnect, Counted::EntityOrIp),
        ];
        for (bucket, counted) in cases {
            assert_eq!(counted_by(bucket), counted, "{bucket:?}");
        }
    }

    #[test]
    fn admin_permission_means_admin_tier() {
        assert_eq!(tier_for(&[Permission::MessagingRead]), Tier::Standard);
        assert_eq!(tier_for(&[]), Tier::Standard);
        assert_eq!(
            tier_for(&[Permission::SystemWrite, Permission::Admin]),
            Tier::Admin
        );
        let s = RateLimitSettings::SPEC;
        assert_eq!(
            s.limits
                .limit_for(RateBucket::Api, tier_for(&[Permission::Admin]))
                .count,
            1000
        );
        assert_eq!(
            s.limits.limit_for(RateBucket::Api, Tier::Standard).count,
            100
        );
    }

    #[test]
    fn unreachable_limiter_fails_closed() {
        let sensitive = [RateBucket::Sensitive];
        let auth = [RateBucket::Auth];
        let api = [RateBucket::Api, RateBucket::Category(Permission::AgentRead)];
        let cases: &[(&[RateBucket], bool, bool)] = &[
            (&sensitive, false, false),
            (&sensitive, true, false),
            (&auth, false, false),
            (&auth, true, true),
            (&api, false, false),
            (&api, true, true),
        ];
        for (buckets, fail_open, proceed) in cases {
            assert_eq!(
                may_proceed_unlimited(buckets, *fail_open),
                *proceed,
                "{buckets:?} fail_open={fail_open}"
            );
        }
    }

    #[test]
    fn only_entities_adapt() {
        let s = RateLimitSettings::SPEC;
        assert_eq!(s.adaptive_for(true), AdaptivePolicy::OFF);
        assert_eq!(s.adaptive_for(false), AdaptivePolicy::SPEC);
    }

    #[test]
    fn client_ip_comes_from_cf_connecting_ip_only() {
        type Case = (
            Option<&'static str>,
            Option<&'static str>,
            bool,
            Result<&'static str, ClientIpError>,
        );
        let cases: &[Case] = &[
            (Some("203.0.113.7"), None, false, Ok("203.0.113.7")),
            (Some(" 203.0.113.7 "), None, false, Ok("203.0.113.7")),
            (Some("2001:DB8::1"), None, false, Ok("2001:db8::1")),
            // The override is a development-only test hook.
            (
                Some("203.0.113.7"),
                Some("198.51.100.1"),
                false,
                Ok("203.0.113.7"),
            ),
            (
                Some("203.0.113.7"),
                Some("198.51.100.1"),
                true,
                Ok("198.51.100.1"),
            ),
            (
                None,
                Some("198.51.100.1"),
                false,
                Err(ClientIpError::Missing),
            ),
            (None, None, true, Ok(DEV_LOOPBACK_IP)),
            (None, None, false, Err(ClientIpError::Missing)),
            (
                Some("1.2.3.4, 5.6.7.8"),
                None,
                false,
                Err(ClientIpError::Malformed(CLIENT_IP_HEADER)),
            ),
            (
                None,
                Some("nope"),
                true,
                Err(ClientIpError::Malformed(DEV_CLIENT_IP_HEADER)),
            ),
        ];
        for (cf, dev, development, expected) in cases {
            assert_eq!(
                client_ip(*cf, *dev, *development),
                expected.map(str::to_owned),
                "{cf:?} {dev:?} {development}"
            );
        }
    }

    #[test]
    fn tightest_prefers_refusals_then_fewest_remaining() {
        let a = h(100, 40, 30, None);
        let b = h(50, 3, 10, None);
        let c = h(20, 0, 60, Some(3));
        let d = h(5, 0, 60, Some(12));
        assert_eq!(tightest(&[]), None);
        assert_eq!(tightest(&[a, b]), Some(b));
        assert_eq!(tightest(&[a, c, b]), Some(c));
        assert_eq!(tightest(&[d, c]), Some(d));
        let tie_small = h(10, 3, 5, None);
        assert_eq!(tightest(&[b, tie_small]), Some(tie_small));
    }
}
