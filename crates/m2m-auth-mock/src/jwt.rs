//! ES256 access tokens (RFC 7515 JWS, RFC 9068 `at+jwt`) and the JWK that verifies them.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::error::MockError;

/// Length of an uncompressed P-256 point: 0x04 || x (32 bytes) || y (32 bytes).
const UNCOMPRESSED_POINT_LEN: usize = 65;

/// The server's signing key pair, generated fresh at every start.
pub(crate) struct SigningKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    /// The uncompressed public point, kept for verification.
    public: Vec<u8>,
    kid: String,
    x: String,
    y: String,
}

// The private key must never be printed; only the public identity is useful in a Debug dump.
impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &"ES256")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub(crate) fn generate() -> Result<Self, MockError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| MockError::Key("P-256 key generation failed".to_owned()))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|e| MockError::Key(format!("generated key was rejected: {e}")))?;
        let public = pair.public_key().as_ref().to_vec();
        let (x, y) = match public.as_slice() {
            [0x04, rest @ ..] if public.len() == UNCOMPRESSED_POINT_LEN => rest.split_at(32),
            _ => {
                return Err(MockError::Key(
                    "public key is not an uncompressed P-256 point".into(),
                ));
            }
        };
        let x = URL_SAFE_NO_PAD.encode(x);
        let y = URL_SAFE_NO_PAD.encode(y);
        // RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order, no spaces.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()));
        Ok(SigningKey {
            pair,
            rng,
            public,
            kid,
            x,
            y,
        })
    }

    /// The public key as a JWK (RFC 7517/7518).
    pub(crate) fn jwk(&self) -> Value {
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": self.x,
            "y": self.y,
            "kid": self.kid,
            "alg": "ES256",
            "use": "sig",
        })
    }

    /// Random bytes for `jti`, base64url-encoded.
    pub(crate) fn random_id(&self) -> Result<String, String> {
        let mut bytes = [0u8; 16];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| "random generator failed".to_owned())?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Signs `claims` as a compact JWS with header `{"alg":"ES256","typ":"at+jwt","kid":...}`.
    pub(crate) fn sign(&self, claims: &Value) -> Result<String, String> {
        let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        // The FIXED algorithm yields r || s, 32 bytes each: exactly the JWS ES256 signature format.
        let signature = self
            .pair
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| "signing failed".to_owned())?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }

    /// Checks a token's header, signature and time claims; returns its claims.
    pub(crate) fn verify(&self, token: &str) -> Result<Value, String> {
        let mut parts = token.split('.');
        let (Some(header_b64), Some(claims_b64), Some(sig_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not a compact JWS (expected three dot-separated parts)".to_owned());
        };
        let header = decode_json(header_b64, "header")?;
        if header.get("alg").and_then(Value::as_str) != Some("ES256") {
            return Err("header alg is not ES256".to_owned());
        }
        if header.get("kid").and_then(Value::as_str) != Some(self.kid.as_str()) {
            return Err("header kid does not name this server's key".to_owned());
        }
        let signature = URL_SAFE_NO_PAD
            .decode(sig_b64)
            .map_err(|_| "signature is not base64url".to_owned())?;
        let signing_input_len = header_b64.len() + 1 + claims_b64.len();
        let signing_input = token.get(..signing_input_len).unwrap_or_default();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.public)
            .verify(signing_input.as_bytes(), &signature)
            .map_err(|_| "signature does not verify".to_owned())?;
        let claims = decode_json(claims_b64, "claims")?;
        let now = unix_now();
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| "claims have no integer exp".to_owned())?;
        if exp <= now {
            return Err(format!("token expired at {exp} (now {now})"));
        }
        if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64)
            && nbf > now
        {
            return Err(format!("token not valid before {nbf} (now {now})"));
        }
        Ok(claims)
    }
}

fn decode_json(part: &str, what: &str) -> Result<Value, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| format!("{what} is not base64url"))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{what} is not JSON: {e}"))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(format!("{what} is not a JSON object"))
    }
}

/// Seconds since the Unix epoch; a clock before 1970 reads as 0 rather than failing.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_round_trips_and_tampering_fails() {
        let key = SigningKey::generate().expect("key");
        let claims = json!({"sub": "a", "exp": unix_now() + 60});
        let token = key.sign(&claims).expect("sign");
        assert_eq!(key.verify(&token).expect("verify"), claims);
        let tampered = format!("{token}x");
        assert!(key.verify(&tampered).is_err());
        let expired = key.sign(&json!({"exp": unix_now() - 1})).expect("sign");
        assert!(key.verify(&expired).unwrap_err().contains("expired"));
        assert!(key.verify("a.b").is_err());
        assert!(key.verify("..").is_err());
    }
}
