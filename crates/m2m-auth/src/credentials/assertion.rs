//! Client assertions (RFC 7523 §2.2, OIDC Core §9): a short-lived JWT the client signs — with its private key
//! for `private_key_jwt`, with HMAC-SHA256 over the client secret for `client_secret_jwt` — and sends instead
//! of a secret. A fresh one per request, each with its own `jti`, so a captured assertion cannot be replayed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::credentials::secret::SecretString;
use crate::credentials::signing_key::SigningKey;
use crate::error::{Error, Result};

/// `client_assertion_type` for JWT client assertions.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid: enough for one request and a clock a little behind, short enough that a
/// leaked one is soon useless.
pub(crate) const ASSERTION_LIFETIME: Duration = Duration::from_secs(60);

/// What signs the assertion.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Signer<'a> {
    PrivateKey(&'a SigningKey),
    Secret(&'a SecretString),
}

/// A signed client assertion for `client_id`, addressed to `audience` (the token endpoint, or the issuer).
pub(crate) fn client_assertion(
    signer: Signer<'_>,
    client_id: &str,
    audience: &str,
) -> Result<String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::Internal("the system clock is before 1970".into()))?
        .as_secs();
    let mut jti = [0u8; 16];
    SystemRandom::new()
        .fill(&mut jti)
        .map_err(|_| Error::Internal("no randomness for the assertion's jti".into()))?;
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": URL_SAFE_NO_PAD.encode(jti),
        "iat": now,
        "exp": now + ASSERTION_LIFETIME.as_secs(),
    });
    let header = match signer {
        Signer::PrivateKey(key) => match key.kid() {
            Some(kid) => json!({"alg": key.alg().as_str(), "typ": "JWT", "kid": kid}),
            None => json!({"alg": key.alg().as_str(), "typ": "JWT"}),
        },
        Signer::Secret(_) => json!({"alg": "HS256", "typ": "JWT"}),
    };
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = match signer {
        Signer::PrivateKey(key) => key.sign(signing_input.as_bytes())?,
        Signer::Secret(secret) => {
            let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
            hmac::sign(&key, signing_input.as_bytes()).as_ref().to_vec()
        }
    };
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _,
        UnparsedPublicKey,
    };
    use serde_json::Value;

    use super::*;

    fn part(jwt: &str, i: usize) -> Vec<u8> {
        URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(i).expect("part"))
            .expect("base64url")
    }

    fn claims(jwt: &str) -> Value {
        serde_json::from_slice(&part(jwt, 1)).expect("claims")
    }

    #[test]
    fn hs256_assertion_is_signed_with_the_secret_and_carries_the_claims() {
        let secret = SecretString::from("s3cret");
        let jwt =
            client_assertion(Signer::Secret(&secret), "svc", "https://idp/token").expect("jwt");
        let header: Value = serde_json::from_slice(&part(&jwt, 0)).expect("header");
        assert_eq!(header["alg"], "HS256");
        let c = claims(&jwt);
        assert_eq!(c["iss"], "svc");
        assert_eq!(c["sub"], "svc");
        assert_eq!(c["aud"], "https://idp/token");
        assert_eq!(c["exp"].as_u64(), c["iat"].as_u64().map(|i| i + 60));
        let (input, _) = jwt.rsplit_once('.').expect("dot");
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"s3cret");
        hmac::verify(&key, input.as_bytes(), &part(&jwt, 2)).expect("valid HMAC");
        assert!(!jwt.contains("s3cret"));
    }

    #[test]
    fn every_assertion_has_its_own_jti() {
        let secret = SecretString::from("s");
        let a = client_assertion(Signer::Secret(&secret), "svc", "aud").expect("jwt");
        let b = client_assertion(Signer::Secret(&secret), "svc", "aud").expect("jwt");
        assert_ne!(claims(&a)["jti"], claims(&b)["jti"]);
    }

    #[test]
    fn es256_assertion_verifies_with_the_public_key_and_names_its_kid() {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("key");
        let pkcs8 = pair.to_pkcs8v1().expect("pkcs8");
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref())
        );
        let key = SigningKey::from_pem(pem.as_bytes())
            .expect("key")
            .with_kid("k1");
        let jwt = client_assertion(Signer::PrivateKey(&key), "svc", "aud").expect("jwt");
        let header: Value = serde_json::from_slice(&part(&jwt, 0)).expect("header");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], "k1");
        let (input, _) = jwt.rsplit_once('.').expect("dot");
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref())
            .verify(input.as_bytes(), &part(&jwt, 2))
            .expect("valid ES256 signature");
        assert!(format!("{key:?}").contains("ES256"));
        assert!(
            SigningKey::from_pem(pem.as_bytes())
                .expect("key")
                .with_alg(crate::credentials::signing_key::SigningAlg::RS256)
                .is_err()
        );
    }
}
