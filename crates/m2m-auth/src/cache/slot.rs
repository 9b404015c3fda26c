//! One cache entry: the current token for one set of [`crate::TokenParams`], and at most one fetch in flight
//! for it. However many callers find no usable token, they all join the same fetch (single flight); a
//! background refresh is such a fetch too, so callers arriving at expiry join it instead of starting another.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use futures::future::{BoxFuture, FutureExt, Shared};

use crate::error::Result;
use crate::token::Token;

pub(crate) type SharedFetch = Shared<BoxFuture<'static, Result<Arc<Token>>>>;

/// Tells fetches apart, so that a finished fetch removes itself and nothing newer.
static NEXT_FETCH_ID: AtomicU64 = AtomicU64::new(1);

/// What a caller without a usable token gets: a token that arrived meanwhile, or the fetch to wait for.
pub(crate) enum Joined {
    Ready(Arc<Token>),
    Wait(SharedFetch),
}

/// A token an invalidation dropped (an API rejected it, or the caller dropped the cache), and when its request
/// was sent: a shared cache hands back only tokens fetched after it, so neither it nor an older one returns,
/// while a newer one that another process fetched after the same rejection is taken.
#[derive(Clone)]
pub(crate) struct Rejection {
    pub access_token: String,
    pub sent: SystemTime,
}

impl std::fmt::Debug for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rejection")
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
pub(crate) struct Slot {
    current: RwLock<Option<Arc<Token>>>,
    /// The fetch in flight. Its task removes it when done, after storing the token, so that whoever finds
    /// no fetch here finds the token.
    inflight: Mutex<Option<(u64, SharedFetch)>>,
    /// After a failed background refresh: no new one before this instant.
    refresh_not_before: Mutex<Option<Instant>>,
    /// A fetch whose task was dropped unfinished while the in-flight lock was taken (a runtime that shut
    /// down drops a new task at once, on the thread that spawns it, which holds that lock): whoever takes
    /// the lock next removes it.
    abandoned: AtomicU64,
    /// The last invalidation: a shared cache must not hand back its token, nor any fetched before it.
    rejected: Mutex<Option<Rejection>>,
}

impl Slot {
    /// The current token if it may still be handed out: it is not within `skew` of expiry (see
    /// [`Token::use_by`]).
    pub fn usable(&self, skew: Duration, now: Instant) -> Option<Arc<Token>> {
        let guard = self.current.read().unwrap_or_else(PoisonError::into_inner);
        let token = guard.as_ref()?;
        (now < token.use_by(skew)).then(|| Arc::clone(token))
    }

    /// The current token, usable or not.
    pub fn current(&self) -> Option<Arc<Token>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn store(&self, token: Arc<Token>) {
        let mut guard = self.current.write().unwrap_or_else(PoisonError::into_inner);
        // A slower, older fetch must not replace a newer token.
        if guard
            .as_ref()
            .is_none_or(|old| old.sent_at() <= token.sent_at())
        {
            *guard = Some(token);
        }
        drop(guard);
        *self
            .refresh_not_before
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    pub fn clear(&self) {
        let dropped = self
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(token) = dropped {
            self.reject(&token);
        }
    }

    fn reject(&self, token: &Token) {
        *self.rejected.lock().unwrap_or_else(PoisonError::into_inner) = Some(Rejection {
            access_token: token.access_token().to_owned(),
            sent: token.sent_at.wall,
        });
    }

    /// The last invalidation.
    pub fn rejected(&self) -> Option<Rejection> {
        self.rejected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Drops the current token only if it is `access_token`: many callers that saw the same token rejected
    /// cause one new fetch, not one each.
    pub fn clear_if(&self, access_token: &str) -> bool {
        let mut guard = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if guard
            .as_ref()
            .is_some_and(|t| t.access_token() == access_token)
        {
            if let Some(token) = guard.take() {
                drop(guard);
                self.reject(&token);
            }
            true
        } else {
            false
        }
    }

    /// Joins the fetch in flight, or starts one with `start` (given the fetch's id, which it passes to
    /// [`Self::finish`] when done), unless a token arrived since the caller looked.
    pub fn join_or_start(
        &self,
        skew: Duration,
        start: impl FnOnce(u64) -> BoxFuture<'static, Result<Arc<Token>>>,
    ) -> Joined {
        let mut guard = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
        self.forget_abandoned(&mut guard);
        if let Some((_, fetch)) = guard.as_ref() {
            return Joined::Wait(fetch.clone());
        }
        if let Some(token) = self.usable(skew, Instant::now()) {
            return Joined::Ready(token);
        }
        let id = NEXT_FETCH_ID.fetch_add(1, Ordering::Relaxed);
        let fetch = start(id).shared();
        *guard = Some((id, fetch.clone()));
        Joined::Wait(fetch)
    }

    /// Starts a background refresh of `due` unless a fetch is in flight, a failed refresh asked to wait, or
    /// `due` is no longer the current token (a refresh replaced it since the caller looked). Returns whether
    /// one was started.
    pub fn start_refresh(
        &self,
        due: &Arc<Token>,
        now: Instant,
        start: impl FnOnce(u64) -> BoxFuture<'static, Result<Arc<Token>>>,
    ) -> bool {
        if self
            .refresh_not_before
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|t| now < t)
        {
            return false;
        }
        let mut guard = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
        self.forget_abandoned(&mut guard);
        if guard.is_some() {
            return false;
        }
        // Checked under the in-flight lock: a fetch stores its token before it removes itself from there.
        let still_current = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|t| Arc::ptr_eq(t, due));
        if !still_current {
            return false;
        }
        let id = NEXT_FETCH_ID.fetch_add(1, Ordering::Relaxed);
        *guard = Some((id, start(id).shared()));
        true
    }

    /// Called when the task of fetch `id` is dropped unfinished. Never waits for the in-flight lock: the
    /// thread dropping it may be the one holding it.
    pub fn abandon(&self, id: u64) {
        match self.inflight.try_lock() {
            Ok(mut guard) => {
                if guard.as_ref().is_some_and(|(i, _)| *i == id) {
                    *guard = None;
                }
            }
            Err(_) => self.abandoned.store(id, Ordering::SeqCst),
        }
    }

    fn forget_abandoned(&self, guard: &mut Option<(u64, SharedFetch)>) {
        let abandoned = self.abandoned.load(Ordering::SeqCst);
        if guard.as_ref().is_some_and(|(i, _)| *i == abandoned) {
            *guard = None;
        }
    }

    /// Called by fetch `id` when it is done (its token stored or its failure noted).
    pub fn finish(&self, id: u64) {
        let mut guard = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.as_ref().is_some_and(|(i, _)| *i == id) {
            *guard = None;
        }
    }

    pub fn refresh_failed(&self, retry_at: Instant) {
        *self
            .refresh_not_before
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(retry_at);
    }
}
