//! Where shared entries live: Redis (a fleet) or files (one host). One interface over both, so the fleet-wide
//! single flight (`flight`) is written once.

use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};

use super::file::FileStore;
use super::redis::RedisStore;

/// What went wrong with the store, for the log and `stats()`: never a caller's error.
#[derive(Debug, Clone)]
pub(crate) struct StoreError(pub String);

/// A random owner value: only the process that set a lock extends or releases it.
#[derive(Debug, Clone)]
pub(crate) struct LockOwner(String);

impl LockOwner {
    pub fn new() -> Self {
        let mut bytes = [0u8; 16];
        let _ = SystemRandom::new().fill(&mut bytes);
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A held lock.
#[derive(Debug)]
pub(crate) enum Lock {
    Redis {
        name: String,
        owner: LockOwner,
    },
    /// Held while the file is open.
    File {
        _flock: std::fs::File,
    },
}

#[derive(Debug)]
pub(crate) enum Store {
    Redis(Box<RedisStore>),
    File(FileStore),
}

fn lock_name(name: &str) -> String {
    format!("{name}:lock")
}

/// Runs blocking file work off the runtime's threads, waiting for it until `until` (a hung network file system
/// then costs a caller that much; the work itself finishes or fails on its own).
async fn blocking<T: Send + 'static>(
    until: Instant,
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::time::timeout_at(until.into(), tokio::task::spawn_blocking(f)).await {
        Ok(done) => {
            done.unwrap_or_else(|e| Err(StoreError(format!("cache file task failed: {e}"))))
        }
        Err(_) => Err(StoreError(
            "the cache file system did not answer in time".into(),
        )),
    }
}

/// Every operation ends by `until` (the fetch's deadline), and within the store's own timeout.
impl Store {
    /// The store `url` names (`None` for `memory:`); `ca_pem` is trusted for `rediss://`.
    pub fn of(
        url: &super::CacheUrl,
        ca_pem: Option<&[u8]>,
        timeout: Duration,
    ) -> crate::error::Result<Option<Self>> {
        Ok(Some(match url {
            super::CacheUrl::Memory => return Ok(None),
            super::CacheUrl::File(dir) => Self::File(FileStore::new(dir.clone(), timeout)),
            super::CacheUrl::Redis(url) => {
                Self::Redis(Box::new(RedisStore::new(url, ca_pem, timeout).map_err(
                    |e| crate::error::Error::config("cache_url", format!("cannot be used: {e}")),
                )?))
            }
        }))
    }

    pub async fn read(&self, name: &str, until: Instant) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Self::Redis(r) => r.read(name, until).await,
            Self::File(f) => {
                let (f, name) = (f.clone(), name.to_owned());
                blocking(until.min(Instant::now() + f.timeout), move || f.read(&name)).await
            }
        }
    }

    /// Stores `bytes` under `name` for `ttl` (Redis expires it then; a file's entry expires by its content).
    pub async fn write(
        &self,
        name: &str,
        bytes: Vec<u8>,
        ttl: Duration,
        until: Instant,
    ) -> Result<(), StoreError> {
        match self {
            Self::Redis(r) => r.write(name, &bytes, ttl, until).await,
            Self::File(f) => {
                let (f, name) = (f.clone(), name.to_owned());
                blocking(until.min(Instant::now() + f.timeout), move || {
                    f.write(&name, &bytes)
                })
                .await
            }
        }
    }

    /// The lock of `name` for `ttl`, if nobody holds it.
    pub async fn try_lock(
        &self,
        name: &str,
        ttl: Duration,
        until: Instant,
    ) -> Result<Option<Lock>, StoreError> {
        match self {
            Self::Redis(r) => {
                let (lock, owner) = (lock_name(name), LockOwner::new());
                Ok(r.try_lock(&lock, &owner, ttl, until)
                    .await?
                    .then_some(Lock::Redis { name: lock, owner }))
            }
            Self::File(f) => {
                let (f, name) = (f.clone(), name.to_owned());
                blocking(until.min(Instant::now() + f.timeout), move || {
                    Ok(f.try_lock(&name)?.map(|file| Lock::File { _flock: file }))
                })
                .await
            }
        }
    }

    /// Keeps a held lock for another `ttl`; false when it was lost (it expired and another took it).
    pub async fn extend(
        &self,
        lock: &Lock,
        ttl: Duration,
        until: Instant,
    ) -> Result<bool, StoreError> {
        match (self, lock) {
            (Self::Redis(r), Lock::Redis { name, owner }) => {
                r.extend(name, owner, ttl, until).await
            }
            _ => Ok(true),
        }
    }

    pub async fn release(&self, lock: Lock, until: Instant) -> Result<(), StoreError> {
        match (self, lock) {
            (Self::Redis(r), Lock::Redis { name, owner }) => r.release(&name, &owner, until).await,
            // Closing the file drops the flock.
            (_, lock) => {
                drop(lock);
                Ok(())
            }
        }
    }

    /// Whether a lock's holder keeps it alive itself: a Redis lock expires unless extended; a file lock
    /// lasts as long as its holder.
    pub fn locks_expire(&self) -> bool {
        matches!(self, Self::Redis(_))
    }
}
