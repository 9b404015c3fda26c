//! What the client reports about its work: each event goes to `tracing` and to an optional hook, through which
//! the Python package feeds `logging` and the Node package its `onEvent` callback and debug output. Messages
//! name the client, the endpoint and what happened; never the secret, never a token.

use std::fmt;
use std::sync::Arc;

/// How much an event matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl EventLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A request to the token endpoint starts (`attempt` counts from 1).
    Request,
    /// A token arrived.
    TokenReceived,
    /// An attempt failed and another follows after a wait.
    Retry,
    /// A fetch failed for good.
    FetchFailed,
    /// A background refresh started ahead of expiry.
    RefreshStarted,
    /// A background refresh failed; the current token is still served.
    RefreshFailed,
    /// A token's `exp` and `expires_in` disagree: this host's clock and the server's differ.
    ClockSkew,
    /// The shared cache failed (once per outage): the process fetches its own tokens until it is back.
    SharedCacheDown,
    /// The shared cache answers again after an outage.
    SharedCacheBack,
    /// Another process held the shared cache's lock for half a fetch's deadline: this one fetched itself.
    SharedLockTimeout,
    /// An entry of the shared cache was ignored: corrupted, of another version, or sealed under another key.
    SharedEntryRejected,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::TokenReceived => "token_received",
            Self::Retry => "retry",
            Self::FetchFailed => "fetch_failed",
            Self::RefreshStarted => "refresh_started",
            Self::RefreshFailed => "refresh_failed",
            Self::ClockSkew => "clock_skew",
            Self::SharedCacheDown => "shared_cache_down",
            Self::SharedCacheBack => "shared_cache_back",
            Self::SharedLockTimeout => "shared_lock_timeout",
            Self::SharedEntryRejected => "shared_entry_rejected",
        }
    }
}

/// One event.
#[derive(Debug, Clone)]
pub struct Event {
    pub level: EventLevel,
    pub kind: EventKind,
    pub client_id: String,
    pub message: String,
}

/// Receives every event of a client. Called on the thread that does the work: keep it short.
#[derive(Clone)]
pub struct EventHook(pub Arc<dyn Fn(&Event) + Send + Sync>);

impl EventHook {
    pub fn new(f: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }
}

impl fmt::Debug for EventHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EventHook")
    }
}

pub(crate) fn emit(
    hook: Option<&EventHook>,
    level: EventLevel,
    kind: EventKind,
    client_id: &str,
    message: String,
) {
    match level {
        EventLevel::Debug => tracing::debug!(client_id, event = kind.as_str(), "{message}"),
        EventLevel::Info => tracing::info!(client_id, event = kind.as_str(), "{message}"),
        EventLevel::Warn => tracing::warn!(client_id, event = kind.as_str(), "{message}"),
        EventLevel::Error => tracing::error!(client_id, event = kind.as_str(), "{message}"),
    }
    if let Some(hook) = hook {
        let event = Event {
            level,
            kind,
            client_id: client_id.to_owned(),
            message,
        };
        // A panicking hook is the caller's bug, but it must not take the fetch down with it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (hook.0)(&event)));
    }
}
