//! The access token and what the server said about it. How it is parsed: `crate::endpoint::response`; how
//! long it may be handed out: `crate::cache::freshness`.

use std::fmt;
use std::time::{Duration, Instant, UNIX_EPOCH};

use crate::cache::freshness::SentAt;

/// An access token and what the server said about it.
#[derive(Clone)]
pub struct Token {
    pub(crate) access_token: String,
    pub(crate) token_type: String,
    pub(crate) scope: Option<String>,
    /// `expires_in` exactly as the server sent it (None when it sent none).
    pub(crate) expires_in: Option<u64>,
    /// From `sent_at` to expiry.
    pub(crate) lifetime: Duration,
    pub(crate) sent_at: SentAt,
    /// Why the JWT's `exp` was not believed (this host's clock and the server's differ), for a warning.
    pub(crate) clock_note: Option<String>,
}

impl Token {
    /// The bearer string to put in `Authorization: Bearer …`.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// `Bearer` normally (the server's spelling is kept).
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    /// The granted scopes, space-separated, when the server said so.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// The `expires_in` the server sent, if any.
    pub fn server_expires_in(&self) -> Option<u64> {
        self.expires_in
    }

    /// How long the token lives in all, from when its request was sent: `expires_in`, or the JWT's `exp`
    /// when that comes first.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// When it stops being valid, on the monotonic clock.
    pub fn expires_at(&self) -> Instant {
        self.sent_at.mono + self.lifetime
    }

    /// Time left until expiry (zero once expired).
    pub fn expires_in(&self) -> Duration {
        self.expires_at().saturating_duration_since(Instant::now())
    }

    /// Wall-clock expiry as seconds since the Unix epoch, for display and for shared caches.
    pub fn expires_at_unix(&self) -> f64 {
        (self.sent_at.wall + self.lifetime)
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }

    /// When the request for this token was sent: of two tokens, the later sent is the newer.
    pub(crate) fn sent_at(&self) -> Instant {
        self.sent_at.mono
    }

    /// A short description without the token: `Token(type=Bearer, scope=…, expires_in=…s, access_token=[redacted; N chars])`.
    pub fn describe(&self) -> String {
        format!(
            "Token(token_type={:?}, scope={:?}, expires_in={}s, access_token=[redacted; {} chars])",
            self.token_type,
            self.scope.as_deref().unwrap_or(""),
            self.expires_in().as_secs(),
            self.access_token.len()
        )
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}
