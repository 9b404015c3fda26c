//! How long a token may be handed out, in one place: its lifetime counts from when its request was sent and is
//! the earlier of `expires_in` and the JWT's `exp` (unless the clocks differ); it is served until its expiry
//! less the skew (capped at a tenth of the lifetime); a background refresh starts once the refresh share of
//! the lifetime has passed; a mirror may serve it until the earlier of the two; and after a failed refresh the
//! next waits a while.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::token::Token;

/// Longest `expires_in` accepted: ten years. Anything above is a server bug, and would overflow clocks.
pub(crate) const MAX_EXPIRES_IN: u64 = 10 * 365 * 24 * 3600;

/// How far a JWT's `exp` and `expires_in` may disagree before the clocks are taken to differ: servers round
/// `exp` to whole seconds and take a moment to answer, but a minute is no rounding.
const CLOCKS_AGREE_WITHIN: f64 = 60.0;

/// When the request that got a token was sent. Its lifetime counts from here, not from when the answer was
/// read: the server started counting before it answered, and the network and the parsing took time too.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SentAt {
    pub mono: Instant,
    pub wall: SystemTime,
}

impl SentAt {
    pub fn now() -> Self {
        Self {
            mono: Instant::now(),
            wall: SystemTime::now(),
        }
    }
}

/// How long a token lives from `sent` (when its request was sent), and why the JWT's `exp` was set aside, if
/// it was. `expires_in` counts from `sent`; a JWT's `exp`, when it comes earlier, counts instead (servers
/// round `exp` down to whole seconds, so `sent + expires_in` can be up to a second too late) — unless the two
/// disagree by more than a minute or `exp` is already past on arrival: then this host's clock and the
/// server's differ, and only `expires_in`, which needs no shared clock, can be believed.
pub(crate) fn lifetime(
    expires_in: Option<u64>,
    exp: Option<f64>,
    sent: SystemTime,
    arrived: SystemTime,
    default: Duration,
) -> (Duration, Option<String>) {
    let unix = |t: SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    };
    let (sent, arrived) = (unix(sent), unix(arrived));
    let Some(exp) = exp else {
        return (expires_in.map_or(default, Duration::from_secs), None);
    };
    let exp_left = exp - sent;
    // Past on arrival, or before the request was sent (a wall clock that stepped back meanwhile).
    let past = exp <= arrived.max(sent);
    match expires_in {
        Some(secs) if past || (exp_left - secs as f64).abs() > CLOCKS_AGREE_WITHIN => (
            Duration::from_secs(secs),
            Some(format!(
                "the token's exp is {:.0}s {} this host's clock, but expires_in says {secs}s: the clocks of \
                 this host and the authorization server differ; expires_in counts",
                (exp - arrived).abs(),
                if past { "behind" } else { "ahead of" },
            )),
        ),
        Some(secs) => (Duration::from_secs_f64(exp_left.min(secs as f64)), None),
        None if past || exp_left > MAX_EXPIRES_IN as f64 => (
            default,
            Some(format!(
                "the token's exp is {:.0}s {} this host's clock and there is no expires_in: the clocks of \
                 this host and the authorization server may differ; the default lifetime of {}s counts",
                (exp - arrived).abs(),
                if past { "behind" } else { "ahead of" },
                default.as_secs()
            )),
        ),
        None => (Duration::from_secs_f64(exp_left), None),
    }
}

impl Token {
    /// The last instant the token may be handed out: `skew` before expiry, with the skew capped at a tenth of
    /// the lifetime so that short-lived tokens remain usable for most of their life.
    pub(crate) fn use_by(&self, skew: Duration) -> Instant {
        self.expires_at() - skew.min(self.lifetime / 10)
    }

    /// When a background refresh is due: once `refresh_ratio` of the lifetime has passed; `None` when
    /// refresh-ahead is off (a ratio of 1).
    pub(crate) fn refresh_at(&self, refresh_ratio: f64) -> Option<Instant> {
        (refresh_ratio < 1.0).then(|| self.sent_at.mono + self.lifetime.mul_f64(refresh_ratio))
    }
}

/// Until when `token` may be served without the core (by a binding's mirror): until refresh-ahead is due or
/// the skew begins.
pub(crate) fn serve_until(token: &Token, skew: Duration, refresh_ratio: f64) -> Instant {
    let use_by = token.use_by(skew);
    token
        .refresh_at(refresh_ratio)
        .unwrap_or(use_by)
        .min(use_by)
}

/// How long to wait before the next background refresh after one failed: a quarter of the time the current
/// token has left, so that several tries fit before it expires, within sane bounds.
pub(crate) fn refresh_retry_delay(left: Duration) -> Duration {
    (left / 4).clamp(Duration::from_millis(100), Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: f64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs_f64(secs)
    }

    #[test]
    fn lifetime_counts_from_the_send_and_takes_the_earlier_of_exp_and_expires_in() {
        let default = Duration::from_secs(300);
        // exp in whole seconds, rounded down by the server: 1.1 s left of a "2 s" token.
        let (l, note) = lifetime(Some(2), Some(1002.0), at(1000.9), at(1000.95), default);
        assert!((l.as_secs_f64() - 1.1).abs() < 1e-6, "{l:?}");
        assert_eq!(note, None);
        // expires_in the earlier one.
        let (l, _) = lifetime(Some(60), Some(1100.0), at(1000.0), at(1000.1), default);
        assert_eq!(l, Duration::from_secs(60));
        // No expires_in: the exp alone.
        let (l, note) = lifetime(None, Some(1120.0), at(1000.0), at(1000.1), default);
        assert_eq!(l, Duration::from_secs(120));
        assert_eq!(note, None);
        // Neither: the default.
        assert_eq!(
            lifetime(None, None, at(1.0), at(1.0), default),
            (default, None)
        );
    }

    #[test]
    fn clocks_that_differ_leave_expires_in_and_say_so() {
        let default = Duration::from_secs(300);
        // exp already past on arrival: this host's clock is ahead.
        let (l, note) = lifetime(Some(3600), Some(900.0), at(1000.0), at(1000.1), default);
        assert_eq!(l, Duration::from_secs(3600));
        assert!(note.expect("a note").contains("clocks"));
        // More than a minute apart.
        let (l, note) = lifetime(
            Some(3600),
            Some(1000.0 + 3600.0 + 61.0),
            at(1000.0),
            at(1000.0),
            default,
        );
        assert_eq!(l, Duration::from_secs(3600));
        assert!(note.is_some());
        let (l, note) = lifetime(
            Some(3600),
            Some(1000.0 + 3600.0 - 61.0),
            at(1000.0),
            at(1000.0),
            default,
        );
        assert_eq!(l, Duration::from_secs(3600));
        assert!(note.is_some());
        // Within a minute: the earlier counts, no note.
        let (l, note) = lifetime(
            Some(3600),
            Some(1000.0 + 3600.0 - 59.0),
            at(1000.0),
            at(1000.0),
            default,
        );
        assert_eq!(l, Duration::from_secs(3600 - 59));
        assert_eq!(note, None);
        // No expires_in and a past exp: the default, with a note.
        let (l, note) = lifetime(None, Some(10.0), at(1000.0), at(1000.0), default);
        assert_eq!(l, default);
        assert!(note.is_some());
    }
}
