//! Client assertions (RFC 7523) built independently of the server, with aws-lc-rs directly.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use m2m_auth_mock::testkeys::GeneratedKey;
use serde_json::{Value, json};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What signs an assertion.
#[derive(Debug, Clone, Copy)]
pub enum Signer<'a> {
    /// HS256 with this secret (client_secret_jwt).
    Secret(&'a str),
    /// The key's own algorithm (private_key_jwt).
    Key(&'a GeneratedKey),
}

/// A `jti` no other assertion of this test process uses.
pub fn unique_jti() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut random = [0u8; 8];
    aws_lc_rs::rand::fill(&mut random).expect("random");
    format!(
        "jti-{}-{}",
        NEXT.fetch_add(1, Ordering::Relaxed),
        URL_SAFE_NO_PAD.encode(random)
    )
}

/// The claims a correct client sends: iss = sub = client id, `aud`, exp in a minute, iat, fresh jti.
pub fn claims(client_id: &str, aud: &str) -> Value {
    let now = super::now();
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + 60,
        "jti": unique_jti(),
    })
}

/// The JOSE header for a signer: its alg, and the key's kid.
pub fn header(signer: Signer<'_>) -> Value {
    match signer {
        Signer::Secret(_) => json!({"alg": "HS256", "typ": "JWT"}),
        Signer::Key(key) => json!({"alg": key.alg, "typ": "JWT", "kid": key.kid}),
    }
}

/// A compact JWS of `header` and `claims`, signed by `signer` (whatever alg the header claims).
pub fn sign(header: &Value, claims: &Value, signer: Signer<'_>) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = match signer {
        Signer::Secret(secret) => {
            let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
            hmac::sign(&key, input.as_bytes()).as_ref().to_vec()
        }
        Signer::Key(key) => sign_with_key(key, input.as_bytes()),
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn sign_with_key(key: &GeneratedKey, message: &[u8]) -> Vec<u8> {
    let rng = SystemRandom::new();
    match key.alg.as_str() {
        "ES256" => {
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.pkcs8_der)
                .expect("EC key");
            pair.sign(&rng, message).expect("sign").as_ref().to_vec()
        }
        alg => {
            let pair = RsaKeyPair::from_pkcs8(&key.pkcs8_der).expect("RSA key");
            let padding = if alg == "PS256" {
                &RSA_PSS_SHA256
            } else {
                &RSA_PKCS1_SHA256
            };
            let mut signature = vec![0u8; pair.public_modulus_len()];
            pair.sign(padding, &rng, message, &mut signature)
                .expect("sign");
            signature
        }
    }
}

/// A signed assertion with the default claims for `client_id` and `aud`.
pub fn assertion(client_id: &str, aud: &str, signer: Signer<'_>) -> String {
    sign(&header(signer), &claims(client_id, aud), signer)
}
