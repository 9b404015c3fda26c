//! The client's private key for `private_key_jwt`: loaded from PEM (PKCS#8, PKCS#1, SEC1) or a JWK, and the
//! JWS algorithm it signs with. Its Debug output shows the algorithm and key id, never key material.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPairComponents;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The JWS algorithms a private key can sign client assertions with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
}

impl SigningAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
        }
    }

    /// Parses a JWS `alg` name; `field` is the setting it came from, for the error.
    pub fn parse(name: &str, field: &str) -> Result<Self> {
        match name {
            "RS256" => Ok(Self::RS256),
            "PS256" => Ok(Self::PS256),
            "ES256" => Ok(Self::ES256),
            other => Err(Error::config(
                field,
                format!(
                    "{other:?} is not a supported signing algorithm; use RS256, PS256 or ES256"
                ),
            )),
        }
    }
}

#[derive(Clone)]
enum KeyPair {
    Rsa(Arc<RsaKeyPair>),
    Ec(Arc<EcdsaKeyPair>),
}

/// A private key that signs client assertions.
#[derive(Clone)]
pub struct SigningKey {
    pair: KeyPair,
    alg: SigningAlg,
    kid: Option<String>,
}

const FIELD: &str = "private_key";

impl SigningKey {
    /// A key from PEM text: `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1) or `EC PRIVATE KEY` (SEC1).
    /// RSA keys sign RS256 unless [`Self::with_alg`] says PS256; P-256 keys sign ES256.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        if contains(pem, b"ENCRYPTED PRIVATE KEY") || contains(pem, b"Proc-Type: 4,ENCRYPTED") {
            return Err(Error::config(
                FIELD,
                "is encrypted; give the decrypted key (e.g. from your secret store)",
            ));
        }
        // The decoded key is zeroed when dropped; the key pair keeps its own copy (aws-lc clears it on free).
        let der = Zeroizing::new(PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
            Error::config(
                FIELD,
                format!("is not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"),
            )
        })?);
        let pair = match &*der {
            PrivateKeyDer::Pkcs1(k) => rsa(RsaKeyPair::from_der(k.secret_pkcs1_der()))?,
            PrivateKeyDer::Sec1(k) => ec(EcdsaKeyPair::from_private_key_der(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                k.secret_sec1_der(),
            ))?,
            PrivateKeyDer::Pkcs8(k) => {
                let der = k.secret_pkcs8_der();
                match RsaKeyPair::from_pkcs8(der) {
                    Ok(pair) => rsa(Ok(pair))?,
                    Err(_) => ec(EcdsaKeyPair::from_pkcs8(
                        &ECDSA_P256_SHA256_FIXED_SIGNING,
                        der,
                    ))?,
                }
            }
            _ => {
                return Err(Error::config(
                    FIELD,
                    "is of a kind that is not supported; use RSA or EC P-256",
                ));
            }
        };
        Ok(Self::new(pair, None))
    }

    /// A key from a private JWK (`kty` RSA with `n e d p q dp dq qi`, or EC P-256 with `x y d`). Its `kid` and
    /// `alg`, when present, are used.
    pub fn from_jwk(jwk: &str) -> Result<Self> {
        let jwk: Value = serde_json::from_str(jwk)
            .map_err(|e| Error::config(FIELD, format!("is not valid JWK JSON: {e}")))?;
        // Private members are zeroed when dropped.
        let member = |name: &str| -> Result<Zeroizing<Vec<u8>>> {
            let text = jwk
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| Error::config(FIELD, format!("JWK has no {name:?} member")))?;
            URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .map(Zeroizing::new)
                .map_err(|_| Error::config(FIELD, format!("JWK member {name:?} is not base64url")))
        };
        let pair = match jwk.get("kty").and_then(Value::as_str) {
            Some("RSA") => {
                let (n, e, d) = (member("n")?, member("e")?, member("d")?);
                let (p, q) = (member("p")?, member("q")?);
                let (dp, dq, qi) = (member("dp")?, member("dq")?, member("qi")?);
                rsa(RsaKeyPair::from_components(&KeyPairComponents {
                    public_key: aws_lc_rs::rsa::PublicKeyComponents {
                        n: n.to_vec(),
                        e: e.to_vec(),
                    },
                    d,
                    p,
                    q,
                    dP: dp,
                    dQ: dq,
                    qInv: qi,
                }))?
            }
            Some("EC") => {
                let crv = jwk.get("crv").and_then(Value::as_str);
                if crv != Some("P-256") {
                    return Err(Error::config(
                        FIELD,
                        format!("JWK curve {crv:?} is not supported; use P-256"),
                    ));
                }
                let mut public = vec![0x04];
                public.extend(member("x")?.iter());
                public.extend(member("y")?.iter());
                ec(EcdsaKeyPair::from_private_key_and_public_key(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &member("d")?,
                    &public,
                ))?
            }
            other => {
                return Err(Error::config(
                    FIELD,
                    format!("JWK kty {other:?} is not supported; use RSA or EC"),
                ));
            }
        };
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        let key = Self::new(pair, kid);
        match jwk.get("alg").and_then(Value::as_str) {
            Some(alg) => key.with_alg(SigningAlg::parse(alg, FIELD)?),
            None => Ok(key),
        }
    }

    /// A key from text that is either PEM or a JWK (it starts with `{`).
    pub fn from_text(text: &[u8]) -> Result<Self> {
        if text.trim_ascii_start().starts_with(b"{") {
            let json =
                std::str::from_utf8(text).map_err(|_| Error::config(FIELD, "JWK is not UTF-8"))?;
            Self::from_jwk(json)
        } else {
            Self::from_pem(text)
        }
    }

    fn new(pair: KeyPair, kid: Option<String>) -> Self {
        let alg = match pair {
            KeyPair::Rsa(_) => SigningAlg::RS256,
            KeyPair::Ec(_) => SigningAlg::ES256,
        };
        Self { pair, alg, kid }
    }

    /// Signs with `alg` instead of the key type's default; it must fit the key.
    pub fn with_alg(mut self, alg: SigningAlg) -> Result<Self> {
        let fits = matches!(
            (&self.pair, alg),
            (KeyPair::Rsa(_), SigningAlg::RS256 | SigningAlg::PS256)
                | (KeyPair::Ec(_), SigningAlg::ES256)
        );
        if !fits {
            let kind = match self.pair {
                KeyPair::Rsa(_) => "an RSA key (RS256 or PS256)",
                KeyPair::Ec(_) => "an EC P-256 key (ES256)",
            };
            return Err(Error::config(
                "signing_alg",
                format!("{} does not fit {kind}", alg.as_str()),
            ));
        }
        self.alg = alg;
        Ok(self)
    }

    /// Sets the `kid` header of assertions, so the server can pick the key from the client's JWKS.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// SHA-256 of the public key: names the key (in a shared cache's key) without revealing it.
    pub(crate) fn public_digest(&self) -> Vec<u8> {
        use aws_lc_rs::signature::KeyPair as _;
        let public = match &self.pair {
            KeyPair::Rsa(pair) => pair.public_key().as_ref().to_vec(),
            KeyPair::Ec(pair) => pair.public_key().as_ref().to_vec(),
        };
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &public)
            .as_ref()
            .to_vec()
    }

    /// The private key's bytes (PKCS#8 for RSA, the scalar for EC), zeroed when dropped: what a shared cache's
    /// encryption key is derived from, so that only holders of the key can read its entries.
    pub(crate) fn secret_material(&self) -> Result<Zeroizing<Vec<u8>>> {
        use aws_lc_rs::encoding::{AsBigEndian as _, AsDer as _};
        let failed =
            |_| Error::Internal("the private key cannot be exported for the cache key".into());
        let bytes = match &self.pair {
            KeyPair::Rsa(pair) => pair.as_der().map_err(failed)?.as_ref().to_vec(),
            KeyPair::Ec(pair) => pair
                .private_key()
                .as_be_bytes()
                .map_err(failed)?
                .as_ref()
                .to_vec(),
        };
        Ok(Zeroizing::new(bytes))
    }

    /// The JWS signature of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let failed = || Error::Internal("signing the client assertion failed".into());
        match &self.pair {
            KeyPair::Rsa(pair) => {
                let padding = match self.alg {
                    SigningAlg::PS256 => &RSA_PSS_SHA256,
                    _ => &RSA_PKCS1_SHA256,
                };
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(padding, &SystemRandom::new(), message, &mut signature)
                    .map_err(|_| failed())?;
                Ok(signature)
            }
            KeyPair::Ec(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| failed()),
        }
    }
}

fn rsa(pair: std::result::Result<RsaKeyPair, aws_lc_rs::error::KeyRejected>) -> Result<KeyPair> {
    pair.map(|p| KeyPair::Rsa(Arc::new(p))).map_err(|e| {
        Error::config(
            FIELD,
            format!("is not a usable RSA key (2048 bits or more): {e}"),
        )
    })
}

fn ec(pair: std::result::Result<EcdsaKeyPair, aws_lc_rs::error::KeyRejected>) -> Result<KeyPair> {
    pair.map(|p| KeyPair::Ec(Arc::new(p))).map_err(|e| {
        Error::config(
            FIELD,
            format!("is neither a usable RSA key nor an EC P-256 key: {e}"),
        )
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}
