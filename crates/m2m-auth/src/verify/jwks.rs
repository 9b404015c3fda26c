//! The issuer's keys (RFC 7517 JWKS), fetched once and cached: fresh for `jwks_max_age` (shorter when the
//! answer's `Cache-Control: max-age` says so), and fetched again for a `kid` it does not hold — with one
//! request in flight however many tokens ask (single flight), and at most one per `jwks_cooldown`, so that a
//! storm of tokens with unknown kids costs one request per cooldown. A failed fetch keeps the last good keys.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CACHE_CONTROL};
use serde_json::Value;
use url::Url;

use super::error::Rejection;
use super::jws::{Alg, PublicKey};
use crate::http::transport::exchange;

/// Largest JWKS read.
const MAX_JWKS_BYTES: usize = 512 * 1024;

#[derive(Debug)]
struct Keys {
    keys: Arc<Vec<PublicKey>>,
    /// When the keys were fetched (`None`: never).
    fetched: Option<Instant>,
    /// Until when they are fresh.
    fresh_until: Option<Instant>,
}

#[derive(Debug)]
pub(crate) struct Jwks {
    url: Url,
    http: reqwest::Client,
    timeout: Duration,
    max_age: Duration,
    cooldown: Duration,
    keys: RwLock<Keys>,
    /// Held by the one fetch in flight; with when the last fetch was tried.
    fetching: tokio::sync::Mutex<Option<Instant>>,
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

impl Jwks {
    pub fn new(
        url: Url,
        http: reqwest::Client,
        timeout: Duration,
        max_age: Duration,
        cooldown: Duration,
    ) -> Self {
        Self {
            url,
            http,
            timeout,
            max_age,
            cooldown,
            keys: RwLock::new(Keys {
                keys: Arc::default(),
                fetched: None,
                fresh_until: None,
            }),
            fetching: tokio::sync::Mutex::new(None),
        }
    }

    fn snapshot(&self) -> (Arc<Vec<PublicKey>>, Option<Instant>, Option<Instant>) {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        (Arc::clone(&keys.keys), keys.fetched, keys.fresh_until)
    }

    /// The keys that may verify a token with `kid` and `alg`: from the cache, or after one more fetch when the
    /// cache is stale or holds no such key. `Unavailable` only when there are no keys at all to go by.
    pub async fn keys_for(&self, kid: Option<&str>, alg: Alg) -> Result<Vec<PublicKey>, Rejection> {
        let matching = |keys: &[PublicKey]| -> Vec<PublicKey> {
            keys.iter()
                .filter(|k| kid.is_none_or(|kid| k.kid.as_deref() == Some(kid)) && k.accepts(alg))
                .cloned()
                .collect()
        };
        let (keys, fetched, fresh_until) = self.snapshot();
        let stale = fresh_until.is_none_or(|t| Instant::now() >= t);
        let found = matching(&keys);
        if !found.is_empty() && !stale {
            return Ok(found);
        }
        match self.refresh(fetched).await {
            Ok(()) => {}
            // Down or slow: the last good keys still verify; with none, the verifier cannot decide.
            Err(e) if keys.is_empty() && fetched.is_none() => return Err(e),
            Err(_) => {}
        }
        let (keys, _, _) = self.snapshot();
        let found = matching(&keys);
        if found.is_empty() {
            return Err(Rejection::TokenInvalid {
                description: match kid {
                    Some(kid) => format!(
                        "no key of the issuer has kid {:?} for {}",
                        crate::error::server_text(kid),
                        alg.as_str()
                    ),
                    None => format!("no key of the issuer verifies {}", alg.as_str()),
                },
            });
        }
        Ok(found)
    }

    /// Fetches the keys again, unless another caller did since `seen` (the fetch time this caller saw) or the
    /// last try was less than a cooldown ago.
    async fn refresh(&self, seen: Option<Instant>) -> Result<(), Rejection> {
        let mut last_try = self.fetching.lock().await;
        let (_, fetched, _) = self.snapshot();
        if fetched != seen {
            return Ok(());
        }
        if last_try.is_some_and(|t| t.elapsed() < self.cooldown) {
            return Ok(());
        }
        *last_try = Some(Instant::now());
        let (keys, age) = self.fetch().await?;
        let now = Instant::now();
        let fresh_for = age
            .map_or(self.max_age, |a| a.min(self.max_age))
            .max(self.cooldown);
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Keys {
            keys: Arc::new(keys),
            fetched: Some(now),
            fresh_until: Some(now + fresh_for),
        };
        Ok(())
    }

    async fn fetch(&self) -> Result<(Vec<PublicKey>, Option<Duration>), Rejection> {
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
        let Some(jwks) = doc.get("keys").and_then(Value::as_array) else {
            return Err(unavailable("are not a JWKS (no keys array)".into()));
        };
        let keys = jwks.iter().filter_map(PublicKey::from_jwk).collect();
        let age = answer
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(CACHE_CONTROL.as_str()))
            .and_then(|(_, v)| max_age(v));
        Ok((keys, age))
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
