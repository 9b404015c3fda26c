//! When and how long to wait before asking the token endpoint again: which failures are worth another attempt,
//! exponential backoff with full jitter, and the server's `Retry-After`, all within an attempt limit and an
//! overall deadline.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

use crate::error::Error;

/// How a failed token request is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Requests in all, the first included. 1 disables retries.
    pub max_attempts: u32,
    /// The backoff before the first retry; it doubles with each further one.
    pub initial_backoff: Duration,
    /// No backoff is longer than this.
    pub max_backoff: Duration,
    /// All attempts and waits of one fetch end within this time.
    pub deadline: Duration,
    /// A `Retry-After` longer than this is shortened to it.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            deadline: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// HTTP statuses that say "not now" rather than "no": throttling, a gateway or server in trouble.
const RETRYABLE_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// Whether a failure may succeed if asked again. OAuth refusals (`invalid_client`, `invalid_scope`, …) are
/// answers, not accidents, and are never retried unless their status itself says "try later".
pub(crate) fn is_retryable(e: &Error) -> bool {
    match e {
        Error::Transport { .. } => true,
        Error::OAuth(o) => RETRYABLE_STATUSES.contains(&o.status),
        Error::InvalidResponse {
            status: Some(s), ..
        } => RETRYABLE_STATUSES.contains(s),
        _ => false,
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first): full jitter, uniform between zero and the
    /// exponential cap, so that a fleet restarted together spreads its retries out.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1).min(30)));
        exp.min(self.max_backoff).mul_f64(random_fraction())
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). A date in the past means now.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A number in [0, 1). Jitter needs spread, not cryptographic quality: std's per-process random hash keys
/// provide it without another dependency.
pub(crate) fn random_fraction() -> f64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OAuthError;

    fn oauth(status: u16, error: &str) -> Error {
        Error::OAuth(OAuthError {
            error: error.into(),
            error_description: None,
            error_uri: None,
            status,
            attempts: 1,
        })
    }

    #[test]
    fn what_is_retried() {
        assert!(is_retryable(&Error::Transport {
            message: String::new(),
            timeout: true,
            attempts: 1
        }));
        for s in [429, 500, 502, 503, 504] {
            assert!(is_retryable(&Error::invalid_response(Some(s), "x")), "{s}");
        }
        assert!(is_retryable(&oauth(503, "temporarily_unavailable")));
        for e in [
            "invalid_client",
            "invalid_scope",
            "unauthorized_client",
            "invalid_request",
        ] {
            assert!(!is_retryable(&oauth(400, e)), "{e}");
            assert!(!is_retryable(&oauth(401, e)), "{e}");
        }
        assert!(!is_retryable(&Error::invalid_response(
            Some(200),
            "bad json"
        )));
        assert!(!is_retryable(&Error::config("x", "y")));
    }

    #[test]
    fn backoff_is_jittered_below_an_exponential_cap() {
        let p = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for retry in 1..=10 {
            let cap = Duration::from_millis((100u64 << (retry - 1)).min(1000));
            for _ in 0..50 {
                assert!(p.backoff(retry) <= cap, "retry {retry}");
            }
        }
        // Spread, not a constant: 50 draws are not all equal.
        let draws: std::collections::HashSet<u128> =
            (0..50).map(|_| p.backoff(4).as_nanos()).collect();
        assert!(draws.len() > 1);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
