//! The legacy static bearer window (SPEC §3 item 5).

/// How long after `LEGACY_TOKEN_SINCE` the legacy bearer works: 14 days.
pub const LEGACY_WINDOW_SECS: u64 = 14 * 24 * 3600;

/// The scope a legacy bearer session carries (logged as deprecated).
pub const LEGACY_SCOPE: &str = "legacy";

/// Whether the legacy static bearer is accepted at `now` (unix seconds): only
/// within `[since, since + 14 days)` and only while no stronger login method
/// exists (`stronger_login_exists`: a password, an owner binding or a cloud
/// link). A `since` in the future means the window has not opened: refused.
pub fn legacy_token_active(since: u64, now: u64, stronger_login_exists: bool) -> bool {
    !stronger_login_exists && now >= since && now < since.saturating_add(LEGACY_WINDOW_SECS)
}
