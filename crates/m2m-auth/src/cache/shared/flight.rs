//! The fleet-wide single flight. A process that needs a token (none usable, or its refresh is due) asks the
//! shared cache first; if the entry there will not do, it takes the entry's lock and fetches, or — when
//! another process holds the lock — polls (with jitter) for the token that process will write, taking the lock
//! over if it is released or expires without one (its owner died). The owner keeps its lock alive while it
//! fetches and writes the entry before it releases it. Nothing here is a reason for a caller's error: on any
//! failure of the store, or after waiting half the fetch's deadline, the process fetches for itself.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};

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
    let mut byte = [0u8; 1];
    let _ = SystemRandom::new().fill(&mut byte);
    Duration::from_millis(POLL.0 + u64::from(byte[0]) % (POLL.1 - POLL.0))
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

    /// How long to wait for a lock held elsewhere: half the fetch's deadline, and for a refresh no longer than
    /// the current token may be served.
    fn wait_until(&self, deadline: Instant, skew: Duration) -> Instant {
        let now = Instant::now();
        let half = now + deadline.saturating_duration_since(now) / 2;
        match self {
            Self::Cold { .. } => half,
            Self::Replace(current) => half.min(current.use_by(skew)),
        }
    }
}

impl SharedCache {
    /// When an operation started now must end: the cache's timeout, or the fetch's deadline if sooner.
    fn until(&self, deadline: Instant) -> Instant {
        deadline.min(Instant::now() + self.timeout)
    }

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
        match self.plan(cfg, counters, name, need, deadline).await {
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
                        () = self.keep_alive(&lock, deadline) => fetching.await,
                    }
                };
                // Shared and released together, within the deadline: the callers waiting here wait at most
                // one cache timeout more.
                let until = self.until(deadline);
                let share = async {
                    if let Ok(token) = &fetched {
                        self.share(cfg, counters, name, token, until).await;
                    }
                };
                let release = async {
                    if let Err(e) = self.store.release(lock, until).await {
                        self.health.failed(cfg, counters, &e.0);
                    }
                };
                tokio::join!(share, release);
                fetched.map(Obtained::Token)
            }
        }
    }

    async fn plan(
        &self,
        cfg: &ClientConfig,
        counters: &Counters,
        name: &str,
        need: &Need,
        deadline: Instant,
    ) -> Plan {
        if !self.health.available() {
            return Plan::Alone;
        }
        let wait_until = need.wait_until(deadline, cfg.expiry_skew);
        let mut waited = false;
        let mut rejected = false;
        loop {
            match self
                .look(cfg, counters, name, need, deadline, &mut rejected)
                .await
            {
                Err(()) => return Plan::Alone,
                Ok(Some(token)) => return Plan::Hit(token),
                Ok(None) => {}
            }
            let locked = self
                .store
                .try_lock(name, self.lock_ttl, self.until(deadline))
                .await;
            match locked {
                Err(e) => {
                    self.health.failed(cfg, counters, &e.0);
                    return Plan::Alone;
                }
                Ok(Some(lock)) => {
                    self.health.succeeded(cfg);
                    // Another process may have written its token between the look and the lock.
                    let again = self
                        .look(cfg, counters, name, need, deadline, &mut rejected)
                        .await;
                    if let Ok(Some(token)) = again {
                        let _ = self.store.release(lock, self.until(deadline)).await;
                        return Plan::Hit(token);
                    }
                    Counters::count(&counters.shared_misses);
                    return Plan::Own(lock);
                }
                Ok(None) => {
                    self.health.succeeded(cfg);
                    if !waited {
                        waited = true;
                        Counters::count(&counters.lock_waits);
                    }
                    let now = Instant::now();
                    if now >= wait_until {
                        Counters::count(&counters.shared_misses);
                        return self.gave_up_waiting(cfg, need);
                    }
                    tokio::time::sleep(poll_pause().min(wait_until - now)).await;
                }
            }
        }
    }

    /// Another process held the lock and wrote no token in time.
    fn gave_up_waiting(&self, cfg: &ClientConfig, need: &Need) -> Plan {
        match need {
            Need::Replace(_) => {
                cfg.emit(
                    EventLevel::Debug,
                    EventKind::SharedLockTimeout,
                    "another process is still refreshing the token; the current one is served meanwhile".into(),
                );
                Plan::Postpone
            }
            Need::Cold { .. } => {
                cfg.emit(
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

    /// The entry's token if `need` accepts it; `Err` when the store failed. An entry that does not open is
    /// counted and reported once per fetch (`reported`).
    async fn look(
        &self,
        cfg: &ClientConfig,
        counters: &Counters,
        name: &str,
        need: &Need,
        deadline: Instant,
        reported: &mut bool,
    ) -> std::result::Result<Option<Token>, ()> {
        let bytes = match self.store.read(name, self.until(deadline)).await {
            Ok(bytes) => bytes,
            Err(e) => {
                self.health.failed(cfg, counters, &e.0);
                return Err(());
            }
        };
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        match entry::open(&bytes, name, &self.keys.seal) {
            Ok(token) => Ok(need.accepts(&token, cfg.expiry_skew).then_some(token)),
            Err(_) if *reported => Ok(None),
            Err(why) => {
                // Replaced by the token this process is about to fetch.
                *reported = true;
                Counters::count(&counters.shared_rejected);
                cfg.emit(
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
    async fn keep_alive(&self, lock: &Lock, deadline: Instant) {
        if !self.store.locks_expire() {
            return std::future::pending().await;
        }
        loop {
            tokio::time::sleep(self.lock_ttl / 3).await;
            if let Ok(false) = self
                .store
                .extend(lock, self.lock_ttl, self.until(deadline))
                .await
            {
                return;
            }
        }
    }

    /// Writes `token` to the shared cache, to expire at its use-by.
    async fn share(
        &self,
        cfg: &ClientConfig,
        counters: &Counters,
        name: &str,
        token: &Token,
        until: Instant,
    ) {
        let ttl = token
            .use_by(cfg.expiry_skew)
            .saturating_duration_since(Instant::now());
        if ttl.is_zero() {
            return;
        }
        let Some(sealed) = entry::seal(token, name, &self.keys.seal) else {
            return;
        };
        match self.store.write(name, sealed, ttl, until).await {
            Ok(()) => self.health.succeeded(cfg),
            Err(e) => self.health.failed(cfg, counters, &e.0),
        }
    }
}
