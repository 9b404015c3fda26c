//! A token as the shared cache holds it: access token, token type, scope, when its request was sent and when
//! it expires (seconds since the epoch), and a format version, as JSON sealed with AES-256-GCM. The entry's
//! name is the associated data, so an entry copied under another name does not open. Read access to the cache
//! alone yields no usable token.
//!
//! A reader maps the wall-clock times onto its own monotonic clock and applies its own skew: the lifetime
//! and the refresh point stay those of the fetch, so the whole fleet refreshes at the same moment.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::cache::freshness::SentAt;
use crate::token::Token;

/// The entry format's version: in every entry's first bytes, and in its name (`key`).
pub(crate) const FORMAT_VERSION: u8 = 1;

/// The first bytes of every entry: the format and its version. An entry of another version is ignored.
const MAGIC: &[u8; 5] = &[b'm', b'2', b'm', FORMAT_VERSION, 0];

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Plain {
    access_token: String,
    token_type: String,
    scope: Option<String>,
    expires_in: Option<u64>,
    /// When the request that got the token was sent, seconds since the epoch.
    sent_at: f64,
    /// When it expires, seconds since the epoch.
    expires_at: f64,
}

/// Why an entry was set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Not an m2m-auth entry of this version.
    Format,
    /// Does not open with this client's key (another credential or encryption key, or tampered with).
    Seal,
    /// Opens but does not hold a token.
    Content,
}

impl Rejected {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Format => "it is not an entry of this format version",
            Self::Seal => {
                "it does not open with this client's key (another credential, or tampered with)"
            }
            Self::Content => "it does not hold a token",
        }
    }
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn cipher(key: &[u8; 32]) -> Option<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, key)
        .ok()
        .map(LessSafeKey::new)
}

/// The sealed entry for `token` under `name`.
pub(crate) fn seal(token: &Token, name: &str, key: &[u8; 32]) -> Option<Vec<u8>> {
    let plain = Plain {
        access_token: token.access_token.clone(),
        token_type: token.token_type.clone(),
        scope: token.scope.clone(),
        expires_in: token.expires_in,
        sent_at: unix(token.sent_at.wall),
        expires_at: token.expires_at_unix(),
    };
    seal_bytes(&Zeroizing::new(serde_json::to_vec(&plain).ok()?), name, key)
}

/// `plain` sealed under `name` (the associated data: copied under another name, it does not open), with the
/// format's magic bytes first. The verifier's shared entries are sealed the same way.
pub(crate) fn seal_bytes(plain: &[u8], name: &str, key: &[u8; 32]) -> Option<Vec<u8>> {
    let mut buffer = Zeroizing::new(plain.to_vec());
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).ok()?;
    cipher(key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(name.as_bytes()),
            &mut *buffer,
        )
        .ok()?;
    let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + buffer.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&buffer);
    Some(out)
}

/// The token in a sealed entry, on this process's clocks.
pub(crate) fn open(bytes: &[u8], name: &str, key: &[u8; 32]) -> Result<Token, Rejected> {
    let plain = open_bytes(bytes, name, key)?;
    let plain: Plain = serde_json::from_slice(&plain).map_err(|_| Rejected::Content)?;
    token_from(plain).ok_or(Rejected::Content)
}

/// What `seal_bytes` sealed under `name`.
pub(crate) fn open_bytes(
    bytes: &[u8],
    name: &str,
    key: &[u8; 32],
) -> Result<Zeroizing<Vec<u8>>, Rejected> {
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or(Rejected::Format)?;
    if rest.len() < NONCE_LEN {
        return Err(Rejected::Format);
    }
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Rejected::Format)?;
    let mut buffer = Zeroizing::new(sealed.to_vec());
    let len = cipher(key)
        .ok_or(Rejected::Seal)?
        .open_in_place(nonce, Aad::from(name.as_bytes()), &mut buffer)
        .map_err(|_| Rejected::Seal)?
        .len();
    buffer.truncate(len);
    Ok(buffer)
}

/// Maps the entry's wall-clock times onto this process's monotonic clock.
fn token_from(plain: Plain) -> Option<Token> {
    let lifetime = plain.expires_at - plain.sent_at;
    if plain.access_token.is_empty()
        || !(plain.sent_at.is_finite() && lifetime.is_finite() && lifetime > 0.0)
        || lifetime > crate::cache::freshness::MAX_EXPIRES_IN as f64
    {
        return None;
    }
    let now = SentAt::now();
    // Sent `age` ago by this host's wall clock; one sent "in the future" (another host's clock is ahead)
    // counts from now. An age this process's monotonic clock cannot go back to is no token to serve.
    let age = Duration::try_from_secs_f64((unix(now.wall) - plain.sent_at).max(0.0)).ok()?;
    let mono = now.mono.checked_sub(age)?;
    let wall = now.wall.checked_sub(age)?;
    Some(Token {
        access_token: plain.access_token,
        token_type: plain.token_type,
        scope: plain.scope,
        expires_in: plain.expires_in,
        lifetime: Duration::try_from_secs_f64(lifetime).ok()?,
        sent_at: SentAt { mono, wall },
        clock_note: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn token(lifetime: Duration) -> Token {
        Token {
            access_token: "at-123".into(),
            token_type: "Bearer".into(),
            scope: Some("read".into()),
            expires_in: Some(lifetime.as_secs()),
            lifetime,
            sent_at: SentAt::now(),
            clock_note: None,
        }
    }

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn an_entry_opens_under_its_name_and_key_only() {
        let t = token(Duration::from_secs(60));
        let sealed = seal(&t, "m2m-auth:a", &KEY).expect("sealed");
        assert!(
            !sealed.windows(6).any(|w| w == b"at-123"),
            "the token is not in plain text"
        );
        let back = open(&sealed, "m2m-auth:a", &KEY).expect("opens");
        assert_eq!(back.access_token(), "at-123");
        assert_eq!(back.scope(), Some("read"));
        assert!((back.lifetime().as_secs_f64() - 60.0).abs() < 0.01);
        assert!(back.expires_in() > Duration::from_secs(59));
        assert_eq!(
            open(&sealed, "m2m-auth:b", &KEY).err(),
            Some(Rejected::Seal)
        );
        assert_eq!(
            open(&sealed, "m2m-auth:a", &[8; 32]).err(),
            Some(Rejected::Seal)
        );
    }

    #[test]
    fn truncated_foreign_and_other_version_entries_are_rejected() {
        let sealed = seal(&token(Duration::from_secs(60)), "n", &KEY).expect("sealed");
        assert_eq!(
            open(&sealed[..sealed.len() - 1], "n", &KEY).err(),
            Some(Rejected::Seal)
        );
        assert_eq!(open(&sealed[..8], "n", &KEY).err(), Some(Rejected::Format));
        assert_eq!(
            open(b"{\"access_token\":\"x\"}", "n", &KEY).err(),
            Some(Rejected::Format)
        );
        let mut other_version = sealed.clone();
        other_version[3] = 2;
        assert_eq!(
            open(&other_version, "n", &KEY).err(),
            Some(Rejected::Format)
        );
    }

    #[test]
    fn the_reader_keeps_the_fetch_s_refresh_point() {
        let mut t = token(Duration::from_secs(10));
        t.sent_at = SentAt {
            mono: Instant::now() - Duration::from_secs(4),
            wall: SystemTime::now() - Duration::from_secs(4),
        };
        let back = open(&seal(&t, "n", &KEY).expect("sealed"), "n", &KEY).expect("opens");
        let left = back.expires_in().as_secs_f64();
        assert!((5.9..=6.01).contains(&left), "{left}");
        // 4 s of 10 have passed: a refresh at 40% is due, one at 50% is not yet.
        assert!(back.refresh_at(0.39).expect("due") <= Instant::now());
        assert!(back.refresh_at(0.5).expect("due") > Instant::now());
    }
}
