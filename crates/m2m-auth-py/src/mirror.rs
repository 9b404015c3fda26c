//! The default token as the core last reported it (see `m2m_auth::TokenUpdate`): a cache hit of `get_token()`
//! is answered here with the Python string already made for the token, without the core's cache look-up.
//! The core decides how long a token may be served this way (refresh-ahead, expiry skew); this only follows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;

use m2m_auth::{MirrorDrop, Token, TokenUpdate, TokenWatcher};

#[derive(Debug)]
struct State {
    seq: u64,
    token: Option<Arc<Token>>,
    until: Instant,
    /// Made on the first hit, with the GIL; the watcher runs without it.
    string: Option<Py<PyString>>,
    /// For `get_token_async()`: an event loop and a finished future of it holding `string`. A finished future
    /// may be awaited any number of times, so every cache hit on that loop can return the same one.
    done: Option<(Py<PyAny>, Py<PyAny>)>,
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
                done: None,
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
            s.until = update.serve_until;
            s.token = update.token;
            s.string = None;
            s.done = None;
        })
    }

    /// The current token and its string (made now if need be), if it may be served without asking the core.
    /// Python objects are made without the lock held: making one may run arbitrary code (a garbage
    /// collection, a `__del__`) that could call back into this client.
    fn serve(&self, py: Python<'_>) -> Option<(Arc<Token>, Py<PyString>)> {
        let token = {
            let s = self.lock();
            let token = s.token.clone()?;
            if Instant::now() >= s.until {
                return None;
            }
            token
        };
        let string = self.string_for(py, &token);
        Some((token, string))
    }

    /// The current token's string, if it may be served without asking the core.
    pub fn hit(&self, py: Python<'_>) -> Option<Py<PyString>> {
        let (_, string) = self.serve(py)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(string)
    }

    /// A finished future of the running event loop holding the current token's string, if it may be served
    /// without asking the core: the same one for every hit on that loop until the token changes.
    pub fn hit_async<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some((token, string)) = self.serve(py) else {
            return Ok(None);
        };
        let running = running_loop(py)?;
        let kept = self
            .lock()
            .done
            .as_ref()
            .map(|(l, f)| (l.clone_ref(py), f.clone_ref(py)));
        if let Some((event_loop, future)) = kept
            && event_loop.bind(py).is(&running)
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(future.into_bound(py)));
        }
        let future = running.call_method0("create_future")?;
        future.call_method1("set_result", (string,))?;
        let mut s = self.lock();
        if s.token.as_ref().is_some_and(|t| Arc::ptr_eq(t, &token)) {
            s.done = Some((running.unbind(), future.clone().unbind()));
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Ok(Some(future))
    }

    /// The Python string of `token`: the one kept for the mirrored token when it is that token, so that every
    /// call returns the same object for it; a new one otherwise.
    pub fn string_for(&self, py: Python<'_>, token: &Arc<Token>) -> Py<PyString> {
        let mirrored = |s: &State| s.token.as_ref().is_some_and(|t| Arc::ptr_eq(t, token));
        {
            let s = self.lock();
            if mirrored(&s)
                && let Some(string) = &s.string
            {
                return string.clone_ref(py);
            }
        }
        // Made without the lock held: making a Python object may run code that calls back into this client.
        let made = PyString::new(py, token.access_token()).unbind();
        let mut s = self.lock();
        if mirrored(&s) && s.string.is_none() {
            s.string = Some(made.clone_ref(py));
        }
        made
    }

    /// Applies what the core decided after an invalidation.
    pub fn apply(&self, drop: MirrorDrop) {
        let mut s = self.lock();
        match drop {
            MirrorDrop::Keep => return,
            MirrorDrop::ForgetThrough(seq) => s.seq = s.seq.max(seq),
            MirrorDrop::Forget => {}
        }
        s.token = None;
        s.string = None;
        s.done = None;
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
        s.done = None;
    }

    /// Hits answered here, for `stats()`.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `asyncio.get_running_loop()`, looked up once.
fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    GET_RUNNING_LOOP
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("asyncio")?.getattr("get_running_loop")?.unbind())
        })?
        .bind(py)
        .call0()
}
