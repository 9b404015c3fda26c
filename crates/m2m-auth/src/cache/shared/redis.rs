//! The Redis backend: entries under their name with a TTL that ends at the token's use-by, and the
//! fleet-wide lock as `SET name:lock owner NX PX ttl`, extended and released only by its owner, atomically
//! (Lua compare-and-pexpire, compare-and-delete), on one server or a cluster (`redis_target`). Every command
//! is bounded by the cache timeout, so a slow or absent Redis costs a caller at most that.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::Script;
use tokio::sync::Mutex;

use super::redis_target::{Connection, Target};
use super::store::{LockOwner, StoreError};
use crate::credentials::secret::SecretString;

pub(crate) struct RedisStore {
    target: Target,
    /// The URL's password, kept out of every message.
    password: Option<SecretString>,
    timeout: Duration,
    /// Made at first use, on the runtime that uses it (the connection spawns its tasks there); made again
    /// after a connection error when the target follows failovers (Sentinel).
    connection: Mutex<Option<Connection>>,
    /// Whether an operation has succeeded yet: until then, operations wait as long as a first connection
    /// may take (a process starting with many others, TLS, AUTH).
    connected: AtomicBool,
    release: Script,
    extend: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: only the address.
        write!(f, "RedisStore({})", self.target.describe())
    }
}

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

const EXTEND: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0";

/// The password of a Redis URL (one server or a cluster's), as written and percent-decoded: neither form may
/// reach a message.
pub(crate) fn url_password(url: &str) -> Option<SecretString> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let raw = userinfo.split_once(':')?.1;
    if raw.is_empty() {
        return None;
    }
    let decoded = percent_decode(raw);
    Some(SecretString::new(if decoded == raw {
        raw.to_owned()
    } else {
        format!("{raw}\n{decoded}")
    }))
}

fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("p={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map_or_else(|| text.to_owned(), |(_, v)| v.into_owned())
}

/// `message` without any form of `password`.
pub(crate) fn scrub(message: String, password: Option<&SecretString>) -> String {
    let Some(password) = password else {
        return message;
    };
    password
        .expose()
        .split('\n')
        .filter(|p| !p.is_empty())
        .fold(message, |m, p| m.replace(p, "***"))
}

/// A first connection may take longer than one operation may wait (TLS, AUTH, another region, a host busy
/// starting many processes at once).
const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

fn millis(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

impl RedisStore {
    /// `url`: `redis://…`, `rediss://…` (TLS, trusting `ca_pem` when given instead of the system's CAs), or
    /// either with `+cluster` and several `host:port`.
    pub fn new(url: &str, ca_pem: Option<&[u8]>, timeout: Duration) -> Result<Self, String> {
        let password = url_password(url);
        let target = Target::new(url, ca_pem, timeout.max(MIN_CONNECT_TIMEOUT))
            .map_err(|e| scrub(e.to_string(), password.as_ref()))?;
        Ok(Self {
            target,
            password,
            timeout,
            connection: Mutex::new(None),
            connected: AtomicBool::new(false),
            release: Script::new(RELEASE),
            extend: Script::new(EXTEND),
        })
    }

    async fn connection(&self) -> Result<Connection, StoreError> {
        let mut current = self.connection.lock().await;
        if let Some(connection) = &*current {
            return Ok(connection.clone());
        }
        let connection = self
            .target
            .connect(self.timeout, self.timeout.max(MIN_CONNECT_TIMEOUT))
            .await
            .map_err(|e| self.failed(e))?;
        *current = Some(connection.clone());
        Ok(connection)
    }

    /// After a connection error: a target that follows failovers is asked again where to connect.
    async fn reconnect(&self) {
        if self.target.follows_failover() {
            *self.connection.lock().await = None;
        }
    }

    fn failed(&self, e: redis::RedisError) -> StoreError {
        StoreError(scrub(format!("Redis: {e}"), self.password.as_ref()))
    }

    /// Runs `op` within the cache timeout and `until`. The connection manager answers the first command
    /// after an outage with the failure of its last reconnect and only then reconnects: a connection error is
    /// tried once more, within the same time.
    async fn run<T, F, Fut>(&self, until: Instant, op: F) -> Result<T, StoreError>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let budget = if self.connected.load(Ordering::Relaxed) {
            self.timeout
        } else {
            self.timeout.max(MIN_CONNECT_TIMEOUT)
        };
        let until = until.min(Instant::now() + budget);
        let late = || {
            StoreError(format!(
                "Redis did not answer within {}ms",
                budget.as_millis()
            ))
        };
        let first = tokio::time::timeout_at(until.into(), async {
            Ok::<_, StoreError>(op(self.connection().await?).await)
        })
        .await
        .map_err(|_| late())??;
        let answered = match first {
            Ok(value) => Ok(value),
            Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() => {
                self.reconnect().await;
                tokio::time::timeout_at(until.into(), async {
                    Ok::<_, StoreError>(op(self.connection().await?).await)
                })
                .await
                .map_err(|_| late())??
                .map_err(|e| self.failed(e))
            }
            Err(e) => Err(self.failed(e)),
        };
        if answered.is_ok() {
            self.connected.store(true, Ordering::Relaxed);
        }
        answered
    }

    pub async fn read(&self, name: &str, until: Instant) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(until, |mut con| {
            let name = name.to_owned();
            async move { redis::cmd("GET").arg(name).query_async(&mut con).await }
        })
        .await
    }

    pub async fn write(
        &self,
        name: &str,
        bytes: &[u8],
        ttl: Duration,
        until: Instant,
    ) -> Result<(), StoreError> {
        self.run(until, |mut con| {
            let (name, bytes) = (name.to_owned(), bytes.to_vec());
            async move {
                redis::cmd("SET")
                    .arg(name)
                    .arg(bytes)
                    .arg("PX")
                    .arg(millis(ttl))
                    .query_async::<()>(&mut con)
                    .await
            }
        })
        .await
    }

    pub async fn try_lock(
        &self,
        lock: &str,
        owner: &LockOwner,
        ttl: Duration,
        until: Instant,
    ) -> Result<bool, StoreError> {
        let set: Option<String> = self
            .run(until, |mut con| {
                let (lock, owner) = (lock.to_owned(), owner.as_str().to_owned());
                async move {
                    redis::cmd("SET")
                        .arg(lock)
                        .arg(owner)
                        .arg("NX")
                        .arg("PX")
                        .arg(millis(ttl))
                        .query_async(&mut con)
                        .await
                }
            })
            .await?;
        Ok(set.is_some())
    }

    pub async fn extend(
        &self,
        lock: &str,
        owner: &LockOwner,
        ttl: Duration,
        until: Instant,
    ) -> Result<bool, StoreError> {
        let extended: i64 = self
            .run(until, |mut con| {
                let mut call = self.extend.key(lock);
                call.arg(owner.as_str()).arg(millis(ttl));
                async move { call.invoke_async(&mut con).await }
            })
            .await?;
        Ok(extended == 1)
    }

    pub async fn release(
        &self,
        lock: &str,
        owner: &LockOwner,
        until: Instant,
    ) -> Result<(), StoreError> {
        self.run(until, |mut con| {
            let mut call = self.release.key(lock);
            call.arg(owner.as_str());
            async move { call.invoke_async::<i64>(&mut con).await }
        })
        .await?;
        Ok(())
    }
}
