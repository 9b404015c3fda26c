//! Access tokens as compact JWS (RFC 7515): the header and claims decoded, and the signature checked with a
//! key of the issuer's JWKS under strict algorithm rules. The algorithm must be one the verifier allows, and
//! the key must fit it: its type, its curve, its own `alg` if it states one, and a `use` of `sig`. `none` is
//! never an algorithm, and neither is HMAC: a public key is no shared secret (the RFC 8725 §2.1 confusion).

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// The signature algorithms a verifier may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

/// RS256, PS256, ES256 and EdDSA: what the verifier accepts unless told otherwise.
pub const DEFAULT_ALGS: [Alg; 4] = [Alg::RS256, Alg::PS256, Alg::ES256, Alg::EdDSA];

impl Alg {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "RS256" => Self::RS256,
            "RS384" => Self::RS384,
            "RS512" => Self::RS512,
            "PS256" => Self::PS256,
            "PS384" => Self::PS384,
            "PS512" => Self::PS512,
            "ES256" => Self::ES256,
            "ES384" => Self::ES384,
            "EdDSA" => Self::EdDSA,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The JWK `kty` (and `crv`) a key of this algorithm has.
    fn fits(self, key: &KeyKind) -> bool {
        matches!(
            (self, key),
            (
                Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512,
                KeyKind::Rsa { .. }
            ) | (
                Self::ES256,
                KeyKind::Ec {
                    curve: Curve::P256,
                    ..
                }
            ) | (
                Self::ES384,
                KeyKind::Ec {
                    curve: Curve::P384,
                    ..
                }
            ) | (Self::EdDSA, KeyKind::Ed25519 { .. })
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
}

/// A public key's material, as its JWK gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyKind {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// The uncompressed point (0x04 ‖ x ‖ y).
    Ec {
        curve: Curve,
        point: Vec<u8>,
    },
    Ed25519 {
        x: Vec<u8>,
    },
}

/// A verification key of a JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicKey {
    pub kid: Option<String>,
    /// The key's own `alg`, if it states one: then only that algorithm.
    alg: Option<String>,
    kind: KeyKind,
}

fn b64(value: Option<&Value>) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(value?.as_str()?.trim_end_matches('='))
        .ok()
}

impl PublicKey {
    /// A JWK of a JWKS; `None` for one that is no public signature key this verifier can use (an encryption
    /// key, a symmetric one, an unknown type or curve, one whose `use`, `key_ops` or `alg` is not what a
    /// verification key has): the others still verify. A key published with its private parts is refused
    /// too: anyone who read the JWKS could sign with it.
    pub fn from_jwk(jwk: &Value) -> Option<Self> {
        let member = |name: &str| jwk.get(name);
        if ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
            .iter()
            .any(|private| member(private).is_some())
        {
            return None;
        }
        match member("use") {
            None => {}
            Some(Value::String(u)) if u == "sig" => {}
            Some(_) => return None,
        }
        match member("key_ops") {
            None => {}
            Some(Value::Array(ops)) if ops.iter().any(|o| o.as_str() == Some("verify")) => {}
            Some(_) => return None,
        }
        let alg = match member("alg") {
            None => None,
            Some(Value::String(a)) => Some(a.clone()),
            Some(_) => return None,
        };
        let kind = match member("kty")?.as_str()? {
            "RSA" => KeyKind::Rsa {
                n: b64(member("n"))?,
                e: b64(member("e"))?,
            },
            "EC" => {
                let (curve, len) = match member("crv")?.as_str()? {
                    "P-256" => (Curve::P256, 32),
                    "P-384" => (Curve::P384, 48),
                    _ => return None,
                };
                let (x, y) = (b64(member("x"))?, b64(member("y"))?);
                if x.len() != len || y.len() != len {
                    return None;
                }
                KeyKind::Ec {
                    curve,
                    point: [&[0x04][..], &x, &y].concat(),
                }
            }
            "OKP" if member("crv")?.as_str()? == "Ed25519" => KeyKind::Ed25519 {
                x: b64(member("x"))?,
            },
            _ => return None,
        };
        Some(Self {
            kid: member("kid").and_then(Value::as_str).map(str::to_owned),
            alg,
            kind,
        })
    }

    /// Whether this key may verify a signature of `alg`.
    pub fn accepts(&self, alg: Alg) -> bool {
        alg.fits(&self.kind) && self.alg.as_deref().is_none_or(|a| a == alg.as_str())
    }

    /// Whether `signature` over `message` is this key's, with `alg` (which the key must accept).
    pub fn verifies(&self, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
        if !self.accepts(alg) {
            return false;
        }
        let rsa = |params: &'static signature::RsaParameters, n: &[u8], e: &[u8]| {
            signature::RsaPublicKeyComponents { n, e }
                .verify(params, message, signature)
                .is_ok()
        };
        let unparsed = |algorithm: &'static dyn VerificationAlgorithm, key: &[u8]| {
            UnparsedPublicKey::new(algorithm, key)
                .verify(message, signature)
                .is_ok()
        };
        match (&self.kind, alg) {
            (KeyKind::Rsa { n, e }, Alg::RS256) => {
                rsa(&signature::RSA_PKCS1_2048_8192_SHA256, n, e)
            }
            (KeyKind::Rsa { n, e }, Alg::RS384) => {
                rsa(&signature::RSA_PKCS1_2048_8192_SHA384, n, e)
            }
            (KeyKind::Rsa { n, e }, Alg::RS512) => {
                rsa(&signature::RSA_PKCS1_2048_8192_SHA512, n, e)
            }
            (KeyKind::Rsa { n, e }, Alg::PS256) => rsa(&signature::RSA_PSS_2048_8192_SHA256, n, e),
            (KeyKind::Rsa { n, e }, Alg::PS384) => rsa(&signature::RSA_PSS_2048_8192_SHA384, n, e),
            (KeyKind::Rsa { n, e }, Alg::PS512) => rsa(&signature::RSA_PSS_2048_8192_SHA512, n, e),
            (KeyKind::Ec { point, .. }, Alg::ES256) => {
                unparsed(&signature::ECDSA_P256_SHA256_FIXED, point)
            }
            (KeyKind::Ec { point, .. }, Alg::ES384) => {
                unparsed(&signature::ECDSA_P384_SHA384_FIXED, point)
            }
            (KeyKind::Ed25519 { x }, Alg::EdDSA) => unparsed(&signature::ED25519, x),
            _ => false,
        }
    }
}

/// A compact JWS taken apart, its signature not yet checked.
#[derive(Debug)]
pub(crate) struct Jws<'a> {
    pub alg: Alg,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub claims: Map<String, Value>,
    /// `header.payload`: what the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

/// Whether `token` has the shape of a compact JWS (three parts): checked as a JWT, anything else as an
/// opaque token.
pub(crate) fn is_compact_jws(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

/// Why a token is no JWS this verifier can check: for the `error_description` of a 401.
pub(crate) fn parse<'a>(token: &'a str, allowed: &[Alg]) -> Result<Jws<'a>, String> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the token is not a JWT (three base64url parts separated by dots)".into());
    };
    let object = |part: &str, what: &str| -> Result<Map<String, Value>, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| format!("the token's {what} is not base64url"))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(format!("the token's {what} is not a JSON object")),
        }
    };
    let header_map = object(header, "header")?;
    let alg_name = header_map.get("alg").and_then(Value::as_str).unwrap_or("");
    let alg = Alg::parse(alg_name)
        .filter(|a| allowed.contains(a))
        .ok_or_else(|| {
            format!(
                "the token's algorithm '{}' is not accepted",
                crate::error::server_text(&alg_name.chars().take(16).collect::<String>())
            )
        })?;
    // RFC 7515 §4.1.11: a critical extension this verifier does not know makes the token unusable.
    if header_map.contains_key("crit") {
        return Err(
            "the token has critical header parameters (crit) this verifier does not support".into(),
        );
    }
    let claims = object(payload, "claims")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "the token's signature is not base64url".to_owned())?;
    Ok(Jws {
        alg,
        kid: header_map
            .get("kid")
            .and_then(Value::as_str)
            .map(str::to_owned),
        typ: header_map
            .get("typ")
            .and_then(Value::as_str)
            .map(str::to_owned),
        claims,
        signing_input: &token[..header.len() + 1 + payload.len()],
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    use serde_json::json;

    fn b64u(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn es256() -> (EcdsaKeyPair, Value) {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("key");
        let point = pair.public_key().as_ref().to_vec();
        let jwk = json!({"kty": "EC", "crv": "P-256", "kid": "k1", "x": b64u(&point[1..33]), "y": b64u(&point[33..])});
        (pair, jwk)
    }

    fn signed(pair: &EcdsaKeyPair, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64u(header.to_string().as_bytes()),
            b64u(claims.to_string().as_bytes())
        );
        let sig = pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("sign");
        format!("{input}.{}", b64u(sig.as_ref()))
    }

    #[test]
    fn a_token_signed_with_the_key_verifies_and_a_tampered_one_does_not() {
        let (pair, jwk) = es256();
        let key = PublicKey::from_jwk(&jwk).expect("key");
        let token = signed(
            &pair,
            &json!({"alg": "ES256", "kid": "k1", "typ": "at+jwt"}),
            &json!({"sub": "svc"}),
        );
        let jws = parse(&token, &DEFAULT_ALGS).expect("parses");
        assert_eq!((jws.alg, jws.kid.as_deref()), (Alg::ES256, Some("k1")));
        assert_eq!(jws.typ.as_deref(), Some("at+jwt"));
        assert_eq!(jws.claims["sub"], json!("svc"));
        assert!(key.verifies(jws.alg, jws.signing_input.as_bytes(), &jws.signature));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = b64u(json!({"sub": "admin"}).to_string().as_bytes());
        let tampered = parts.join(".");
        let jws = parse(&tampered, &DEFAULT_ALGS).expect("parses");
        assert!(!key.verifies(jws.alg, jws.signing_input.as_bytes(), &jws.signature));
    }

    #[test]
    fn none_hmac_and_algorithms_not_allowed_are_refused() {
        for alg in ["none", "HS256", "RS384"] {
            let header = b64u(json!({"alg": alg}).to_string().as_bytes());
            let token = format!("{header}.{}.", b64u(b"{}"));
            let e = parse(&token, &DEFAULT_ALGS).expect_err(alg);
            assert!(e.contains("not accepted"), "{alg}: {e}");
        }
    }

    #[test]
    fn a_key_verifies_only_the_algorithms_that_fit_it() {
        let (_, mut jwk) = es256();
        let key = PublicKey::from_jwk(&jwk).expect("key");
        assert!(key.accepts(Alg::ES256) && !key.accepts(Alg::RS256) && !key.accepts(Alg::ES384));
        jwk["alg"] = json!("ES384");
        assert!(
            !PublicKey::from_jwk(&jwk).expect("key").accepts(Alg::ES256),
            "its own alg rules"
        );
        jwk["use"] = json!("enc");
        assert!(
            PublicKey::from_jwk(&jwk).is_none(),
            "an encryption key is no signature key"
        );
        assert!(PublicKey::from_jwk(&json!({"kty": "oct", "k": "c2VjcmV0"})).is_none());
        let (_, good) = es256();
        for (member, value) in [
            ("d", json!("c2VjcmV0")),
            ("use", json!(["sig"])),
            ("alg", json!(7)),
            ("key_ops", json!(["sign"])),
            ("key_ops", json!("verify")),
        ] {
            let mut jwk = good.clone();
            jwk[member] = value.clone();
            assert!(PublicKey::from_jwk(&jwk).is_none(), "{member}: {value}");
        }
        let mut jwk = good;
        jwk["key_ops"] = json!(["verify"]);
        assert!(PublicKey::from_jwk(&jwk).is_some());
    }

    #[test]
    fn malformed_tokens_say_what_is_wrong() {
        for (token, says) in [
            ("abc", "three base64url parts"),
            ("a.b.c.d", "three base64url parts"),
            ("!!.e30.", "header is not base64url"),
            ("WzFd.e30.", "header is not a JSON object"),
        ] {
            let e = parse(token, &DEFAULT_ALGS).expect_err(token);
            assert!(e.contains(says), "{token}: {e}");
        }
    }
}
