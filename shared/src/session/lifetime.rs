//! Session lifetimes (SPEC §4): browser sessions slide, machine sessions never
//! do, bootstrap sessions are short and single use.

use super::SessionError;

/// A browser session's idle lifetime: each use extends it to `now + 12 h`
/// (never past the absolute cap).
pub const BROWSER_IDLE_SECS: u64 = 12 * 3600;
/// A browser session's absolute cap without `rememberDevice`: 24 h.
pub const BROWSER_CAP_SECS: u64 = 24 * 3600;
/// A browser session's absolute cap with `rememberDevice`: 30 days.
pub const BROWSER_REMEMBER_CAP_SECS: u64 = 30 * 24 * 3600;
/// A machine session's (and machine token's) lifetime: 90 days, absolute.
pub const MACHINE_LIFETIME_SECS: u64 = 90 * 24 * 3600;
/// A bootstrap session's lifetime: 15 minutes, single use.
pub const BOOTSTRAP_LIFETIME_SECS: u64 = 15 * 60;
/// [`touch`] asks for a storage write only when the sliding expiry moved at
/// least this far, so a busy session is not rewritten on every request. The
/// stored expiry therefore lags by less than this: a session can end up to
/// this much *earlier* than the ideal, never later.
pub const TOUCH_PERSIST_GRANULARITY_SECS: u64 = 60;

/// The kind of a session (the `sessions.kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionKind {
    /// A person's browser: sliding 12 h, capped at 24 h or 30 days.
    Browser,
    /// A machine token's session: 90 days absolute, never slides.
    Machine,
    /// A cloud bootstrap exchange: 15 minutes, consumed by its one use.
    Bootstrap,
}

impl SessionKind {
    /// The stored spelling: `browser`, `machine`, `bootstrap`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Browser => "browser",
            Self::Machine => "machine",
            Self::Bootstrap => "bootstrap",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "browser" => Some(Self::Browser),
            "machine" => Some(Self::Machine),
            "bootstrap" => Some(Self::Bootstrap),
            _ => None,
        }
    }
}

/// A session's two deadlines, unix seconds. Valid while
/// `now < expires_at && now < absolute_expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionTimes {
    /// The sliding deadline (equal to the absolute one for kinds that don't
    /// slide).
    pub expires_at: u64,
    /// The cap no use can extend past.
    pub absolute_expires_at: u64,
}

/// The deadlines of a session created at `now`. `remember_device` matters only
/// for [`SessionKind::Browser`].
pub fn new_session_expiry(kind: SessionKind, remember_device: bool, now: u64) -> SessionTimes {
    match kind {
        SessionKind::Browser => {
            let cap = if remember_device {
                BROWSER_REMEMBER_CAP_SECS
            } else {
                BROWSER_CAP_SECS
            };
            let absolute = now.saturating_add(cap);
            SessionTimes {
                expires_at: now.saturating_add(BROWSER_IDLE_SECS).min(absolute),
                absolute_expires_at: absolute,
            }
        }
        SessionKind::Machine => fixed(now.saturating_add(MACHINE_LIFETIME_SECS)),
        SessionKind::Bootstrap => fixed(now.saturating_add(BOOTSTRAP_LIFETIME_SECS)),
    }
}

fn fixed(at: u64) -> SessionTimes {
    SessionTimes {
        expires_at: at,
        absolute_expires_at: at,
    }
}

/// The outcome of using a valid session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Touched {
    /// The session's deadline after this use.
    pub expires_at: u64,
    /// Whether to write `expires_at` back (it moved by at least
    /// [`TOUCH_PERSIST_GRANULARITY_SECS`]).
    pub persist: bool,
    /// The session is single use ([`SessionKind::Bootstrap`]): the caller must
    /// consume it atomically (delete or mark used, checking that it was not
    /// already) and refuse the request if that fails.
    pub consume: bool,
}

/// Use a session at `now`: refused once `now ≥ expires_at` or
/// `now ≥ absolute_expires_at`; otherwise a browser session slides to
/// `min(now + 12 h, absolute cap)` (never backwards), a machine session keeps
/// its deadline and a bootstrap session is consumed.
pub fn touch(times: SessionTimes, kind: SessionKind, now: u64) -> Result<Touched, SessionError> {
    if now >= times.absolute_expires_at {
        return Err(SessionError::AbsoluteCapReached);
    }
    if now >= times.expires_at {
        return Err(SessionError::Expired);
    }
    let expires_at = match kind {
        SessionKind::Browser => now
            .saturating_add(BROWSER_IDLE_SECS)
            .min(times.absolute_expires_at)
            .max(times.expires_at),
        SessionKind::Machine | SessionKind::Bootstrap => times.expires_at,
    };
    Ok(Touched {
        expires_at,
        persist: expires_at - times.expires_at >= TOUCH_PERSIST_GRANULARITY_SECS,
        consume: kind == SessionKind::Bootstrap,
    })
}

/// The `Max-Age` of a session's cookies: the seconds left until its absolute
/// cap (the sliding deadline is enforced server-side; the cookie only has to
/// live as long as the session could).
pub fn cookie_max_age(times: SessionTimes, now: u64) -> u64 {
    times.absolute_expires_at.saturating_sub(now)
}
