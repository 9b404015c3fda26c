//! One cache entry: the current token for one set of [`crate::TokenParams`], and at most one fetch in flight
//! for it. However many callers find no usable token, they all join the same fetch (single flight).

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt, Shared};

use crate::error::Result;
use crate::token::Token;

pub(crate) type SharedFetch = Shared<BoxFuture<'static, Result<Arc<Token>>>>;

#[derive(Default)]
pub(crate) struct Slot {
    current: RwLock<Option<Arc<Token>>>,
    inflight: Mutex<Option<SharedFetch>>,
}

impl Slot {
    /// The current token if it may still be handed out: it is not within `skew` of expiry. The skew is capped
    /// at a tenth of the token's lifetime so that short-lived tokens remain usable for most of their life.
    pub fn usable(&self, skew: Duration, now: Instant) -> Option<Arc<Token>> {
        let guard = self.current.read().unwrap_or_else(PoisonError::into_inner);
        let token = guard.as_ref()?;
        let skew = skew.min(token.lifetime() / 10);
        (now + skew < token.expires_at()).then(|| Arc::clone(token))
    }

    pub fn store(&self, token: Arc<Token>) {
        let mut guard = self.current.write().unwrap_or_else(PoisonError::into_inner);
        // A slower, older fetch must not replace a newer token.
        if guard
            .as_ref()
            .is_none_or(|old| old.received_at() <= token.received_at())
        {
            *guard = Some(token);
        }
    }

    pub fn clear(&self) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Joins the fetch in flight, or starts one with `start` if there is none (or the last one has finished:
    /// its result is already in `current`, or was an error that a new caller should not inherit).
    pub fn join_or_start(
        &self,
        start: impl FnOnce() -> BoxFuture<'static, Result<Arc<Token>>>,
    ) -> SharedFetch {
        let mut guard = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(fetch) = guard.as_ref()
            && fetch.peek().is_none()
        {
            return fetch.clone();
        }
        let fetch = start().shared();
        *guard = Some(fetch.clone());
        fetch
    }
}
