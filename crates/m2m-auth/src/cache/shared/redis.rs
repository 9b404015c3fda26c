//! The Redis backend: entries under their name with a TTL that ends at the token's use-by, and the
//! fleet-wide lock as `SET name:lock owner NX PX ttl`, extended and released only by its owner, atomically
//! (Lua compare-and-pexpire, compare-and-delete). redis-rs's connection manager keeps one multiplexed
//! connection and reconnects after an outage; every command is also bounded by the cache timeout, so a slow
//! or absent Redis costs a caller at most that.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script, TlsCertificates};

use super::store::{LockOwner, StoreError};
use crate::credentials::secret::SecretString;

pub(crate) struct RedisStore {
    client: Client,
    /// The URL's password, kept out of every message.
    password: Option<SecretString>,
    timeout: Duration,
    /// Made at first use, on the runtime that uses it (the manager spawns its tasks there).
    manager: OnceLock<ConnectionManager>,
    /// Whether an operation has succeeded yet: until then, operations wait as long as a first connection
    /// may take (a process starting with many others, TLS, AUTH).
    connected: AtomicBool,
    release: Script,
    extend: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: only the address.
        let info = self.client.get_connection_info();
        write!(f, "RedisStore({:?})", info.addr())
    }
}

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

const EXTEND: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0";

/// The password of a Redis URL, as written and percent-decoded: neither form may reach a message.
pub(crate) fn url_password(url: &str) -> Option<SecretString> {
    let url = url::Url::parse(url).ok()?;
    let raw = url.password()?;
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
    /// `url`: `redis://…` or `rediss://…` (TLS, trusting `ca_pem` when given instead of the system's CAs).
    pub fn new(url: &str, ca_pem: Option<&[u8]>, timeout: Duration) -> Result<Self, String> {
        let client = match ca_pem {
            Some(pem) if url.starts_with("rediss://") => Client::build_with_tls(
                url,
                TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.to_vec()),
                },
            ),
            _ => Client::open(url),
        }
        .map_err(|e| scrub(e.to_string(), url_password(url).as_ref()))?;
        Ok(Self {
            client,
            password: url_password(url),
            timeout,
            manager: OnceLock::new(),
            connected: AtomicBool::new(false),
            release: Script::new(RELEASE),
            extend: Script::new(EXTEND),
        })
    }

    fn connection(&self) -> Result<ConnectionManager, StoreError> {
        if let Some(manager) = self.manager.get() {
            return Ok(manager.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout.max(MIN_CONNECT_TIMEOUT)))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let manager = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| self.failed(e))?;
        let manager = self.manager.get_or_init(|| manager).clone();
        // The first connection is driven by a task of its own: a slow handshake (TLS, AUTH, another region)
        // then completes although each operation gives up after the cache timeout.
        let mut driver = manager.clone();
        tokio::spawn(async move {
            let _: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut driver).await;
        });
        Ok(manager)
    }

    fn failed(&self, e: redis::RedisError) -> StoreError {
        StoreError(scrub(format!("Redis: {e}"), self.password.as_ref()))
    }

    /// Runs `op` within the cache timeout and `until`. The connection manager answers the first command
    /// after an outage with the failure of its last reconnect and only then reconnects: a connection error is
    /// tried once more, within the same time.
    async fn run<T, F, Fut>(&self, until: Instant, op: F) -> Result<T, StoreError>
    where
        F: Fn(ConnectionManager) -> Fut,
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
        let first = tokio::time::timeout_at(until.into(), op(self.connection()?))
            .await
            .map_err(|_| late())?;
        let answered = match first {
            Ok(value) => Ok(value),
            Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() => {
                tokio::time::timeout_at(until.into(), op(self.connection()?))
                    .await
                    .map_err(|_| late())?
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
