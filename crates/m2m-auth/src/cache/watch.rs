//! Watching the client's default token: a binding that answers cache hits without crossing into the core
//! (Node, where a native call costs more than the whole hit should) keeps a mirror of the current token, and
//! the core tells it, each time the token changes, the token and how long it may be handed out without
//! asking the core again. The decisions stay here; the mirror only follows them.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::token::Token;

/// A change of the default token.
#[derive(Debug, Clone)]
pub struct TokenUpdate {
    /// Increases with every change; an update older than one already applied is to be ignored.
    pub seq: u64,
    /// The new current token, or `None` once it was dropped.
    pub token: Option<Arc<Token>>,
    /// Until when the token may be served from the mirror: until a background refresh is due, or it is within
    /// the skew of expiry, whichever comes first. After that, ask the core. An instant, not a duration, so
    /// that an update applied late (a busy event loop) cannot stretch it.
    pub serve_until: Instant,
}

impl TokenUpdate {
    /// How long from now the token may still be served from the mirror.
    pub fn serve_for(&self) -> Duration {
        self.serve_until.saturating_duration_since(Instant::now())
    }
}

/// Receives every [`TokenUpdate`]. Called on the thread that made the change: keep it short.
#[derive(Clone)]
pub struct TokenWatcher(pub Arc<dyn Fn(TokenUpdate) + Send + Sync>);

impl TokenWatcher {
    pub fn new(f: impl Fn(TokenUpdate) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }
}

impl fmt::Debug for TokenWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenWatcher")
    }
}
