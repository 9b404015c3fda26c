//! ES256 access tokens (RFC 7515 JWS, RFC 9068 `at+jwt`) and the JWK that verifies them.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::error::MockError;
use crate::jwk;
use crate::jws::CompactJws;

/// The server's signing key pair, generated fresh at every start.
pub(crate) struct SigningKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    /// The uncompressed public point, kept for verification.
    public: Vec<u8>,
    /// The RFC 7638 thumbprint of the public key.
    kid: String,
    /// The public key as a JWK (RFC 7517/7518), with `kid`, `alg` and `use`.
    jwk: Value,
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
        let mut jwk = jwk::ec_public_jwk(&public).map_err(MockError::Key)?;
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("sig");
        let kid = jwk["kid"].as_str().unwrap_or_default().to_owned();
        Ok(SigningKey {
            pair,
            rng,
            public,
            kid,
            jwk,
        })
    }

    /// The public key as a JWK (RFC 7517/7518).
    pub(crate) fn jwk(&self) -> Value {
        self.jwk.clone()
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
        let jws = CompactJws::decode(token).map_err(|e| format!("token {e}"))?;
        if jws.header.get("alg").and_then(Value::as_str) != Some("ES256") {
            return Err("header alg is not ES256".to_owned());
        }
        if jws.header.get("kid").and_then(Value::as_str) != Some(self.kid.as_str()) {
            return Err("header kid does not name this server's key".to_owned());
        }
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.public)
            .verify(jws.signing_input.as_bytes(), &jws.signature)
            .map_err(|_| "signature does not verify".to_owned())?;
        let claims = jws.claims;
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
