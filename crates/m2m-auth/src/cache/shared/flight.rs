//! The fleet-wide single flight. A process that needs a token (none usable, or its refresh is due) asks the
//! shared cache first; if the entry there will not do, it takes the entry's lock and fetches, or — when
//! another process holds the lock — polls (with jitter) for the token that process will write, taking the lock
//! over if it is released or expires without one (its owner died). The owner keeps its lock alive while it
//! fetches and writes the entry before it releases it. Nothing here is a reason for a caller's error: on any
//! failure of the store, or after waiting half the fetch's deadline, the process fetches for itself.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::endpoint::retry::random_fraction;

use super::SharedCache;
use super::entry;
use super::store::Lock;
use crate::cache::slot::Rejection;
use crate::cache::stats::Counters;
use crate::config::ClientConfig;
use crate::error::Result;
use crate::events::{EventKind, EventLevel};
use crate::token::Token;

/// What the process needs from the shared cache. (Its Debug shows no token: `Rejection` and `Token` hide it.)
#[derive(Debug)]
pub(crate) enum Need {
    /// Any usable token; after an invalidation, only one fetched after the dropped one.
    Cold { rejected: Option<Rejection> },
    /// A newer token than this one, whose refresh is due.
    Replace(Arc<Token>),
}

/// What the shared cache said.
enum Plan {
    /// A token another process fetched.
    Hit(Token),
    /// This process holds the lock: it fetches and writes the entry.
    Own(Lock),
    /// This process fetches without the shared cache.
    Alone,
    /// Another process is still refreshing: keep the current token a while longer.
    Postpone,
}

/// What a fetch through the shared cache came to.
#[derive(Debug)]
pub(crate) enum Obtained {
    Token(Token),
    /// A refresh ([`Need::Replace`]) that found another process refreshing for longer than it waits: the
    /// current token stays, and the next refresh is tried later — the fleet does not stampede a slow
    /// authorization server.
    Postponed,
}

/// The shortest and longest pause between two looks at a lock held elsewhere.
const POLL: (u64, u64) = (20, 60);

fn poll_pause() -> Duration {
    Duration::from_millis(POLL.0)
        + Duration::from_millis(POLL.1 - POLL.0).mul_f64(random_fraction())
}

impl Need {
    fn accepts(&self, token: &Token, skew: Duration) -> bool {
        if Instant::now() >= token.use_by(skew) {
            return false;
        }
        match self {
            Self::Cold { rejected: None } => true,
            Self::Cold {
                rejected: Some(rejection),
            } => {
                token.access_token() != rejection.access_token
                    && token.sent_at.wall > rejection.sent
            }
            Self::Replace(current) => {
                token.access_token() != current.access_token()
                    && token.expires_at_unix() > current.expires_at_unix()
            }
        }
    }

    /// How long to wait for a lock held elsewhere: half the fetch's deadline. A refresh waits as long (callers
    /// whose token reaches its use-by meanwhile join it); one that gives up while the current token may still
    /// be served postpones instead of fetching (`Attempt::gave_up_waiting`).
    fn wait_until(deadline: Instant) -> Instant {
        let now = Instant::now();
        now + deadline.saturating_duration_since(now) / 2
    }
}

impl SharedCache {
    /// A token for entry `name`: from the shared cache, or from `fetch` (run at most once) and then shared.
    pub(crate) async fn obtain<F, Fut>(
        &self,
        cfg: &ClientConfig,
        counters: &Counters,
        name: &str,
        need: &Need,
        deadline: Instant,
        fetch: F,
    ) -> Result<Obtained>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Token>>,
    {
        let attempt = Attempt {
            cache: self,
            cfg,
            counters,
            name,
            need,
            deadline,
        };
        match attempt.plan().await {
            Plan::Hit(token) => {
                Counters::count(&counters.shared_hits);
                cfg.emit(
                    EventLevel::Debug,
                    EventKind::TokenReceived,
                    "a token from the shared cache (another process fetched it)".into(),
                );
                Ok(Obtained::Token(token))
            }
            Plan::Postpone => Ok(Obtained::Postponed),
            Plan::Alone => fetch().await.map(Obtained::Token),
            Plan::Own(lock) => {
                let fetched = {
                    let fetching = fetch();
                    tokio::pin!(fetching);
                    tokio::select! {
                        fetched = &mut fetching => fetched,
                        () = attempt.keep_alive(&lock) => fetching.await,
                    }
                };
                // Written, then released — in that order, or a process waiting for the lock could take it
                // and find no token. Each within a cache timeout of its own, even once the fetch's deadline
                // has passed: the token is worth sharing, and the lock should not wait out its TTL.
                if let Ok(token) = &fetched {
                    attempt.share(token).await;
                }
                if let Err(e) = self.store.release(lock, attempt.own_time()).await {
                    self.health.failed(cfg, counters, &e.0);
                }
                fetched.map(Obtained::Token)
            }
        }
    }
}

/// One fetch's business with the shared cache.
struct Attempt<'a> {
    cache: &'a SharedCache,
    cfg: &'a ClientConfig,
    counters: &'a Counters,
    name: &'a str,
    need: &'a Need,
    deadline: Instant,
}

impl Attempt<'_> {
    /// When a store operation for the fetch must end: by its deadline (each store also keeps to its timeout).
    fn until(&self) -> Instant {
        self.deadline
    }

    /// A cache timeout from now, whatever the deadline: for writing a fetched token and releasing the lock.
    fn own_time(&self) -> Instant {
        Instant::now() + self.cache.timeout
    }

    fn failed(&self, why: &str) {
        self.cache.health.failed(self.cfg, self.counters, why);
    }

    async fn plan(&self) -> Plan {
        let (cache, counters) = (self.cache, self.counters);
        if !cache.health.available() {
            return Plan::Alone;
        }
        let wait_until = Need::wait_until(self.deadline);
        let mut waited = false;
        let mut rejected = false;
        loop {
            match self.look(&mut rejected).await {
                Err(()) => return Plan::Alone,
                Ok(Some(token)) => return Plan::Hit(token),
                Ok(None) => {}
            }
            match cache
                .store
                .try_lock(self.name, cache.lock_ttl, self.until())
                .await
            {
                Err(e) => {
                    self.failed(&e.0);
                    return Plan::Alone;
                }
                Ok(Some(lock)) => {
                    cache.health.succeeded(self.cfg);
                    // Another process may have written its token between the look and the lock.
                    if let Ok(Some(token)) = self.look(&mut rejected).await {
                        let _ = cache.store.release(lock, self.until()).await;
                        return Plan::Hit(token);
                    }
                    Counters::count(&counters.shared_misses);
                    return Plan::Own(lock);
                }
                Ok(None) => {
                    cache.health.succeeded(self.cfg);
                    if !waited {
                        waited = true;
                        Counters::count(&counters.lock_waits);
                    }
                    let now = Instant::now();
                    if now >= wait_until {
                        Counters::count(&counters.shared_misses);
                        return self.gave_up_waiting();
                    }
                    tokio::time::sleep(poll_pause().min(wait_until - now)).await;
                }
            }
        }
    }

    /// Another process held the lock and wrote no token in time.
    fn gave_up_waiting(&self) -> Plan {
        match self.need {
            // While the current token may still be served; past its use-by the callers need a token now.
            Need::Replace(current) if Instant::now() < current.use_by(self.cfg.expiry_skew) => {
                self.cfg.emit(
                    EventLevel::Debug,
                    EventKind::SharedLockTimeout,
                    "another process is still refreshing the token; the current one is served meanwhile".into(),
                );
                Plan::Postpone
            }
            _ => {
                self.cfg.emit(
                    EventLevel::Warn,
                    EventKind::SharedLockTimeout,
                    "another process holds the shared cache's lock and wrote no token in time; fetching in \
                     this process"
                        .into(),
                );
                Plan::Alone
            }
        }
    }

    /// The entry's token if the need accepts it; `Err` when the store failed. An entry that does not open is
    /// counted and reported once per fetch (`reported`).
    async fn look(&self, reported: &mut bool) -> std::result::Result<Option<Token>, ()> {
        let bytes = match self.cache.store.read(self.name, self.until()).await {
            Ok(bytes) => bytes,
            Err(e) => {
                self.failed(&e.0);
                return Err(());
            }
        };
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        match entry::open(&bytes, self.name, &self.cache.keys.seal) {
            Ok(token) => Ok(self
                .need
                .accepts(&token, self.cfg.expiry_skew)
                .then_some(token)),
            Err(_) if *reported => Ok(None),
            Err(why) => {
                // Replaced by the token this process is about to fetch.
                *reported = true;
                Counters::count(&self.counters.shared_rejected);
                self.cfg.emit(
                    EventLevel::Warn,
                    EventKind::SharedEntryRejected,
                    format!("the shared cache's entry was ignored: {}", why.describe()),
                );
                Ok(None)
            }
        }
    }

    /// Extends the lock every third of its TTL while the fetch runs; returns only if the lock was lost (it
    /// expired and another process took it). A failed extension is tried again at the next third.
    async fn keep_alive(&self, lock: &Lock) {
        let cache = self.cache;
        if !cache.store.locks_expire() {
            return std::future::pending().await;
        }
        loop {
            tokio::time::sleep(cache.lock_ttl / 3).await;
            if let Ok(false) = cache.store.extend(lock, cache.lock_ttl, self.until()).await {
                return;
            }
        }
    }

    /// Writes `token` to the shared cache, to expire at its use-by.
    async fn share(&self, token: &Token) {
        let ttl = token
            .use_by(self.cfg.expiry_skew)
            .saturating_duration_since(Instant::now());
        if ttl.is_zero() {
            return;
        }
        let Some(sealed) = entry::seal(token, self.name, &self.cache.keys.seal) else {
            return;
        };
        match self
            .cache
            .store
            .write(self.name, sealed, ttl, self.own_time())
            .await
        {
            Ok(()) => self.cache.health.succeeded(self.cfg),
            Err(e) => self.failed(&e.0),
        }
    }
}
