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
        random_b64url(16)
    }

    /// The RFC 7638 thumbprint that names this key in headers and the JWKS.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `claims` as a compact JWS with header `{"alg":"ES256","typ":"at+jwt","kid":...}`.
    pub(crate) fn sign(&self, claims: &Value) -> Result<String, String> {
        let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": self.kid});
        let signing_input = signing_input(&header, claims);
        let signature = self.sign_bytes(signing_input.as_bytes())?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// The ES256 signature of `message`: r || s, 32 bytes each (the FIXED algorithm yields exactly
    /// the JWS format). Used as-is by tokens minted with any header.
    pub(crate) fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        self.pair
            .sign(&self.rng, message)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|_| "signing failed".to_owned())
    }

    /// The public key as SubjectPublicKeyInfo PEM text, the way OpenSSL, Python's `cryptography`
    /// and Node's `KeyObject.export` write it (64-character lines, LF, a final newline): the
    /// "secret" of the HS256 algorithm-confusion attack, which a verifier that lets the header
    /// choose the algorithm would feed to HMAC.
    pub(crate) fn public_spki_pem(&self) -> String {
        // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) point }.
        const P256_SPKI_PREFIX: [u8; 26] = [
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        let mut der = P256_SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.public);
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
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

/// `len` random bytes, base64url-encoded (ids, `kid`s, opaque tokens).
pub(crate) fn random_b64url(len: usize) -> Result<String, String> {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| "random generator failed".to_owned())?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// `base64url(header).base64url(claims)`: what a JWS signature covers.
pub(crate) fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
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

    #[test]
    fn the_spki_pem_holds_the_public_point() {
        let key = SigningKey::generate().expect("key");
        let pem = key.public_spki_pem();
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN PUBLIC KEY-----"));
        assert_eq!(lines.last(), Some(&"-----END PUBLIC KEY-----"));
        assert!(pem.ends_with("-----\n") && !pem.contains('\r'));
        let der = base64::engine::general_purpose::STANDARD
            .decode(lines[1..lines.len() - 1].concat())
            .expect("base64");
        assert_eq!(der.len(), 91);
        assert_eq!(&der[26..], key.public.as_slice());
    }
}
