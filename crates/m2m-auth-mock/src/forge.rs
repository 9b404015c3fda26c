//! How a minted JWT is signed and spoiled: with the server's key, a key the JWKS does not have,
//! not at all (`alg: none`), or by the HS256 algorithm-confusion attack; and tampered with after
//! signing. Each is a token a correct verifier must refuse (but the first, untampered).

use std::sync::Arc;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::jwt::{SigningKey, signing_input};

/// The `sign` of `POST /mock/tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignMode {
    /// The server's current key: the token verifies with the JWKS.
    Server,
    /// A fresh ES256 key that is not in the JWKS.
    OtherKey,
    /// Header `alg: none`, empty signature.
    None,
    /// HMAC-SHA256 keyed with the server's public key as SPKI PEM text, header `alg: HS256`.
    Hs256PublicKey,
}

impl SignMode {
    pub(crate) fn parse(name: &str) -> Result<Self, String> {
        match name {
            "server" => Ok(SignMode::Server),
            "other_key" => Ok(SignMode::OtherKey),
            "none" => Ok(SignMode::None),
            "hs256_public_key" => Ok(SignMode::Hs256PublicKey),
            other => Err(format!(
                "sign {other:?} is not one of \"server\", \"other_key\", \"none\", \"hs256_public_key\""
            )),
        }
    }

    /// The header `alg` the mode writes unless the request's `header` says otherwise.
    pub(crate) fn alg(self) -> &'static str {
        match self {
            SignMode::Server | SignMode::OtherKey => "ES256",
            SignMode::None => "none",
            SignMode::Hs256PublicKey => "HS256",
        }
    }
}

/// The `tamper` of `POST /mock/tokens`, applied after signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tamper {
    /// The payload is replaced by one whose `sub` is "attacker"; the signature is left as it was.
    Payload,
    /// The bits of the signature's first byte are flipped.
    Signature,
}

impl Tamper {
    pub(crate) fn parse(name: &str) -> Result<Self, String> {
        match name {
            "payload" => Ok(Tamper::Payload),
            "signature" => Ok(Tamper::Signature),
            other => Err(format!(
                "tamper {other:?} is not one of \"payload\", \"signature\""
            )),
        }
    }
}

/// What produces the signature bytes, set up once for all the tokens of a request.
pub(crate) enum Signer {
    Key(Arc<SigningKey>),
    Unsigned,
    /// Boxed: the key schedule is large, and one signer is made per request.
    Hmac(Box<hmac::Key>),
}

impl Signer {
    /// The signer of `mode`; `server` is the current key, taken once by the caller.
    pub(crate) fn new(mode: SignMode, server: Arc<SigningKey>) -> Result<Self, String> {
        Ok(match mode {
            SignMode::Server => Signer::Key(server),
            SignMode::OtherKey => {
                Signer::Key(Arc::new(SigningKey::generate().map_err(|e| e.to_string())?))
            }
            SignMode::None => Signer::Unsigned,
            SignMode::Hs256PublicKey => Signer::Hmac(Box::new(hmac::Key::new(
                hmac::HMAC_SHA256,
                server.public_spki_pem().as_bytes(),
            ))),
        })
    }

    /// The compact JWS of `header` and `claims`, spoiled by `tamper`. The signature is made by
    /// this signer whatever `alg` the header names.
    pub(crate) fn token(
        &self,
        header: &Map<String, Value>,
        claims: &Map<String, Value>,
        tamper: Option<Tamper>,
    ) -> Result<String, String> {
        let (header, claims) = (Value::Object(header.clone()), Value::Object(claims.clone()));
        let mut input = signing_input(&header, &claims);
        let mut signature = match self {
            Signer::Key(key) => key.sign_bytes(input.as_bytes())?,
            Signer::Unsigned => Vec::new(),
            Signer::Hmac(key) => hmac::sign(key, input.as_bytes()).as_ref().to_vec(),
        };
        match tamper {
            None => {}
            Some(Tamper::Payload) => {
                let mut forged = claims;
                forged["sub"] = Value::from("attacker");
                input = signing_input(&header, &forged);
            }
            Some(Tamper::Signature) => {
                let first = signature.first_mut().ok_or_else(|| {
                    "tamper \"signature\" needs a signature; sign \"none\" makes none".to_owned()
                })?;
                *first ^= 0xff;
            }
        }
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jws::CompactJws;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn modes_and_tampering_make_the_expected_shapes() {
        let key = Arc::new(SigningKey::generate().expect("key"));
        let header = map(json!({"alg": "ES256", "kid": key.kid()}));
        let claims = map(json!({"sub": "a", "exp": crate::jwt::unix_now() + 60}));

        let good = Signer::new(SignMode::Server, Arc::clone(&key)).expect("signer");
        let token = good.token(&header, &claims, None).expect("token");
        assert!(key.verify(&token).is_ok());
        let forged = good
            .token(&header, &claims, Some(Tamper::Payload))
            .expect("t");
        assert_eq!(
            CompactJws::decode(&forged).expect("jws").claims["sub"],
            "attacker"
        );
        // The signature is still the one over the original payload.
        let signature = forged.rsplit('.').next().expect("signature");
        let original = signing_input(
            &Value::Object(header.clone()),
            &Value::Object(claims.clone()),
        );
        assert!(key.verify(&format!("{original}.{signature}")).is_ok());
        assert!(key.verify(&forged).is_err());
        let flipped = good
            .token(&header, &claims, Some(Tamper::Signature))
            .expect("t");
        assert!(key.verify(&flipped).unwrap_err().contains("signature"));

        let unsigned = Signer::new(SignMode::None, Arc::clone(&key)).expect("signer");
        assert!(
            unsigned
                .token(&header, &claims, None)
                .expect("t")
                .ends_with('.')
        );
        assert!(
            unsigned
                .token(&header, &claims, Some(Tamper::Signature))
                .is_err()
        );

        let other = Signer::new(SignMode::OtherKey, Arc::clone(&key)).expect("signer");
        let token = other.token(&header, &claims, None).expect("t");
        assert!(key.verify(&token).unwrap_err().contains("signature"));
    }

    #[test]
    fn unknown_names_are_named_in_the_error() {
        assert!(SignMode::parse("rsa").unwrap_err().contains("\"rsa\""));
        assert!(Tamper::parse("header").unwrap_err().contains("\"header\""));
        assert_eq!(
            SignMode::parse("hs256_public_key"),
            Ok(SignMode::Hs256PublicKey)
        );
    }
}
