//! Gateway configuration, parsed once from the environment into a validated
//! struct. Any invalid or missing required setting is a [`ConfigError`] naming
//! the variable; the worker then answers every request with 503 `MISCONFIGURED`
//! (it never serves with a half-valid config).
//!
//! The parser is sans-IO: it takes a lookup function, so the worker passes its
//! `Env` and tests pass a map.

use crate::assertion::AssertionKey;
use crate::jwt::{Algorithm, Validation};
use crate::ratelimit::RateLimitSettings;
use crate::secret::Secret;
use url::Url;
use uuid::Uuid;

/// Why the configuration was refused. `variable` names the setting at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

impl ConfigError {
    fn new(variable: &'static str, reason: impl Into<String>) -> Self {
        Self {
            variable,
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageBackend {
    D1,
    Postgres,
}

/// An allowed browser origin, normalised to `scheme://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin(String);

impl AllowedOrigin {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// External JWT verification settings (SPEC §3 item 4).
#[derive(Clone)]
pub struct JwtConfig {
    pub jwks_uri: Option<Url>,
    pub secret: Option<Secret>,
    pub issuer_whitelist: Vec<String>,
    pub audience: Option<String>,
    pub leeway_secs: u64,
    pub jwks_cache_ttl_secs: u64,
}

impl JwtConfig {
    /// The external-JWT policy of SPEC §3 item 4: RS256/ES256/EdDSA when a
    /// JWKS is configured, HS256 when a shared secret is; `JWT_ISSUER_WHITELIST`,
    /// `JWT_AUDIENCE` and the configured leeway. With neither key source every
    /// token is refused ([`JwtError::AlgorithmNotAllowed`](crate::jwt::JwtError::AlgorithmNotAllowed)).
    pub fn validation(&self) -> Validation {
        let mut algs = Vec::new();
        if self.jwks_uri.is_some() {
            algs.extend(Algorithm::ASYMMETRIC);
        }
        if self.secret.is_some() {
            algs.push(Algorithm::Hs256);
        }
        Validation::new(&algs)
            .with_leeway(self.leeway_secs)
            .with_issuers(self.issuer_whitelist.iter().cloned())
            .with_audience(self.audience.clone())
    }
}

/// Cloud bootstrap settings (SPEC §6).
#[derive(Debug, Clone)]
pub struct CloudConfig {
    pub issuer: Url,
    pub container_id: String,
    pub provisioned: bool,
}

/// Legacy static bearer (SPEC §3 item 5).
#[derive(Clone)]
pub struct LegacyTokenConfig {
    pub token: Secret,
    /// Unix seconds from which the 14-day window runs.
    pub since: u64,
}

/// argon2id cost parameters (SPEC §5); never below the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl PasswordHashParams {
    pub const FLOOR: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };
}

/// The validated gateway configuration.
#[derive(Clone)]
pub struct Config {
    pub server_id: Uuid,
    pub environment: Environment,
    pub allowed_origins: Vec<AllowedOrigin>,
    pub gateway_key: Option<Secret>,
    pub jwt: JwtConfig,
    pub cloud: Option<CloudConfig>,
    pub legacy_token: Option<LegacyTokenConfig>,
    pub data_isolation: bool,
    pub storage: StorageBackend,
    pub agent_origin: Option<Url>,
    /// The origin's own API key (`AGENT_ORIGIN_API_KEY`), sent as `X-API-KEY`
    /// on every request to it, so the origin can run with
    /// `ELIZA_SERVER_AUTH_TOKEN` and be closed to everyone else.
    pub agent_origin_api_key: Option<Secret>,
    pub admin_emails: Vec<String>,
    pub allow_registration: bool,
    pub password_hash: PasswordHashParams,
    /// When the rate limiter can't be reached, non-sensitive routes may proceed
    /// only if this is true (default false: fail closed).
    pub rate_limit_fail_open: bool,
    /// The key that signs identity assertions to the agent origin
    /// (`GATEWAY_SIGNING_KEY`; required with `AGENT_ORIGIN_URL`).
    pub signing_key: Option<AssertionKey>,
    /// The previous signing key, still published during rotation.
    pub signing_key_previous: Option<AssertionKey>,
    /// How long the gateway waits for the agent origin to answer.
    pub agent_origin_timeout_ms: u64,
    /// SPEC §8 limits with the configured period and penalty
    /// (`RATE_LIMIT_PERIOD_MS`, `RATE_LIMIT_PENALTY_MS`), and the
    /// development-only switch `RATE_LIMIT_DISABLED`.
    pub rate_limit: RateLimitSettings,
}

impl Config {
    pub fn is_development(&self) -> bool {
        self.environment == Environment::Development
    }

    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o.as_str() == origin)
    }

    /// Every variable the parser reads, so the worker can fetch each once.
    pub const VARIABLES: &'static [&'static str] = &[
        "SERVER_ID",
        "ENVIRONMENT",
        "ALLOWED_ORIGINS",
        "ELIZA_SERVER_AUTH_TOKEN",
        "JWT_JWKS_URI",
        "JWT_SECRET",
        "JWT_ISSUER_WHITELIST",
        "JWT_AUDIENCE",
        "JWT_LEEWAY_SECONDS",
        "JWKS_CACHE_TTL",
        "ELIZA_CLOUD_ISSUER",
        "ELIZA_CLOUD_CONTAINER_ID",
        "ELIZA_CLOUD_PROVISIONED",
        "ELIZA_LEGACY_TOKEN",
        "LEGACY_TOKEN_SINCE",
        "ENABLE_DATA_ISOLATION",
        "STORAGE",
        "AGENT_ORIGIN_URL",
        "AGENT_ORIGIN_API_KEY",
        "ADMIN_EMAILS",
        "ALLOW_REGISTRATION",
        "ARGON2_MEMORY_KIB",
        "ARGON2_ITERATIONS",
        "ARGON2_PARALLELISM",
        "RATE_LIMIT_FAIL_OPEN",
        "GATEWAY_SIGNING_KEY",
        "GATEWAY_SIGNING_KEY_PREVIOUS",
        "AGENT_ORIGIN_TIMEOUT_MS",
        "RATE_LIMIT_PERIOD_MS",
        "RATE_LIMIT_PENALTY_MS",
        "RATE_LIMIT_DISABLED",
    ];

    /// Parse and validate. `lookup` returns a variable's value, or `None` when
    /// unset; empty strings count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let environment = match get("ENVIRONMENT").as_deref() {
            None | Some("production") => Environment::Production,
            Some("development") => Environment::Development,
            Some(other) => {
                return Err(ConfigError::new(
                    "ENVIRONMENT",
                    format!("must be `development` or `production`, got `{other}`"),
                ))
            }
        };
        let development = environment == Environment::Development;

        let server_id = match get("SERVER_ID") {
            None => return Err(ConfigError::new("SERVER_ID", "is required (a UUID)")),
            Some(v) => {
                Uuid::parse_str(&v).map_err(|_| ConfigError::new("SERVER_ID", "must be a UUID"))?
            }
        };

        let allowed_origins = match get("ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| parse_origin(s).map_err(|r| ConfigError::new("ALLOWED_ORIGINS", r)))
                .collect::<Result<_, _>>()?,
        };

        let gateway_key = match get("ELIZA_SERVER_AUTH_TOKEN") {
            None => None,
            Some(v) if v.len() < 16 => {
                return Err(ConfigError::new(
                    "ELIZA_SERVER_AUTH_TOKEN",
                    "must be at least 16 bytes",
                ))
            }
            Some(v) => Some(Secret::new(v)),
        };

        let jwt = JwtConfig {
            jwks_uri: get("JWT_JWKS_URI")
                .map(|v| parse_fetch_url("JWT_JWKS_URI", &v, development))
                .transpose()?,
            secret: match get("JWT_SECRET") {
                None => None,
                Some(v) if v.len() < 32 => {
                    return Err(ConfigError::new("JWT_SECRET", "must be at least 32 bytes"))
                }
                Some(v) => Some(Secret::new(v)),
            },
            issuer_whitelist: get("JWT_ISSUER_WHITELIST")
                .map(|v| split_list(&v))
                .unwrap_or_default(),
            audience: get("JWT_AUDIENCE"),
            leeway_secs: parse_number("JWT_LEEWAY_SECONDS", get("JWT_LEEWAY_SECONDS"), 60, 0, 300)?,
            jwks_cache_ttl_secs: parse_number(
                "JWKS_CACHE_TTL",
                get("JWKS_CACHE_TTL"),
                3600,
                60,
                7 * 24 * 3600,
            )?,
        };

        let provisioned = parse_bool(
            "ELIZA_CLOUD_PROVISIONED",
            get("ELIZA_CLOUD_PROVISIONED"),
            false,
        )?;
        let cloud = match (get("ELIZA_CLOUD_ISSUER"), get("ELIZA_CLOUD_CONTAINER_ID")) {
            (Some(issuer), Some(container_id)) => Some(CloudConfig {
                issuer: parse_fetch_url("ELIZA_CLOUD_ISSUER", &issuer, development)?,
                container_id,
                provisioned,
            }),
            (None, None) if !provisioned => None,
            (None, _) => {
                return Err(ConfigError::new(
                    "ELIZA_CLOUD_ISSUER",
                    "is required when cloud bootstrap is configured",
                ))
            }
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "ELIZA_CLOUD_CONTAINER_ID",
                    "is required when ELIZA_CLOUD_ISSUER is set",
                ))
            }
        };

        let legacy_token = match get("ELIZA_LEGACY_TOKEN") {
            None => None,
            Some(token) if token.len() < 16 => {
                return Err(ConfigError::new(
                    "ELIZA_LEGACY_TOKEN",
                    "must be at least 16 bytes",
                ))
            }
            Some(token) => {
                let since = get("LEGACY_TOKEN_SINCE").ok_or_else(|| {
                    ConfigError::new(
                        "LEGACY_TOKEN_SINCE",
                        "is required with ELIZA_LEGACY_TOKEN (unix seconds)",
                    )
                })?;
                let since = since
                    .parse::<u64>()
                    .map_err(|_| ConfigError::new("LEGACY_TOKEN_SINCE", "must be unix seconds"))?;
                Some(LegacyTokenConfig {
                    token: Secret::new(token),
                    since,
                })
            }
        };

        let data_isolation =
            parse_bool("ENABLE_DATA_ISOLATION", get("ENABLE_DATA_ISOLATION"), true)?;
        if !data_isolation && !development {
            return Err(ConfigError::new(
                "ENABLE_DATA_ISOLATION",
                "may be false only with ENVIRONMENT=development",
            ));
        }

        let storage = match get("STORAGE").as_deref() {
            None | Some("d1") => StorageBackend::D1,
            Some("postgres") => StorageBackend::Postgres,
            Some(other) => {
                return Err(ConfigError::new(
                    "STORAGE",
                    format!("must be `d1` or `postgres`, got `{other}`"),
                ))
            }
        };

        let agent_origin = get("AGENT_ORIGIN_URL")
            .map(|v| parse_fetch_url("AGENT_ORIGIN_URL", &v, development))
            .transpose()?;

        let agent_origin_api_key = match get("AGENT_ORIGIN_API_KEY") {
            None => None,
            Some(_) if agent_origin.is_none() => {
                return Err(ConfigError::new(
                    "AGENT_ORIGIN_API_KEY",
                    "is set but AGENT_ORIGIN_URL is not",
                ))
            }
            Some(v) if v.len() < 16 => {
                return Err(ConfigError::new(
                    "AGENT_ORIGIN_API_KEY",
                    "must be at least 16 bytes",
                ))
            }
            // A header value: no control characters, no surrounding space.
            Some(v) if v.trim() != v || v.bytes().any(|b| b.is_ascii_control()) => {
                return Err(ConfigError::new(
                    "AGENT_ORIGIN_API_KEY",
                    "must be printable, without surrounding spaces",
                ))
            }
            Some(v) => Some(Secret::new(v)),
        };

        let signing_key = get("GATEWAY_SIGNING_KEY")
            .map(|v| {
                AssertionKey::parse(&v).map_err(|r| ConfigError::new("GATEWAY_SIGNING_KEY", r))
            })
            .transpose()?;
        let signing_key_previous = get("GATEWAY_SIGNING_KEY_PREVIOUS")
            .map(|v| {
                AssertionKey::parse(&v)
                    .map_err(|r| ConfigError::new("GATEWAY_SIGNING_KEY_PREVIOUS", r))
            })
            .transpose()?;
        if signing_key.is_none() && signing_key_previous.is_some() {
            return Err(ConfigError::new(
                "GATEWAY_SIGNING_KEY",
                "is required when GATEWAY_SIGNING_KEY_PREVIOUS is set",
            ));
        }
        if agent_origin.is_some() && signing_key.is_none() {
            return Err(ConfigError::new(
                "GATEWAY_SIGNING_KEY",
                "is required when AGENT_ORIGIN_URL is set",
            ));
        }
        let agent_origin_timeout_ms = parse_number(
            "AGENT_ORIGIN_TIMEOUT_MS",
            get("AGENT_ORIGIN_TIMEOUT_MS"),
            30_000,
            100,
            300_000,
        )?;

        let admin_emails = get("ADMIN_EMAILS")
            .map(|v| {
                split_list(&v)
                    .into_iter()
                    .map(|e| e.to_lowercase())
                    .collect()
            })
            .unwrap_or_default();

        let password_hash = PasswordHashParams {
            memory_kib: parse_number(
                "ARGON2_MEMORY_KIB",
                get("ARGON2_MEMORY_KIB"),
                PasswordHashParams::FLOOR.memory_kib.into(),
                PasswordHashParams::FLOOR.memory_kib.into(),
                1 << 20,
            )? as u32,
            iterations: parse_number(
                "ARGON2_ITERATIONS",
                get("ARGON2_ITERATIONS"),
                PasswordHashParams::FLOOR.iterations.into(),
                PasswordHashParams::FLOOR.iterations.into(),
                10,
            )? as u32,
            parallelism: parse_number("ARGON2_PARALLELISM", get("ARGON2_PARALLELISM"), 1, 1, 4)?
                as u32,
        };

        Ok(Self {
            server_id,
            environment,
            allowed_origins,
            gateway_key,
            jwt,
            cloud,
            legacy_token,
            data_isolation,
            storage,
            agent_origin,
            agent_origin_api_key,
            admin_emails,
            allow_registration: parse_bool("ALLOW_REGISTRATION", get("ALLOW_REGISTRATION"), false)?,
            password_hash,
            rate_limit_fail_open: parse_bool(
                "RATE_LIMIT_FAIL_OPEN",
                get("RATE_LIMIT_FAIL_OPEN"),
                false,
            )?,
            signing_key,
            signing_key_previous,
            agent_origin_timeout_ms,
            rate_limit: parse_rate_limit(&get, development)?,
        })
    }
}

/// `RATE_LIMIT_PERIOD_MS` (default 60000: the SPEC's per-minute counts),
/// `RATE_LIMIT_PENALTY_MS` (default 3600000: the adaptive penalty's length)
/// and `RATE_LIMIT_DISABLED` (development only: the benchmark's baseline).
fn parse_rate_limit(
    get: &impl Fn(&str) -> Option<String>,
    development: bool,
) -> Result<RateLimitSettings, ConfigError> {
    let period_ms = parse_number(
        "RATE_LIMIT_PERIOD_MS",
        get("RATE_LIMIT_PERIOD_MS"),
        crate::ratelimit::DEFAULT_PERIOD_MS,
        1,
        3_600_000,
    )?;
    let penalty_ms = parse_number(
        "RATE_LIMIT_PENALTY_MS",
        get("RATE_LIMIT_PENALTY_MS"),
        RateLimitSettings::SPEC.adaptive.penalty_ms,
        1,
        7 * 24 * 3_600_000,
    )?;
    let disabled = parse_bool("RATE_LIMIT_DISABLED", get("RATE_LIMIT_DISABLED"), false)?;
    if disabled && !development {
        return Err(ConfigError::new(
            "RATE_LIMIT_DISABLED",
            "may be true only with ENVIRONMENT=development",
        ));
    }
    let mut settings = RateLimitSettings::with_timing(period_ms, penalty_ms);
    settings.enabled = !disabled;
    Ok(settings)
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_bool(
    variable: &'static str,
    v: Option<String>,
    default: bool,
) -> Result<bool, ConfigError> {
    match v.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(_) => Err(ConfigError::new(variable, "must be true or false")),
    }
}

fn parse_number(
    variable: &'static str,
    v: Option<String>,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(v) = v else { return Ok(default) };
    let n = v
        .parse::<u64>()
        .map_err(|_| ConfigError::new(variable, "must be a whole number"))?;
    if n < min || n > max {
        return Err(ConfigError::new(
            variable,
            format!("must be between {min} and {max}"),
        ));
    }
    Ok(n)
}

/// A URL the gateway fetches from: https, or http only for a loopback host in
/// development (a test identity provider on 127.0.0.1).
fn parse_fetch_url(variable: &'static str, v: &str, development: bool) -> Result<Url, ConfigError> {
    let url = Url::parse(v).map_err(|_| ConfigError::new(variable, "must be an absolute URL"))?;
    let host = url
        .host_str()
        .ok_or_else(|| ConfigError::new(variable, "must name a host"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(variable, "must not carry credentials"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if development && is_loopback_host(host) => Ok(url),
        "http" => Err(ConfigError::new(
            variable,
            "must use https (http only for loopback in development)",
        )),
        _ => Err(ConfigError::new(variable, "must be an https URL")),
    }
}

/// Whether `host` names the local machine.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

fn parse_origin(s: &str) -> Result<AllowedOrigin, String> {
    let url = Url::parse(s).map_err(|_| format!("`{s}` is not an origin URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{s}` must be an http(s) origin"));
    }
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(format!(
            "`{s}` must be a bare origin (scheme://host[:port])"
        ));
    }
    Ok(AllowedOrigin(url.origin().ascii_serialization()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_validation_binds_algorithms_to_key_sources() {
        let mut cfg = JwtConfig {
            jwks_uri: None,
            secret: None,
            issuer_whitelist: vec!["https://idp".into()],
            audience: Some("gw".into()),
            leeway_secs: 30,
            jwks_cache_ttl_secs: 3600,
        };
        assert!(cfg.validation().algorithms().is_empty());
        cfg.secret = Some(Secret::new("x".repeat(32)));
        assert_eq!(cfg.validation().algorithms(), &[Algorithm::Hs256]);
        cfg.jwks_uri = Some("https://idp/jwks".parse().unwrap());
        let v = cfg.validation();
        assert_eq!(v.algorithms().len(), 4);
        assert_eq!(v.leeway_secs(), 30);
        assert_eq!(v.issuers(), &["https://idp".to_string()]);
        assert_eq!(v.audience(), Some("gw"));
        cfg.secret = None;
        assert!(!cfg.validation().allows(Algorithm::Hs256));
    }
    use std::collections::HashMap;

    const SERVER: &str = "0190b6a0-0000-7000-8000-000000000001";

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn minimal_config_has_safe_defaults() {
        let c = parse(&[("SERVER_ID", SERVER)]).unwrap();
        assert_eq!(c.environment, Environment::Production);
        assert!(c.data_isolation);
        assert_eq!(c.storage, StorageBackend::D1);
        assert!(!c.rate_limit_fail_open);
        assert!(!c.allow_registration);
        assert_eq!(c.jwt.leeway_secs, 60);
        assert_eq!(c.password_hash, PasswordHashParams::FLOOR);
        assert_eq!(c.rate_limit, RateLimitSettings::SPEC);
    }

    #[test]
    fn rate_limit_timing_and_switch() {
        let c = parse(&[
            ("SERVER_ID", SERVER),
            ("RATE_LIMIT_PERIOD_MS", "2000"),
            ("RATE_LIMIT_PENALTY_MS", "9000"),
        ])
        .unwrap();
        assert_eq!(c.rate_limit.limits.auth.period_ms, 2000);
        assert_eq!(c.rate_limit.limits.auth.count, 20);
        assert_eq!(c.rate_limit.adaptive.penalty_ms, 9000);
        assert!(c.rate_limit.enabled);
        let dev = parse(&[
            ("SERVER_ID", SERVER),
            ("ENVIRONMENT", "development"),
            ("RATE_LIMIT_DISABLED", "true"),
        ])
        .unwrap();
        assert!(!dev.rate_limit.enabled);
        let refused: &[(&str, &str)] = &[
            ("RATE_LIMIT_DISABLED", "true"),
            ("RATE_LIMIT_PERIOD_MS", "0"),
            ("RATE_LIMIT_PERIOD_MS", "3600001"),
            ("RATE_LIMIT_PERIOD_MS", "1m"),
            ("RATE_LIMIT_PENALTY_MS", "0"),
        ];
        for (name, value) in refused {
            let err = parse(&[("SERVER_ID", SERVER), (name, value)]).err();
            assert_eq!(err.map(|e| e.variable), Some(*name), "{name}={value}");
        }
    }

    #[test]
    fn refusals_name_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "SERVER_ID"),
            (&[("SERVER_ID", "not-a-uuid")], "SERVER_ID"),
            (
                &[("SERVER_ID", SERVER), ("JWT_SECRET", "short")],
                "JWT_SECRET",
            ),
            (
                &[("SERVER_ID", SERVER), ("JWT_JWKS_URI", "not a url")],
                "JWT_JWKS_URI",
            ),
            (
                &[
                    ("SERVER_ID", SERVER),
                    ("JWT_JWKS_URI", "http://idp.example/jwks"),
                ],
                "JWT_JWKS_URI",
            ),
            (
                &[
                    ("SERVER_ID", SERVER),
                    ("JWT_JWKS_URI", "ftp://idp.example/jwks"),
                ],
                "JWT_JWKS_URI",
            ),
            (
                &[("SERVER_ID", SERVER), ("ENVIRONMENT", "staging")],
                "ENVIRONMENT",
            ),
            (
                &[("SERVER_ID", SERVER), ("ENABLE_DATA_ISOLATION", "false")],
                "ENABLE_DATA_ISOLATION",
            ),
            (
                &[
                    ("SERVER_ID", SERVER),
                    ("ALLOWED_ORIGINS", "https://a.example/path"),
                ],
                "ALLOWED_ORIGINS",
            ),
            (
                &[("SERVER_ID", SERVER), ("JWT_LEEWAY_SECONDS", "301")],
                "JWT_LEEWAY_SECONDS",
            ),
            (
                &[("SERVER_ID", SERVER), ("ARGON2_MEMORY_KIB", "4096")],
                "ARGON2_MEMORY_KIB",
            ),
            (&[("SERVER_ID", SERVER), ("STORAGE", "mysql")], "STORAGE"),
            (
                &[("SERVER_ID", SERVER), ("ELIZA_CLOUD_PROVISIONED", "1")],
                "ELIZA_CLOUD_ISSUER",
            ),
            (
                &[
                    ("SERVER_ID", SERVER),
                    ("ELIZA_CLOUD_ISSUER", "https://cloud.example"),
                ],
                "ELIZA_CLOUD_CONTAINER_ID",
            ),
            (
                &[
                    ("SERVER_ID", SERVER),
                    ("ELIZA_LEGACY_TOKEN", "0123456789abcdef"),
                ],
                "LEGACY_TOKEN_SINCE",
            ),
            (
                &[("SERVER_ID", SERVER), ("ELIZA_SERVER_AUTH_TOKEN", "short")],
                "ELIZA_SERVER_AUTH_TOKEN",
            ),
        ];
        for (pairs, variable) in cases {
            let err = match parse(pairs) {
                Ok(_) => panic!("{pairs:?} must be refused"),
                Err(e) => e,
            };
            assert_eq!(err.variable, *variable, "{pairs:?}: {err}");
        }
    }

    #[test]
    fn loopback_http_only_in_development() {
        let dev = parse(&[
            ("SERVER_ID", SERVER),
            ("ENVIRONMENT", "development"),
            ("JWT_JWKS_URI", "http://127.0.0.1:9999/jwks.json"),
        ])
        .unwrap();
        assert_eq!(dev.jwt.jwks_uri.unwrap().port(), Some(9999));
        assert!(parse(&[
            ("SERVER_ID", SERVER),
            ("JWT_JWKS_URI", "http://127.0.0.1:9999/jwks.json")
        ])
        .is_err());
    }

    #[test]
    fn origins_are_normalised() {
        let c = parse(&[
            ("SERVER_ID", SERVER),
            (
                "ALLOWED_ORIGINS",
                "https://App.Example, http://localhost:3000/",
            ),
        ])
        .unwrap();
        assert!(c.origin_allowed("https://app.example"));
        assert!(c.origin_allowed("http://localhost:3000"));
        assert!(!c.origin_allowed("https://evil.example"));
        assert!(!c.origin_allowed("http://localhost:3001"));
    }

    /// `url` runs without a Unicode back end for IDNA (worker/Cargo.toml
    /// pins `idna_adapter` 1.0): a host name must be given in ASCII, so an
    /// internationalised one is written in its punycode form.
    #[test]
    fn origins_name_hosts_in_ascii() {
        let origins = |v: &str| parse(&[("SERVER_ID", SERVER), ("ALLOWED_ORIGINS", v)]);
        let c = origins("https://xn--bcher-kva.example").unwrap();
        assert!(c.origin_allowed("https://xn--bcher-kva.example"));
        assert!(origins("https://b\u{fc}cher.example").is_err());
    }

    #[test]
    fn agent_origin_needs_a_signing_key() {
        let seed = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk";
        let origin = ("AGENT_ORIGIN_URL", "https://agents.example");
        type Vars<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Vars, Option<&str>)] = &[
            (&[origin], Some("GATEWAY_SIGNING_KEY")),
            (
                &[origin, ("GATEWAY_SIGNING_KEY", "short")],
                Some("GATEWAY_SIGNING_KEY"),
            ),
            (
                &[("GATEWAY_SIGNING_KEY_PREVIOUS", seed)],
                Some("GATEWAY_SIGNING_KEY"),
            ),
            (
                &[
                    ("GATEWAY_SIGNING_KEY", seed),
                    ("GATEWAY_SIGNING_KEY_PREVIOUS", "x"),
                ],
                Some("GATEWAY_SIGNING_KEY_PREVIOUS"),
            ),
            (
                &[
                    origin,
                    ("GATEWAY_SIGNING_KEY", seed),
                    ("AGENT_ORIGIN_TIMEOUT_MS", "5"),
                ],
                Some("AGENT_ORIGIN_TIMEOUT_MS"),
            ),
            (
                &[("AGENT_ORIGIN_API_KEY", "origin-key-0123456789")],
                Some("AGENT_ORIGIN_API_KEY"),
            ),
            (
                &[
                    origin,
                    ("GATEWAY_SIGNING_KEY", seed),
                    ("AGENT_ORIGIN_API_KEY", "short"),
                ],
                Some("AGENT_ORIGIN_API_KEY"),
            ),
            (
                &[
                    origin,
                    ("GATEWAY_SIGNING_KEY", seed),
                    ("AGENT_ORIGIN_API_KEY", "origin-key-01234\n56789"),
                ],
                Some("AGENT_ORIGIN_API_KEY"),
            ),
            (&[origin, ("GATEWAY_SIGNING_KEY", seed)], None),
            (
                &[
                    origin,
                    ("GATEWAY_SIGNING_KEY", seed),
                    ("AGENT_ORIGIN_API_KEY", "origin-key-0123456789"),
                ],
                None,
            ),
        ];
        for (pairs, refused) in cases {
            let mut all = vec![("SERVER_ID", SERVER)];
            all.extend_from_slice(pairs);
            match (parse(&all), refused) {
                (Err(e), Some(v)) => assert_eq!(e.variable, *v, "{pairs:?}"),
                (Ok(c), None) => {
                    assert!(c.signing_key.is_some());
                    assert_eq!(c.agent_origin_timeout_ms, 30_000);
                }
                (Err(e), None) => panic!("{pairs:?} refused: {e}"),
                (Ok(_), Some(v)) => panic!("{pairs:?} accepted, expected {v}"),
            }
        }
    }
}
