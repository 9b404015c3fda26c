//! The issuer's keys (RFC 7517 JWKS), fetched once and cached: fresh for `jwks_max_age` (shorter when the
//! answer's `Cache-Control: max-age` says so), and fetched again for a `kid` it does not hold — with one
//! request in flight however many tokens ask (single flight), and at most one per `jwks_cooldown`, so that a
//! storm of tokens with unknown kids costs one request per cooldown. A failed fetch keeps the last good keys.
//! With a shared `cache_url` the fleet shares the keys and the cooldown: a process takes the keys another
//! fetched, and waits out another's try.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{ACCEPT, CACHE_CONTROL};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::error::Rejection;
use super::jws::{Alg, PublicKey};
use crate::MAX_DURATION;
use crate::cache::shared::documents::SharedDocuments;
use crate::http::transport::exchange;

/// Largest JWKS read.
const MAX_JWKS_BYTES: usize = 512 * 1024;

#[derive(Debug)]
struct Keys {
    keys: Arc<Vec<PublicKey>>,
    /// When the keys were fetched (`None`: never), on this process's clock and on the wall clock (what the
    /// fleet compares).
    fetched: Option<Instant>,
    fetched_wall: f64,
    /// Until when they are fresh.
    fresh_until: Option<Instant>,
}

/// The last try to fetch the keys.
#[derive(Debug, Default)]
struct Attempt {
    at: Option<Instant>,
    /// Why it failed, when it did: until a fetch succeeds, a token no key matches may be signed with a key
    /// the verifier could not see, and is answered 503, not 401.
    failed: Option<Rejection>,
}

#[derive(Debug)]
pub(crate) struct Jwks {
    url: Url,
    http: reqwest::Client,
    timeout: Duration,
    max_age: Duration,
    cooldown: Duration,
    /// The fleet's copy of the keys, when `cache_url` is shared.
    shared: Option<Arc<SharedDocuments>>,
    keys: RwLock<Keys>,
    /// Held by the one fetch in flight.
    fetching: tokio::sync::Mutex<Attempt>,
}

/// The keys as the fleet shares them: the JWKS document, when it was fetched (seconds since the epoch), and
/// for how long it is fresh. Written only after a successful fetch.
#[derive(Debug, Serialize, Deserialize)]
struct SharedKeys {
    jwks: Value,
    fetched_at: f64,
    fresh_secs: f64,
}

/// When a process of the fleet last tried to fetch the keys: a document of its own, so that writing it never
/// overwrites keys another process fetched meanwhile.
#[derive(Debug, Serialize, Deserialize)]
struct SharedTry {
    tried_at: f64,
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `max-age` of a `Cache-Control` value; zero for `no-store` or `no-cache`.
fn max_age(cache_control: &str) -> Option<Duration> {
    let mut age = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(secs) = lower.strip_prefix("max-age=") {
            age = secs.trim_matches('"').parse().ok().map(Duration::from_secs);
        }
    }
    age
}

/// The usable keys of a JWKS document; `None` when it is no JWKS or holds no key this verifier can use (a
/// set that would leave it with nothing to verify with is a failed fetch, not new keys). Keys it cannot use
/// (other types, private parts, encryption keys) are left out.
fn parse_jwks(doc: &Value) -> Option<Vec<PublicKey>> {
    let keys: Vec<PublicKey> = doc
        .get("keys")?
        .as_array()?
        .iter()
        .filter_map(PublicKey::from_jwk)
        .collect();
    (!keys.is_empty()).then_some(keys)
}

impl Jwks {
    pub fn new(
        url: Url,
        http: reqwest::Client,
        timeout: Duration,
        (max_age, cooldown): (Duration, Duration),
        shared: Option<Arc<SharedDocuments>>,
    ) -> Self {
        Self {
            url,
            http,
            timeout,
            max_age,
            cooldown,
            shared,
            keys: RwLock::new(Keys {
                keys: Arc::default(),
                fetched: None,
                fetched_wall: 0.0,
                fresh_until: None,
            }),
            fetching: tokio::sync::Mutex::new(Attempt::default()),
        }
    }

    fn snapshot(&self) -> (Arc<Vec<PublicKey>>, Option<Instant>, Option<Instant>) {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        (Arc::clone(&keys.keys), keys.fetched, keys.fresh_until)
    }

    /// The keys that may verify a token with `kid` and `alg`: from the cache, or after one more fetch when the
    /// cache holds no such key. Stale keys that match are used at once while one refresh runs in the
    /// background: a slow JWKS endpoint holds no request up. `Unavailable` when there are no keys at all to go
    /// by, or when none matches and the last fetch failed (the token may be signed with a key not seen yet).
    pub async fn keys_for(
        self: &Arc<Self>,
        kid: Option<&str>,
        alg: Alg,
    ) -> Result<Vec<PublicKey>, Rejection> {
        let matching = move |keys: &[PublicKey]| -> Vec<PublicKey> {
            keys.iter()
                .filter(|k| kid.is_none_or(|kid| k.kid.as_deref() == Some(kid)) && k.accepts(alg))
                .cloned()
                .collect()
        };
        let (keys, fetched, fresh_until) = self.snapshot();
        let stale = fresh_until.is_none_or(|t| Instant::now() >= t);
        let found = matching(&keys);
        if !found.is_empty() {
            if stale {
                self.refresh_in_background(fetched);
            }
            return Ok(found);
        }
        let failed = self
            .refresh(fetched, &|keys| !matching(keys).is_empty())
            .await
            .err();
        let (keys, fetched, _) = self.snapshot();
        let found = matching(&keys);
        if !found.is_empty() {
            return Ok(found);
        }
        // Nothing to go by, or a key the verifier may not have been able to see: it cannot decide.
        let failed = match failed {
            Some(e) => Some(e),
            None => self
                .fetching
                .try_lock()
                .ok()
                .and_then(|attempt| attempt.failed.clone()),
        };
        match (fetched, failed) {
            (_, Some(e)) => return Err(e),
            (None, None) => {
                return Err(Rejection::unavailable(
                    "the issuer's keys cannot be fetched",
                    format!("the issuer's keys ({}) were not fetched yet", self.url),
                ));
            }
            (Some(_), None) => {}
        }
        Err(Rejection::TokenInvalid {
            description: match kid {
                Some(kid) => format!(
                    "no key of the issuer has kid '{}' for {}",
                    crate::error::server_text(&kid.chars().take(64).collect::<String>()),
                    alg.as_str()
                ),
                None => format!("no key of the issuer verifies {}", alg.as_str()),
            },
        })
    }

    /// Starts a refresh of stale keys unless one runs already; its outcome is only for later requests.
    fn refresh_in_background(self: &Arc<Self>, seen: Option<Instant>) {
        if self.fetching.try_lock().is_err() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let jwks = Arc::clone(self);
        runtime.spawn(async move {
            let _ = jwks.refresh(seen, &|_| true).await;
        });
    }

    /// The keys for `kid` and `alg` if they are at hand and fresh: what a new token needs when nothing is to
    /// be fetched.
    pub fn fresh_keys_for(&self, kid: Option<&str>, alg: Alg) -> Option<Vec<PublicKey>> {
        let (keys, _, fresh_until) = self.snapshot();
        if fresh_until.is_none_or(|t| Instant::now() >= t) {
            return None;
        }
        let found: Vec<PublicKey> = keys
            .iter()
            .filter(|k| kid.is_none_or(|kid| k.kid.as_deref() == Some(kid)) && k.accepts(alg))
            .cloned()
            .collect();
        (!found.is_empty()).then_some(found)
    }

    fn install(&self, keys: Vec<PublicKey>, fetched_wall: f64, fresh_for: Duration) {
        let now = Instant::now();
        let age =
            Duration::try_from_secs_f64((unix_now() - fetched_wall).max(0.0)).unwrap_or_default();
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Keys {
            keys: Arc::new(keys),
            fetched: Some(now),
            fetched_wall,
            fresh_until: Some(now + fresh_for.saturating_sub(age)),
        };
    }

    fn names(&self) -> Option<(String, String)> {
        let store = self.shared.as_ref()?;
        Some((
            store.name("jwks", &[self.url.as_str()]),
            store.name("jwks-try", &[self.url.as_str()]),
        ))
    }

    /// Fetches the keys again, unless another caller did since `seen` (the fetch time this caller saw) or the
    /// last try was less than a cooldown ago. With a shared cache the fleet counts as one: keys another
    /// process fetched since are taken from it (and end the refresh when they are fresh and `enough`), and a
    /// try of another process within the cooldown counts as this one's.
    async fn refresh(
        &self,
        seen: Option<Instant>,
        enough: &(dyn Fn(&[PublicKey]) -> bool + Sync),
    ) -> Result<(), Rejection> {
        let mut attempt = self.fetching.lock().await;
        let (_, fetched, _) = self.snapshot();
        if fetched != seen {
            return Ok(());
        }
        if attempt.at.is_some_and(|t| t.elapsed() < self.cooldown) {
            return attempt.failed.clone().map_or(Ok(()), Err);
        }
        let names = self.names();
        if let (Some(store), Some((keys_name, try_name))) = (&self.shared, &names) {
            if let Some(doc) = store.get(keys_name).await
                && let Ok(doc) = serde_json::from_slice::<SharedKeys>(&doc)
            {
                let ours = self
                    .keys
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .fetched_wall;
                if doc.fetched_at > ours
                    && let Some(keys) = parse_jwks(&doc.jwks)
                {
                    let fresh_for = Duration::try_from_secs_f64(doc.fresh_secs).unwrap_or_default();
                    let done = unix_now() < doc.fetched_at + doc.fresh_secs && enough(&keys);
                    self.install(keys, doc.fetched_at, fresh_for);
                    if done {
                        attempt.failed = None;
                        return Ok(());
                    }
                }
            }
            if let Some(doc) = store.get(try_name).await
                && let Ok(doc) = serde_json::from_slice::<SharedTry>(&doc)
            {
                let since = unix_now() - doc.tried_at;
                if (0.0..self.cooldown.as_secs_f64()).contains(&since) {
                    // Another process tried within the cooldown: this one waits it out with the keys it has.
                    attempt.at = Instant::now().checked_sub(Duration::from_secs_f64(since));
                    return Ok(());
                }
            }
        }
        attempt.at = Some(Instant::now());
        let tried_at = unix_now();
        if let (Some(store), Some((_, try_name))) = (&self.shared, &names)
            && let Ok(bytes) = serde_json::to_vec(&SharedTry { tried_at })
        {
            store
                .put(try_name, &bytes, self.cooldown.max(Duration::from_secs(1)))
                .await;
        }
        match self.fetch().await {
            Ok((doc, keys, age)) => {
                let fresh_for = age
                    .map_or(self.max_age, |a| a.min(self.max_age))
                    .max(self.cooldown);
                self.install(keys, tried_at, fresh_for);
                attempt.failed = None;
                if let (Some(store), Some((keys_name, _))) = (&self.shared, &names) {
                    let shared = SharedKeys {
                        jwks: doc,
                        fetched_at: tried_at,
                        fresh_secs: fresh_for.as_secs_f64(),
                    };
                    if let Ok(bytes) = serde_json::to_vec(&shared) {
                        // Kept long after it is stale: the last good keys, for processes that start while
                        // the JWKS is down.
                        store.put(keys_name, &bytes, MAX_DURATION).await;
                    }
                }
                Ok(())
            }
            Err(e) => {
                attempt.failed = Some(e.clone());
                Err(e)
            }
        }
    }

    async fn fetch(&self) -> Result<(Value, Vec<PublicKey>, Option<Duration>), Rejection> {
        let unavailable = |what: String| {
            Rejection::unavailable(
                "the issuer's keys cannot be fetched",
                format!("the issuer's keys ({}) {what}", self.url),
            )
        };
        let request = self
            .http
            .get(self.url.clone())
            .header(ACCEPT, "application/json");
        let answer = exchange(
            request,
            "JWKS endpoint",
            &self.url,
            self.timeout,
            MAX_JWKS_BYTES,
        )
        .await
        .map_err(|e| unavailable(format!("cannot be read: {e}")))?;
        if answer.status != 200 {
            return Err(unavailable(format!("answered HTTP {}", answer.status)));
        }
        let doc: Value =
            serde_json::from_slice(&answer.body).map_err(|_| unavailable("are not JSON".into()))?;
        let Some(keys) = parse_jwks(&doc) else {
            return Err(unavailable(
                "are not a JWKS with a key this verifier can use".into(),
            ));
        };
        let age = answer
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(CACHE_CONTROL.as_str()))
            .and_then(|(_, v)| max_age(v));
        Ok((doc, keys, age))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_sets_the_age_and_no_store_none() {
        assert_eq!(
            max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("Max-Age=\"60\""), Some(Duration::from_secs(60)));
        assert_eq!(max_age("public"), None);
    }
}
