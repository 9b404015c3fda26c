//! The verifier's shared cache: documents a fleet of verifiers shares (the issuer's keys, introspection
//! answers) in the same stores as tokens (Redis, files), sealed like token entries under the configured
//! `cache_encryption_key` — whoever can write the cache must not be able to make a verifier trust a key or an
//! answer. Like the token cache, it is never a reason for an error: a failure is a miss, and after one the
//! store is left alone for a moment, so that a dead Redis does not cost every request its timeout.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use zeroize::Zeroizing;

use super::entry::{open_bytes, seal_bytes};
use super::store::Store;
use super::{OUTAGE_PAUSE, SharedSettings};
use crate::error::{Error, Result};

/// Where the verifier's shared documents live, and how they are sealed.
#[derive(Debug)]
pub(crate) struct SharedDocuments {
    store: Store,
    prefix: String,
    key: Zeroizing<[u8; 32]>,
    timeout: Duration,
    /// Until when the store is left alone after a failure.
    paused_until: Mutex<Option<Instant>>,
}

impl SharedDocuments {
    /// The shared cache `settings` describe (as the token client's are checked); it needs their key.
    pub fn new(settings: SharedSettings, ca_pem: Option<&[u8]>) -> Result<Option<Self>> {
        let SharedSettings {
            url,
            prefix,
            timeout,
            encryption_key,
            ..
        } = settings;
        let Some(store) = Store::of(&url, ca_pem, timeout)? else {
            return Ok(None);
        };
        let key = encryption_key.ok_or_else(|| {
            Error::config(
                "cache_encryption_key",
                "is required with a shared `cache_url`: the verifier's entries (the keys it trusts, introspection \
                 answers) are sealed, so that whoever can write the cache cannot make it accept a token",
            )
        })?;
        Ok(Some(Self {
            store,
            prefix,
            key,
            timeout,
            paused_until: Mutex::new(None),
        }))
    }

    /// The name of a document: its kind, and a hash of what tells it apart (never the token itself).
    pub fn name(&self, kind: &str, parts: &[&str]) -> String {
        let mut context = digest::Context::new(&digest::SHA256);
        for part in parts {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part.as_bytes());
        }
        let hash: String = context
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("{}verifier:{kind}:{hash}", self.prefix)
    }

    fn available(&self) -> bool {
        self.paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none_or(|t| Instant::now() >= t)
    }

    fn outcome<T>(&self, result: std::result::Result<T, super::store::StoreError>) -> Option<T> {
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok(v) => {
                *paused = None;
                Some(v)
            }
            Err(_) => {
                *paused = Some(Instant::now() + OUTAGE_PAUSE);
                None
            }
        }
    }

    /// The document `name`, if the store has one that opens with the key.
    pub async fn get(&self, name: &str) -> Option<Zeroizing<Vec<u8>>> {
        if !self.available() {
            return None;
        }
        let read = self.store.read(name, Instant::now() + self.timeout).await;
        let bytes = self.outcome(read)??;
        // An entry that does not open (another key, tampered with) is no document.
        open_bytes(&bytes, name, &self.key).ok()
    }

    /// Stores `plain` under `name` for `ttl`.
    pub async fn put(&self, name: &str, plain: &[u8], ttl: Duration) {
        if !self.available() || ttl.is_zero() {
            return;
        }
        let Some(sealed) = seal_bytes(plain, name, &self.key) else {
            return;
        };
        let written = self
            .store
            .write(name, sealed, ttl, Instant::now() + self.timeout)
            .await;
        self.outcome(written);
    }
}
