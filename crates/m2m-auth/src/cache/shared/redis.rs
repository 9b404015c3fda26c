//! The Redis backend: entries under their name with a TTL that ends at the token's use-by, and the
//! fleet-wide lock as `SET name:lock owner NX PX ttl`, extended and released only by its owner, atomically
//! (Lua compare-and-pexpire, compare-and-delete). redis-rs's connection manager keeps one multiplexed
//! connection and reconnects after an outage; every command is also bounded by the cache timeout, so a slow
//! or absent Redis costs a caller at most that.

use std::sync::OnceLock;
use std::time::Duration;

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
            release: Script::new(RELEASE),
            extend: Script::new(EXTEND),
        })
    }

    fn connection(&self) -> Result<ConnectionManager, StoreError> {
        if let Some(manager) = self.manager.get() {
            return Ok(manager.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let manager = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| self.failed(e))?;
        Ok(self.manager.get_or_init(|| manager).clone())
    }

    fn failed(&self, e: redis::RedisError) -> StoreError {
        StoreError(scrub(format!("Redis: {e}"), self.password.as_ref()))
    }

    async fn bounded<T>(
        &self,
        op: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(result) => result.map_err(|e| self.failed(e)),
            Err(_) => Err(StoreError(format!(
                "Redis did not answer within {}ms",
                self.timeout.as_millis()
            ))),
        }
    }

    pub async fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut con = self.connection()?;
        self.bounded(redis::cmd("GET").arg(name).query_async(&mut con))
            .await
    }

    pub async fn write(&self, name: &str, bytes: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let mut con = self.connection()?;
        self.bounded(
            redis::cmd("SET")
                .arg(name)
                .arg(bytes)
                .arg("PX")
                .arg(millis(ttl))
                .query_async::<()>(&mut con),
        )
        .await
    }

    pub async fn try_lock(
        &self,
        lock: &str,
        owner: &LockOwner,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut con = self.connection()?;
        let set: Option<String> = self
            .bounded(
                redis::cmd("SET")
                    .arg(lock)
                    .arg(owner.as_str())
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(ttl))
                    .query_async(&mut con),
            )
            .await?;
        Ok(set.is_some())
    }

    pub async fn extend(
        &self,
        lock: &str,
        owner: &LockOwner,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut con = self.connection()?;
        let mut call = self.extend.key(lock);
        call.arg(owner.as_str()).arg(millis(ttl));
        let extended: i64 = self.bounded(call.invoke_async(&mut con)).await?;
        Ok(extended == 1)
    }

    pub async fn release(&self, lock: &str, owner: &LockOwner) -> Result<(), StoreError> {
        let mut con = self.connection()?;
        let mut call = self.release.key(lock);
        call.arg(owner.as_str());
        self.bounded(call.invoke_async::<i64>(&mut con)).await?;
        Ok(())
    }
}
