//! The shared cache: tokens shared by every process of a fleet (Redis) or of one host (files), behind the
//! in-process cache. It is asked only when the process has no usable token or its refresh is due; one process
//! of the fleet fetches (`flight`), the others read what it wrote. Entries are sealed (`entry`) under a key
//! derived from the credential, named by a hash of everything that tells tokens apart (`key`).
//!
//! The shared cache is never a reason for a caller's error: when it fails, the process fetches for itself,
//! says so once per outage, and uses it again once it answers.

pub(crate) mod documents;
pub(crate) mod entry;
mod file;
pub(crate) mod flight;
pub(crate) mod key;
mod redis;
mod redis_target;
mod store;

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use url::Url;

use crate::cache::stats::Counters;
use crate::config::ClientConfig;
use crate::config::params::TokenParams;
use crate::error::{Error, Result};
use crate::events::{EventKind, EventLevel};
use key::CredentialKeys;
use store::Store;

/// Where tokens are cached, as `cache_url` says.
#[derive(Clone, PartialEq, Eq)]
pub enum CacheUrl {
    /// `memory:` — this process only (the default).
    Memory,
    /// `file:/dir` or `file:///dir` — one file per token in a private directory, shared by the processes of
    /// one host.
    File(PathBuf),
    /// `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS) — shared by a fleet.
    Redis(String),
}

const FIELD: &str = "cache_url";

impl CacheUrl {
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() || text == "memory:" || text == "memory://" {
            return Ok(Self::Memory);
        }
        if let Some(path) = text.strip_prefix("file:") {
            // file:///dir (a URL) or file:/dir and file:dir (a path).
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(Error::config(
                    FIELD,
                    "file: needs a directory, e.g. file:/var/cache/m2m-auth",
                ));
            }
            return Ok(Self::File(PathBuf::from(path)));
        }
        if text.starts_with("redis+sentinel://") {
            let Some((sentinels, _, _)) = redis_target::sentinel_service(text) else {
                return Err(Error::config(
                    FIELD,
                    "is no Sentinel URL: redis+sentinel://[user:password@]host:port[,host:port]/SERVICE[/DB]",
                ));
            };
            if sentinels.is_empty() {
                return Err(Error::config(FIELD, "names no Sentinel (host:port)"));
            }
            for sentinel in &sentinels {
                check_redis_url(sentinel)?;
            }
            return Ok(Self::Redis(text.to_owned()));
        }
        if let Some(nodes) = redis_target::cluster_nodes(text) {
            if nodes.is_empty() {
                return Err(Error::config(
                    FIELD,
                    "names no Redis Cluster node (host:port,host:port)",
                ));
            }
            for node in &nodes {
                check_redis_url(node)?;
            }
            return Ok(Self::Redis(text.to_owned()));
        }
        let url = Url::parse(text).map_err(|e| {
            Error::config(
                FIELD,
                format!("is not memory:, file:DIR or a redis:// URL ({e})"),
            )
        })?;
        match url.scheme() {
            "redis" | "rediss" => {
                check_redis_url(text)?;
                Ok(Self::Redis(text.to_owned()))
            }
            other => Err(Error::config(
                FIELD,
                format!(
                    "has scheme {other:?}; use memory:, file:DIR, redis://, rediss://, redis+cluster://, \
                     rediss+cluster:// or redis+sentinel://"
                ),
            )),
        }
    }

    /// What the log may say about it: a Redis URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Memory => "memory:".into(),
            Self::File(dir) => format!("file:{}", dir.display()),
            Self::Redis(url) => without_password(url),
        }
    }
}

/// A single-server Redis URL the client accepts, with a host.
fn check_redis_url(text: &str) -> Result<()> {
    let host = Url::parse(text)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    if host.is_none_or(|h| h.is_empty()) {
        return Err(Error::config(FIELD, "names no Redis host"));
    }
    ::redis::Client::open(text).map_err(|e| {
        let why = redis::scrub(e.to_string(), redis::url_password(text).as_ref());
        Error::config(
            FIELD,
            format!("is not a Redis URL the client accepts: {why}"),
        )
    })?;
    Ok(())
}

/// `url` with the password of its user info as `***` (`scheme://user:***@host…`).
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "redis".into();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{scheme}://{masked}@{hosts}{path}")
        }
        None => url.to_owned(),
    }
}

impl std::fmt::Debug for CacheUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A Redis URL's password stays out of debug output too.
        write!(f, "CacheUrl({})", self.describe())
    }
}

/// The shared cache settings of a client. (Debug shows the URL without its password, and no key.)
#[derive(Clone)]
pub struct SharedSettings {
    pub url: CacheUrl,
    /// Put before every name (default `m2m-auth:`).
    pub prefix: String,
    /// The longest one operation on the store may take (default 250 ms).
    pub timeout: Duration,
    /// How long the fleet-wide lock lasts unless its owner extends it (default 5 s): a dead owner's lock is
    /// taken over after this.
    pub lock_ttl: Duration,
    /// The entries' key, when given (`cache_encryption_key`): every holder shares them.
    pub encryption_key: Option<zeroize::Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for SharedSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSettings")
            .field("url", &self.url)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("lock_ttl", &self.lock_ttl)
            .field(
                "encryption_key",
                &self.encryption_key.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

pub const DEFAULT_PREFIX: &str = "m2m-auth:";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(5);

/// After a failure, the store is left alone this long: a dead Redis does not cost every fetch its timeout.
const OUTAGE_PAUSE: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct SharedCache {
    store: Store,
    keys: CredentialKeys,
    prefix: String,
    /// The longest one operation on the store may take.
    timeout: Duration,
    lock_ttl: Duration,
    health: Health,
}

impl SharedCache {
    /// The shared cache of `cfg`, if it has one (`memory:` has none).
    pub fn new(cfg: &ClientConfig) -> Result<Option<Self>> {
        let Some(settings) = &cfg.shared else {
            return Ok(None);
        };
        let Some(store) = Store::of(
            &settings.url,
            cfg.ca_bundle.as_ref().map(|ca| ca.pem()),
            settings.timeout,
        )?
        else {
            return Ok(None);
        };
        Ok(Some(Self {
            store,
            keys: CredentialKeys::new(cfg, settings.encryption_key.as_deref())?,
            prefix: settings.prefix.clone(),
            timeout: settings.timeout,
            lock_ttl: settings.lock_ttl,
            health: Health::new(settings.url.describe()),
        }))
    }

    /// The entry's name for `params`.
    pub fn name(&self, cfg: &ClientConfig, params: &TokenParams) -> String {
        key::entry_name(&self.prefix, cfg, &self.keys, params)
    }
}

/// Whether the store answers; an outage is reported once, when it starts and when it ends.
#[derive(Debug)]
struct Health {
    what: String,
    state: Mutex<Outage>,
}

#[derive(Debug, Default)]
struct Outage {
    since: Option<Instant>,
    pause_until: Option<Instant>,
}

impl Health {
    fn new(what: String) -> Self {
        Self {
            what,
            state: Mutex::new(Outage::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Outage> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn available(&self) -> bool {
        self.state().pause_until.is_none_or(|t| Instant::now() >= t)
    }

    fn failed(&self, cfg: &ClientConfig, counters: &Counters, why: &str) {
        Counters::count(&counters.shared_errors);
        let now = Instant::now();
        let mut state = self.state();
        state.pause_until = Some(now + OUTAGE_PAUSE);
        if state.since.is_none() {
            state.since = Some(now);
            drop(state);
            cfg.emit(
                EventLevel::Warn,
                EventKind::SharedCacheDown,
                format!(
                    "the shared cache ({}) failed: {why}; this process fetches its own tokens until it answers \
                     again",
                    self.what
                ),
            );
        }
    }

    fn succeeded(&self, cfg: &ClientConfig) {
        let mut state = self.state();
        state.pause_until = None;
        if let Some(since) = state.since.take() {
            drop(state);
            cfg.emit(
                EventLevel::Info,
                EventKind::SharedCacheBack,
                format!(
                    "the shared cache ({}) answers again after {}s; tokens are shared again",
                    self.what,
                    since.elapsed().as_secs()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_urls_read_as_documented() {
        assert_eq!(CacheUrl::parse("").ok(), Some(CacheUrl::Memory));
        assert_eq!(CacheUrl::parse("memory:").ok(), Some(CacheUrl::Memory));
        assert_eq!(
            CacheUrl::parse("file:/var/m2m").ok(),
            Some(CacheUrl::File("/var/m2m".into()))
        );
        assert_eq!(
            CacheUrl::parse("file:///var/m2m").ok(),
            Some(CacheUrl::File("/var/m2m".into()))
        );
        assert!(matches!(
            CacheUrl::parse("rediss://h:6380/1"),
            Ok(CacheUrl::Redis(_))
        ));
    }

    #[test]
    fn cluster_urls_are_checked_and_described_without_their_password() {
        let url =
            CacheUrl::parse("redis+cluster://u:pw@127.0.0.1:7000,127.0.0.1:7001").expect("cluster");
        assert_eq!(
            url.describe(),
            "redis+cluster://u:***@127.0.0.1:7000,127.0.0.1:7001"
        );
        assert!(CacheUrl::parse("redis+cluster://").is_err());
        assert!(CacheUrl::parse("rediss+cluster://h:7000").is_ok());
    }

    #[test]
    fn a_redis_password_is_in_no_description_debug_or_error() {
        let url = CacheUrl::parse("redis://user:s3cr%40t@127.0.0.1:6379/0").expect("url");
        for text in [url.describe(), format!("{url:?}")] {
            assert!(
                !text.contains("s3cr") && text.contains("127.0.0.1"),
                "{text}"
            );
        }
        let password = redis::url_password("redis://user:s3cr%40t@h");
        assert!(
            redis::url_password("redis+cluster://u:pw@h:1,h:2").is_some_and(|p| p.expose() == "pw")
        );
        assert!(redis::url_password("redis://h:6379").is_none());
        let scrubbed = redis::scrub("auth s3cr@t failed, s3cr%40t".into(), password.as_ref());
        assert_eq!(scrubbed, "auth *** failed, ***");
    }
}
