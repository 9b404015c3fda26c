//! The Redis backend: entries under their name with a TTL that ends at the token's use-by, and the
//! fleet-wide lock as `SET name:lock owner NX PX ttl`, extended and released only by its owner, atomically
//! (Lua compare-and-pexpire, compare-and-delete), on one server or a cluster (`redis_target`). Every command
//! is bounded by the cache timeout, so a slow or absent Redis costs a caller at most that.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt as _, Shared};
use redis::Script;
use tokio::sync::Mutex;

use super::redis_target::{Connection, Target};
use super::store::{LockOwner, StoreError};
use crate::credentials::secret::SecretString;
use crate::http::url_policy::percent_decode;

pub(crate) struct RedisStore {
    target: Arc<Target>,
    /// The URL's password, kept out of every message.
    password: Option<SecretString>,
    timeout: Duration,
    /// Made at first use, on the runtime that uses it (the connection spawns its tasks there); made again after
    /// it failed twice in a row, or at once after a failover (Sentinel).
    connection: Mutex<Link>,
    /// Counts connections made, so that only the one that failed is dropped.
    generation: AtomicU64,
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

/// The connection's state: none, one being made (by a task every caller may wait for), or one made.
enum Link {
    Down,
    Connecting(Shared<BoxFuture<'static, Result<Connection, String>>>),
    Up(Connection, u64),
}

/// An error after which another connection may succeed: the connection failed, or the server is no longer
/// the master (a Sentinel failover, a replica behind a load balancer).
fn worth_another_connection(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(e.code(), Some("READONLY" | "MASTERDOWN"))
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
            target: Arc::new(target),
            password,
            timeout,
            connection: Mutex::new(Link::Down),
            generation: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            release: Script::new(RELEASE),
            extend: Script::new(EXTEND),
        })
    }

    /// The connection, or one being made. A connection is made by a task of its own, with a budget of its
    /// own (a first handshake may take longer than one operation may wait, and a Cluster or Sentinel connect
    /// asks several nodes): callers wait for it until their own time is up, and the next finds it made.
    async fn connection(&self) -> Result<(Connection, u64), StoreError> {
        let connecting = {
            let mut state = self.connection.lock().await;
            match &*state {
                Link::Up(connection, generation) => return Ok((connection.clone(), *generation)),
                Link::Connecting(connecting) => connecting.clone(),
                Link::Down => {
                    let target = Arc::clone(&self.target);
                    let timeout = self.timeout;
                    let task = tokio::spawn(async move {
                        let budget = timeout.max(MIN_CONNECT_TIMEOUT);
                        match tokio::time::timeout(budget, target.connect(timeout, budget)).await {
                            Ok(made) => made.map_err(|e| e.to_string()),
                            Err(_) => Err(format!("no connection within {}ms", budget.as_millis())),
                        }
                    });
                    let connecting = async move {
                        task.await
                            .unwrap_or_else(|e| Err(format!("the connect task failed: {e}")))
                    }
                    .boxed()
                    .shared();
                    *state = Link::Connecting(connecting.clone());
                    connecting
                }
            }
        };
        let made = connecting.await;
        let mut state = self.connection.lock().await;
        match made {
            Ok(connection) => {
                if let Link::Connecting(_) = &*state {
                    self.generation.fetch_add(1, Ordering::Relaxed);
                    *state = Link::Up(connection, self.generation.load(Ordering::Relaxed));
                }
                match &*state {
                    Link::Up(connection, generation) => Ok((connection.clone(), *generation)),
                    _ => Err(StoreError("Redis: the connection was dropped".into())),
                }
            }
            Err(e) => {
                if let Link::Connecting(_) = &*state {
                    *state = Link::Down;
                }
                Err(StoreError(scrub(
                    format!("Redis: {e}"),
                    self.password.as_ref(),
                )))
            }
        }
    }

    /// Drops connection `generation` (it failed), so that the next operation makes a new one: on the runtime
    /// running now, and for Sentinel to the master it names now. A newer connection stays.
    async fn drop_connection(&self, generation: u64) {
        let mut state = self.connection.lock().await;
        if matches!(&*state, Link::Up(_, g) if *g == generation) {
            *state = Link::Down;
        }
    }

    fn failed(&self, e: redis::RedisError) -> StoreError {
        StoreError(scrub(format!("Redis: {e}"), self.password.as_ref()))
    }

    /// Runs `op` by `until` (the fetch's deadline), within the cache timeout — until an operation has
    /// succeeded, within the longer time a first connection may take. The connection manager answers the
    /// first command after an outage with the failure of its last reconnect and only then reconnects, and a
    /// Sentinel's old master refuses writes after a failover: such an error is tried once more, within the
    /// same time, on a new connection where the target moves.
    async fn run<T, F, Fut>(&self, until: Instant, op: F) -> Result<T, StoreError>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let started = Instant::now();
        let budget = if self.connected.load(Ordering::Relaxed) {
            self.timeout
        } else {
            self.timeout.max(MIN_CONNECT_TIMEOUT)
        };
        let until = until.min(started + budget);
        let late = || {
            StoreError(format!(
                "Redis did not answer within {}ms",
                until.saturating_duration_since(started).as_millis()
            ))
        };
        let attempt = || async {
            let (connection, generation) = self.connection().await?;
            Ok::<_, StoreError>((op(connection).await, generation))
        };
        let (first, generation) = tokio::time::timeout_at(until.into(), attempt())
            .await
            .map_err(|_| late())??;
        let answered = match first {
            Ok(value) => Ok(value),
            Err(e) if worth_another_connection(&e) => {
                if self.target.follows_failover() || !e.is_io_error() {
                    self.drop_connection(generation).await;
                }
                match tokio::time::timeout_at(until.into(), attempt()).await {
                    Err(_) => Err(late()),
                    Ok(Err(e)) => Err(e),
                    Ok(Ok((Ok(value), _))) => Ok(value),
                    Ok(Ok((Err(e), generation))) => {
                        // Failed twice: the next operation starts from a new connection.
                        if worth_another_connection(&e) {
                            self.drop_connection(generation).await;
                        }
                        Err(self.failed(e))
                    }
                }
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
