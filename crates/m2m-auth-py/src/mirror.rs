//! The default token as the core last reported it (see `m2m_auth::TokenUpdate`): a cache hit of `get_token()`
//! is answered here with the Python string already made for the token, without the core's cache look-up.
//! The core decides how long a token may be served this way (refresh-ahead, expiry skew); this only follows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::PyString;

use m2m_auth::{Token, TokenUpdate, TokenWatcher};

#[derive(Debug)]
struct State {
    seq: u64,
    token: Option<Arc<Token>>,
    until: Instant,
    /// Made on the first hit, with the GIL; the watcher runs without it.
    string: Option<Py<PyString>>,
}

#[derive(Debug)]
pub struct Mirror {
    state: Mutex<State>,
    hits: AtomicU64,
}

impl Mirror {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                seq: 0,
                token: None,
                until: Instant::now(),
                string: None,
            }),
            hits: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The watcher to give the core: applies each update unless a newer one was seen.
    pub fn watcher(self: &Arc<Self>) -> TokenWatcher {
        let mirror = Arc::downgrade(self);
        TokenWatcher::new(move |update: TokenUpdate| {
            let Some(mirror) = mirror.upgrade() else {
                return;
            };
            let mut s = mirror.lock();
            if update.seq <= s.seq {
                return;
            }
            s.seq = update.seq;
            s.until = Instant::now() + update.serve_for;
            s.token = update.token;
            s.string = None;
        })
    }

    /// The current token's string, if it may be served without asking the core.
    pub fn hit(&self, py: Python<'_>) -> Option<Py<PyString>> {
        let mut s = self.lock();
        let token = s.token.clone()?;
        if Instant::now() >= s.until {
            return None;
        }
        let string = s
            .string
            .get_or_insert_with(|| PyString::new(py, token.access_token()).unbind())
            .clone_ref(py);
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(string)
    }

    /// The Python string of `token`: the one kept for the mirrored token when it is that token, so that every
    /// call returns the same object for it; a new one otherwise.
    pub fn string_for(&self, py: Python<'_>, token: &Arc<Token>) -> Py<PyString> {
        let mut s = self.lock();
        if !s.token.as_ref().is_some_and(|t| Arc::ptr_eq(t, token)) {
            return PyString::new(py, token.access_token()).unbind();
        }
        s.string
            .get_or_insert_with(|| PyString::new(py, token.access_token()).unbind())
            .clone_ref(py)
    }

    /// Forgets the token. `seq`: the core's count of changes after the drop, so that no update from before it
    /// brings the token back; without it, only the token is forgotten.
    pub fn drop_token(&self, seq: Option<u64>) {
        let mut s = self.lock();
        if let Some(seq) = seq {
            s.seq = s.seq.max(seq);
        }
        s.token = None;
        s.string = None;
    }

    /// Whether `access_token` is the token served from here.
    pub fn holds(&self, access_token: &str) -> bool {
        self.lock()
            .token
            .as_ref()
            .is_some_and(|t| t.access_token() == access_token)
    }

    /// Starts over (a forked child's fresh core counts changes from zero).
    pub fn reset(&self) {
        let mut s = self.lock();
        s.seq = 0;
        s.token = None;
        s.string = None;
    }

    /// Hits answered here, for `stats()`.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}
