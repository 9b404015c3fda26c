//! Replay protection for client assertions (RFC 7523 §3 item 7): a `jti` is accepted once per client
//! until the assertion's `exp`. Expiry is bounded (see `client_assertion`), so entries are few and
//! short-lived; they are pruned as new ones arrive.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Entries kept at most; when full, the entry closest to expiry makes room. At the longest assertion
/// lifetime this allows well over a hundred assertions a second, far beyond what a test sends.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Default)]
pub(crate) struct ReplayCache {
    /// (client id, jti) → the time (Unix seconds) after which the jti may be forgotten.
    seen: Mutex<HashMap<(String, String), i64>>,
}

impl ReplayCache {
    /// Records the jti; `false` when it was already seen for this client and not yet forgotten.
    pub(crate) fn first_use(
        &self,
        client_id: &str,
        jti: &str,
        forget_after: i64,
        now: i64,
    ) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (client_id.to_owned(), jti.to_owned());
        if seen.get(&key).is_some_and(|until| *until >= now) {
            return false;
        }
        if seen.len() >= MAX_ENTRIES {
            seen.retain(|_, until| *until >= now);
        }
        if seen.len() >= MAX_ENTRIES
            && let Some(oldest) = seen
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(k, _)| k.clone())
        {
            seen.remove(&oldest);
        }
        seen.insert(key, forget_after);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_accepted_once_per_client_until_forgotten() {
        let cache = ReplayCache::default();
        assert!(cache.first_use("a", "j1", 100, 50));
        assert!(!cache.first_use("a", "j1", 100, 60));
        assert!(cache.first_use("b", "j1", 100, 60), "another client");
        assert!(
            cache.first_use("a", "j1", 200, 101),
            "after it was forgotten"
        );
    }
}
