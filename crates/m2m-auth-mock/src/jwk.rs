//! Client public keys from a registered JWK Set (RFC 7517/7518): parsing and checking them, verifying
//! assertion signatures with them, RFC 7638 thumbprints, and the certificates of their `x5c`.

use aws_lc_rs::digest;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256,
    RsaPublicKeyComponents, UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

/// Members that only a private JWK has; a registration must not hold them.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The public part of a registered key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicKey {
    /// Modulus and exponent, big-endian, no leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// Uncompressed P-256 point: 0x04 || x || y.
    EcP256 { point: Vec<u8> },
}

/// One key of a client's JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientKey {
    pub(crate) kid: Option<String>,
    pub(crate) alg: Option<String>,
    pub(crate) key: PublicKey,
    /// The DER certificates of `x5c`, leaf first.
    pub(crate) x5c: Vec<Vec<u8>>,
}

impl ClientKey {
    /// Whether this key can check a JWS with `alg`: the right key type, and the key's own `alg`
    /// (when it names one) is the same.
    pub(crate) fn fits(&self, alg: &str) -> bool {
        let kty_fits = match self.key {
            PublicKey::Rsa { .. } => alg == "RS256" || alg == "PS256",
            PublicKey::EcP256 { .. } => alg == "ES256",
        };
        kty_fits && self.alg.as_deref().is_none_or(|a| a == alg)
    }

    /// Checks a JWS signature made with `alg` over `message`.
    pub(crate) fn verifies(&self, alg: &str, message: &[u8], signature: &[u8]) -> bool {
        match (&self.key, alg) {
            (PublicKey::Rsa { n, e }, "RS256") => RsaPublicKeyComponents { n, e }
                .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            (PublicKey::Rsa { n, e }, "PS256") => RsaPublicKeyComponents { n, e }
                .verify(&RSA_PSS_2048_8192_SHA256, message, signature)
                .is_ok(),
            (PublicKey::EcP256 { point }, "ES256") => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            _ => false,
        }
    }
}

/// Parses a JWK Set of public RSA and P-256 keys, refusing anything a server should not register.
pub(crate) fn parse_jwks(jwks: &Value) -> Result<Vec<ClientKey>, String> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("a JWK Set must be an object with a \"keys\" array")?;
    keys.iter()
        .enumerate()
        .map(|(i, key)| parse_jwk(key).map_err(|e| format!("keys[{i}]: {e}")))
        .collect()
}

fn parse_jwk(jwk: &Value) -> Result<ClientKey, String> {
    let obj = jwk.as_object().ok_or("a JWK must be a JSON object")?;
    if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| obj.contains_key(**m)) {
        return Err(format!(
            "holds the private member {member:?}; register public keys only"
        ));
    }
    let text = |name: &str| -> Result<Option<String>, String> {
        match obj.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{name:?} must be a string")),
        }
    };
    let bytes = |name: &str| -> Result<Vec<u8>, String> {
        let value = text(name)?.ok_or_else(|| format!("missing {name:?}"))?;
        let decoded = URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| format!("{name:?} is not base64url"))?;
        if decoded.is_empty() {
            return Err(format!("{name:?} is empty"));
        }
        Ok(decoded)
    };
    let key = match text("kty")?.as_deref() {
        Some("RSA") => PublicKey::Rsa {
            n: strip_leading_zeros(bytes("n")?),
            e: strip_leading_zeros(bytes("e")?),
        },
        Some("EC") => {
            if text("crv")?.as_deref() != Some("P-256") {
                return Err("only EC keys on crv \"P-256\" are supported".to_owned());
            }
            let (x, y) = (bytes("x")?, bytes("y")?);
            if x.len() != 32 || y.len() != 32 {
                return Err("P-256 \"x\" and \"y\" must be 32 bytes each".to_owned());
            }
            PublicKey::EcP256 {
                point: [&[0x04][..], &x, &y].concat(),
            }
        }
        Some(other) => {
            return Err(format!(
                "kty {other:?} is not supported (use \"RSA\" or \"EC\")"
            ));
        }
        None => return Err("missing \"kty\"".to_owned()),
    };
    let alg = text("alg")?;
    let key = ClientKey {
        kid: text("kid")?,
        alg: None,
        key,
        x5c: parse_x5c(obj)?,
    };
    if let Some(alg) = &alg
        && !["RS256", "PS256", "ES256"].iter().any(|a| a == alg)
    {
        return Err(format!("alg {alg:?} is not RS256, PS256 or ES256"));
    }
    if let Some(alg) = &alg
        && !key.fits(alg)
    {
        return Err(format!("alg {alg:?} does not fit the key type"));
    }
    if text("use")?.is_some_and(|u| u != "sig") {
        return Err("\"use\" must be \"sig\" for a key that signs client assertions".to_owned());
    }
    Ok(ClientKey { alg, ..key })
}

fn parse_x5c(obj: &Map<String, Value>) -> Result<Vec<Vec<u8>>, String> {
    let Some(x5c) = obj.get("x5c") else {
        return Ok(Vec::new());
    };
    let list = x5c
        .as_array()
        .filter(|l| !l.is_empty())
        .ok_or("\"x5c\" must be a non-empty array")?;
    list.iter()
        .map(|cert| {
            cert.as_str()
                .and_then(|b64| STANDARD.decode(b64).ok())
                .filter(|der| !der.is_empty())
                .ok_or_else(|| "\"x5c\" entries must be base64 (not base64url) DER".to_owned())
        })
        .collect()
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros.min(bytes.len().saturating_sub(1)));
    bytes
}

/// The public JWK of a P-256 point, with its RFC 7638 thumbprint as `kid`.
pub(crate) fn ec_public_jwk(point: &[u8]) -> Result<Value, String> {
    let (x, y) = match point {
        [0x04, rest @ ..] if rest.len() == 64 => rest.split_at(32),
        _ => return Err("not an uncompressed P-256 point".to_owned()),
    };
    let mut jwk = json!({
        "kty": "EC",
        "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(x),
        "y": URL_SAFE_NO_PAD.encode(y),
    });
    jwk["kid"] = Value::String(thumbprint(&jwk));
    Ok(jwk)
}

/// The public JWK of an RSA key, with its RFC 7638 thumbprint as `kid`.
pub(crate) fn rsa_public_jwk(n: &[u8], e: &[u8]) -> Value {
    let mut jwk = json!({
        "kty": "RSA",
        "n": URL_SAFE_NO_PAD.encode(n),
        "e": URL_SAFE_NO_PAD.encode(e),
    });
    jwk["kid"] = Value::String(thumbprint(&jwk));
    jwk
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
pub(crate) fn thumbprint(jwk: &Value) -> String {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str).unwrap_or_default();
    let canonical = match member("kty") {
        "RSA" => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            member("e"),
            member("n")
        ),
        _ => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            member("crv"),
            member("x"),
            member("y")
        ),
    };
    sha256_base64url(canonical.as_bytes())
}

/// RFC 8705 §3.1 `x5t#S256`: base64url of the SHA-256 of a certificate's DER.
pub(crate) fn certificate_thumbprint(cert_der: &[u8]) -> String {
    sha256_base64url(cert_der)
}

fn sha256_base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ec_jwk() -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode([1u8; 32]),
               "y": URL_SAFE_NO_PAD.encode([2u8; 32]), "kid": "k1", "alg": "ES256"})
    }

    #[test]
    fn parses_public_keys_and_their_fit() {
        let rsa = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0, 0xc1, 2]), "e": "AQAB"});
        let keys = parse_jwks(&json!({"keys": [ec_jwk(), rsa]})).expect("parses");
        assert_eq!(keys[0].kid.as_deref(), Some("k1"));
        assert!(keys[0].fits("ES256") && !keys[0].fits("RS256"));
        assert!(keys[1].fits("RS256") && keys[1].fits("PS256") && !keys[1].fits("ES256"));
        assert_eq!(
            keys[1].key,
            PublicKey::Rsa {
                n: vec![0xc1, 2],
                e: vec![1, 0, 1]
            }
        );
    }

    #[test]
    fn refuses_what_a_server_should_not_register() {
        let mut private = ec_jwk();
        private["d"] = json!("AAAA");
        let mut wrong_alg = ec_jwk();
        wrong_alg["alg"] = json!("RS256");
        let mut enc = ec_jwk();
        enc["use"] = json!("enc");
        let mut x5c_url = ec_jwk();
        x5c_url["x5c"] = json!(["-_-_"]);
        for (jwks, why) in [
            (json!({"keys": [private]}), "private member"),
            (json!({"keys": [wrong_alg]}), "does not fit"),
            (json!({"keys": [enc]}), "\"use\""),
            (json!({"keys": [x5c_url]}), "x5c"),
            (
                json!({"keys": [{"kty": "oct", "k": "AA"}]}),
                "private member",
            ),
            (json!({"keys": [{"kty": "OKP"}]}), "not supported"),
            (json!([]), "\"keys\" array"),
        ] {
            let error = parse_jwks(&jwks).expect_err(why);
            assert!(error.contains(why), "{error}");
        }
    }

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        // RFC 7638 §3.1.
        let jwk = json!({"kty": "RSA", "e": "AQAB", "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
        assert_eq!(
            thumbprint(&jwk),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
