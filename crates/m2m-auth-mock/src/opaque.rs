//! Opaque access tokens minted by `POST /mock/tokens` with `"opaque": true`: random strings that
//! mean nothing without the server, which remembers their claims for RFC 7662 introspection.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use serde_json::{Map, Value};

/// At most this many opaque tokens are remembered; the oldest are forgotten first (and then
/// introspect as inactive), so minting in a loop cannot grow memory without bound.
pub(crate) const MAX_OPAQUE_TOKENS: usize = 100_000;

/// What the server remembers of one opaque token.
#[derive(Debug)]
struct Remembered {
    claims: Map<String, Value>,
    active: bool,
}

#[derive(Debug, Default)]
struct Store {
    by_token: HashMap<String, Remembered>,
    /// Tokens in minting order, to forget the oldest.
    order: VecDeque<String>,
}

/// The remembered opaque tokens.
#[derive(Debug, Default)]
pub(crate) struct OpaqueStore {
    store: Mutex<Store>,
}

impl OpaqueStore {
    pub(crate) fn remember(&self, token: String, claims: Map<String, Value>, active: bool) {
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        while store.order.len() >= MAX_OPAQUE_TOKENS {
            if let Some(oldest) = store.order.pop_front() {
                store.by_token.remove(&oldest);
            }
        }
        store.order.push_back(token.clone());
        store.by_token.insert(token, Remembered { claims, active });
    }

    /// The claims of `token` if it is remembered, active and within its `nbf`/`exp` at `now`
    /// (both optional; one that is there but not an integer makes the token inactive).
    pub(crate) fn active_claims(&self, token: &str, now: i64) -> Option<Map<String, Value>> {
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let remembered = store.by_token.get(token).filter(|r| r.active)?;
        let time = |name: &str| remembered.claims.get(name).map(Value::as_i64);
        match time("exp") {
            Some(None) => return None,
            Some(Some(exp)) if exp <= now => return None,
            _ => {}
        }
        match time("nbf") {
            Some(None) => return None,
            Some(Some(nbf)) if nbf > now => return None,
            _ => {}
        }
        Some(remembered.claims.clone())
    }

    pub(crate) fn clear(&self) {
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        store.by_token.clear();
        store.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn only_active_unexpired_started_tokens_have_claims() {
        let store = OpaqueStore::default();
        store.remember("a".into(), claims(json!({"sub": "x", "exp": 100})), true);
        store.remember("b".into(), claims(json!({"exp": 100})), false);
        store.remember("c".into(), claims(json!({"nbf": 60, "exp": 100})), true);
        store.remember("d".into(), claims(json!({"exp": "soon"})), true);
        store.remember("e".into(), claims(json!({})), true);
        assert_eq!(
            store.active_claims("a", 50),
            Some(claims(json!({"sub": "x", "exp": 100})))
        );
        assert_eq!(store.active_claims("a", 100), None);
        assert_eq!(store.active_claims("b", 50), None);
        assert_eq!(store.active_claims("c", 50), None);
        assert!(store.active_claims("c", 60).is_some());
        assert_eq!(store.active_claims("d", 50), None);
        assert!(store.active_claims("e", i64::MAX).is_some());
        assert_eq!(store.active_claims("zzz", 50), None);
        store.clear();
        assert_eq!(store.active_claims("a", 50), None);
    }

    #[test]
    fn the_oldest_are_forgotten_past_the_bound() {
        let store = OpaqueStore::default();
        for i in 0..=MAX_OPAQUE_TOKENS {
            store.remember(i.to_string(), Map::new(), true);
        }
        assert_eq!(store.active_claims("0", 0), None);
        assert!(store.active_claims("1", 0).is_some());
        assert!(
            store
                .active_claims(&MAX_OPAQUE_TOKENS.to_string(), 0)
                .is_some()
        );
    }
}
