//! Tokens checked before, by the SHA-256 of the token (never the token itself): machine callers send the same
//! token thousands of times, and its signature or introspection need not be checked again. Bounded; the
//! oldest answer is forgotten first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use aws_lc_rs::digest;

use super::claims::Claims;
use super::error::Rejection;

/// Answers remembered at most; beyond, the oldest is forgotten.
pub(crate) const MAX_REMEMBERED: usize = 10_000;

/// What was found of a token.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    /// A JWT whose signature and claims verified: its time checks are repeated at every use.
    Verified(Arc<Claims>),
    /// The introspection endpoint's answer, good until the entry's `until`.
    Introspected(Result<Arc<Claims>, Rejection>),
}

#[derive(Debug)]
struct Entry {
    answer: Answer,
    /// Seconds since the epoch after which the answer is not used (`None`: the token's own `exp` decides).
    until: Option<f64>,
}

#[derive(Debug, Default)]
struct Entries {
    by_hash: HashMap<[u8; 32], Entry>,
    order: VecDeque<[u8; 32]>,
}

#[derive(Default)]
pub(crate) struct Remembered {
    entries: Mutex<Entries>,
}

// The claims of thousands of tokens are no one's business in a Debug dump.
impl std::fmt::Debug for Remembered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .order
            .len();
        write!(f, "Remembered({n} tokens)")
    }
}

/// The answer being found for a token, shared by every request for it meanwhile: one introspection request
/// however many requests come with a new opaque token at once, and one answer (an outage too) for all.
type Flight = Arc<tokio::sync::OnceCell<Result<Arc<Claims>, Rejection>>>;

/// The flights in progress, by token hash.
#[derive(Default)]
pub(crate) struct Flights {
    by_hash: Mutex<HashMap<[u8; 32], Flight>>,
}

impl std::fmt::Debug for Flights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Flights")
    }
}

impl Flights {
    /// The answer of `work` for `hash`, or of the flight already under way for it.
    pub async fn join<F>(&self, hash: [u8; 32], work: F) -> Result<Arc<Claims>, Rejection>
    where
        F: Future<Output = Result<Arc<Claims>, Rejection>>,
    {
        let flight = Arc::clone(
            self.by_hash
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(hash)
                .or_default(),
        );
        let answer = flight.get_or_init(|| work).await.clone();
        // The first to finish takes it down; later requests find the answer remembered (or start anew).
        let mut by_hash = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner);
        if by_hash.get(&hash).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            by_hash.remove(&hash);
        }
        answer
    }
}

/// The key a token is remembered by.
pub(crate) fn token_hash(token: &str) -> [u8; 32] {
    let mut hash = [0u8; 32];
    hash.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
    hash
}

impl Remembered {
    /// Until when (seconds since the epoch) the answer remembered for `hash` holds without a check, if it is
    /// an accepted token's: `exp` plus `leeway` for a JWT, the entry's own end for an introspected one.
    pub fn accepted_until(&self, hash: &[u8; 32], leeway: f64) -> Option<f64> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.by_hash.get(hash)?;
        match &entry.answer {
            Answer::Verified(claims) => Some(claims.expires_at + leeway),
            Answer::Introspected(Ok(_)) => entry.until,
            Answer::Introspected(Err(_)) => None,
        }
    }

    /// The answer remembered for `hash`, if it is still good at `now`.
    pub fn get(&self, hash: &[u8; 32], now: f64) -> Option<Answer> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.by_hash.get(hash)?;
        match entry.until {
            Some(until) if now >= until => None,
            _ => Some(entry.answer.clone()),
        }
    }

    pub fn insert(&self, hash: [u8; 32], answer: Answer, until: Option<f64>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries
            .by_hash
            .insert(hash, Entry { answer, until })
            .is_none()
        {
            entries.order.push_back(hash);
        }
        while entries.order.len() > MAX_REMEMBERED {
            if let Some(oldest) = entries.order.pop_front() {
                entries.by_hash.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected() -> Answer {
        Answer::Introspected(Err(Rejection::TokenInvalid {
            description: "inactive".into(),
        }))
    }

    #[test]
    fn answers_expire_and_the_oldest_goes_first() {
        let remembered = Remembered::default();
        remembered.insert(token_hash("a"), rejected(), Some(100.0));
        assert!(remembered.get(&token_hash("a"), 99.0).is_some());
        assert!(remembered.get(&token_hash("a"), 100.0).is_none());
        for i in 0..MAX_REMEMBERED {
            remembered.insert(token_hash(&i.to_string()), rejected(), None);
        }
        assert!(
            remembered.get(&token_hash("a"), 0.0).is_none(),
            "the oldest was forgotten"
        );
        assert!(remembered.get(&token_hash("0"), 0.0).is_some());
    }
}
