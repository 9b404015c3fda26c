//! Counters a service can export: how often the cache answered, and how the token endpoint fared.

use std::sync::Mutex;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of a client's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Calls answered from the cache.
    pub hits: u64,
    /// Calls that found no usable token and waited for a fetch (their own or a shared one).
    pub misses: u64,
    /// Fetches started (each may make several requests when it retries).
    pub fetches: u64,
    /// Background refreshes started ahead of expiry.
    pub refreshes: u64,
    /// Fetches that ended in an error.
    pub failures: u64,
    /// The message of the last failure, if any.
    pub last_error: Option<String>,
    /// Fetches answered by the shared cache (Redis or files): a token another process had fetched.
    pub shared_hits: u64,
    /// Fetches that found no usable token in the shared cache.
    pub shared_misses: u64,
    /// Operations on the shared cache that failed (down, slow, refusing): the process fetched for itself.
    pub shared_errors: u64,
    /// Entries of the shared cache that were ignored and replaced: corrupted, of another format version, or
    /// sealed under another key.
    pub shared_rejected: u64,
    /// Fetches that waited for another process holding the fleet-wide lock.
    pub lock_waits: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub fetches: AtomicU64,
    pub refreshes: AtomicU64,
    pub failures: AtomicU64,
    pub last_error: Mutex<Option<String>>,
    pub shared_hits: AtomicU64,
    pub shared_misses: AtomicU64,
    pub shared_errors: AtomicU64,
    pub shared_rejected: AtomicU64,
    pub lock_waits: AtomicU64,
}

impl Counters {
    pub fn hit(&self) {
        self.hits.fetch_add(1, Relaxed);
    }

    pub fn miss(&self) {
        self.misses.fetch_add(1, Relaxed);
    }

    pub fn fetch(&self) {
        self.fetches.fetch_add(1, Relaxed);
    }

    pub fn refresh(&self) {
        self.refreshes.fetch_add(1, Relaxed);
    }

    /// Adds one to `counter` (one of the shared cache's).
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub fn failure(&self, message: String) {
        self.failures.fetch_add(1, Relaxed);
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(message);
    }

    pub fn snapshot(&self) -> Stats {
        Stats {
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            fetches: self.fetches.load(Relaxed),
            refreshes: self.refreshes.load(Relaxed),
            failures: self.failures.load(Relaxed),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            shared_hits: self.shared_hits.load(Relaxed),
            shared_misses: self.shared_misses.load(Relaxed),
            shared_errors: self.shared_errors.load(Relaxed),
            shared_rejected: self.shared_rejected.load(Relaxed),
            lock_waits: self.lock_waits.load(Relaxed),
        }
    }
}
