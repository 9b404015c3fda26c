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

/// What a mirror of the default token must do after an invalidation, so that it never hands out a token the
/// core dropped. The core decides it ([`crate::TokenClient::invalidate_mirrored`]); the mirror applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MirrorDrop {
    /// Nothing: the mirror does not hold the token that was rejected, and the core dropped nothing.
    Keep,
    /// Forget the token, and ignore every update numbered `through` or lower: they are from before the drop
    /// and would bring the dropped token back.
    ForgetThrough(u64),
    /// Forget the token the mirror holds: the core has replaced it already, and the update that says so is
    /// still on its way to the mirror.
    Forget,
}

/// The outcome of an invalidation for a binding that mirrors the default token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MirroredInvalidation {
    /// Whether the core dropped a token.
    pub dropped: bool,
    pub mirror: MirrorDrop,
}

impl MirroredInvalidation {
    /// `change`: the number of the change the core's drop made, if it dropped anything. `mirror_holds`:
    /// whether the mirror serves the rejected token.
    pub(crate) fn decide(change: Option<u64>, mirror_holds: bool) -> Self {
        let mirror = match change {
            Some(seq) => MirrorDrop::ForgetThrough(seq),
            None if mirror_holds => MirrorDrop::Forget,
            None => MirrorDrop::Keep,
        };
        Self {
            dropped: change.is_some(),
            mirror,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drop_fences_the_mirror_at_its_change() {
        let d = MirroredInvalidation::decide(Some(7), false);
        assert_eq!((d.dropped, d.mirror), (true, MirrorDrop::ForgetThrough(7)));
    }

    #[test]
    fn a_token_the_core_replaced_is_forgotten_by_a_mirror_still_holding_it() {
        let d = MirroredInvalidation::decide(None, true);
        assert_eq!((d.dropped, d.mirror), (false, MirrorDrop::Forget));
        let d = MirroredInvalidation::decide(None, false);
        assert_eq!((d.dropped, d.mirror), (false, MirrorDrop::Keep));
    }
}
