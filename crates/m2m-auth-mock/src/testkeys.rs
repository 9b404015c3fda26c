//! Key and certificate generators for tests of clients that use `private_key_jwt` or
//! `self_signed_tls_client_auth`: every key is made fresh in memory, so no key is ever committed.
//!
//! ```
//! let key = m2m_auth_mock::testkeys::generate_signing_key("ES256").unwrap();
//! // Register key.public_jwk in a client's `jwks`; sign assertions with key.pkcs8_pem.
//! assert!(key.traditional_pem.starts_with("-----BEGIN EC PRIVATE KEY-----"));
//! ```

use std::fmt;

use aws_lc_rs::encoding::{AsBigEndian as _, AsDer as _};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

use serde::Serialize;

use crate::error::MockError;
use crate::{dn, jwk};

/// A signing key pair for client assertions, in every form a client library may ask for. Serializes (without
/// the DER) to the JSON the Python and Node testing modules hand out.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedKey {
    /// "RS256", "PS256" or "ES256".
    pub alg: String,
    /// The RFC 7638 thumbprint of the public key; also the `kid` of both JWKs.
    pub kid: String,
    /// PKCS#8 `PRIVATE KEY` PEM.
    pub pkcs8_pem: String,
    /// The same PKCS#8 key as DER.
    #[serde(skip)]
    pub pkcs8_der: Vec<u8>,
    /// PKCS#1 `RSA PRIVATE KEY` PEM for RSA keys; SEC1 `EC PRIVATE KEY` PEM (with the curve and the
    /// public key, as OpenSSL writes it) for EC keys.
    pub traditional_pem: String,
    /// The private JWK (with `kid` and `alg`).
    pub private_jwk: Value,
    /// The public JWK to register (with `kid`, `alg` and `"use": "sig"`).
    pub public_jwk: Value,
}

// Private key material never goes into a log line or a panic message.
impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("public_jwk", &self.public_jwk)
            .finish_non_exhaustive()
    }
}

/// A self-signed certificate and its key, for `self_signed_tls_client_auth`.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedCert {
    /// The certificate as PEM.
    pub cert_pem: String,
    /// The certificate as DER.
    #[serde(skip)]
    pub cert_der: Vec<u8>,
    /// Its P-256 private key, PKCS#8 `PRIVATE KEY` PEM.
    pub key_pem: String,
    /// The public JWK to register: EC P-256 with `kid`, `alg` "ES256", `x5c` (the certificate,
    /// standard base64 DER) and `x5t#S256`.
    pub jwk: Value,
    /// base64url SHA-256 of the certificate DER: the `cnf.x5t#S256` of tokens bound to it.
    pub x5t_s256: String,
}

impl fmt::Debug for GeneratedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedCert")
            .field("x5t_s256", &self.x5t_s256)
            .field("jwk", &self.jwk)
            .finish_non_exhaustive()
    }
}

fn failed(what: &str) -> impl Fn(String) -> MockError + '_ {
    move |why| MockError::Generate(format!("{what}: {why}"))
}

/// A fresh key pair for `alg`: "RS256" or "PS256" (RSA 2048) or "ES256" (P-256).
pub fn generate_signing_key(alg: &str) -> Result<GeneratedKey, MockError> {
    match alg {
        "RS256" | "PS256" => rsa_key(alg).map_err(failed("RSA key")),
        "ES256" => ec_key().map_err(failed("EC key")),
        other => Err(MockError::Generate(format!(
            "unsupported algorithm {other:?}; use RS256, PS256 or ES256"
        ))),
    }
}

fn rsa_key(alg: &str) -> Result<GeneratedKey, String> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| e.to_string())?;
    let pkcs8 = pair.as_der().map_err(|e| e.to_string())?.as_ref().to_vec();
    // aws-lc hands out only the PKCS#8 form; its privateKey is the PKCS#1 RSAPrivateKey.
    let info = pkcs8::PrivateKeyInfoRef::try_from(pkcs8.as_slice()).map_err(|e| e.to_string())?;
    let pkcs1 = info.private_key.as_bytes();
    let key = pkcs1::RsaPrivateKeyRef::try_from(pkcs1).map_err(|e| e.to_string())?;
    let mut public_jwk =
        jwk::rsa_public_jwk(key.modulus.as_bytes(), key.public_exponent.as_bytes());
    let kid = public_jwk["kid"].as_str().unwrap_or_default().to_owned();
    let mut private_jwk = public_jwk.clone();
    for (name, value) in [
        ("d", key.private_exponent),
        ("p", key.prime1),
        ("q", key.prime2),
        ("dp", key.exponent1),
        ("dq", key.exponent2),
        ("qi", key.coefficient),
    ] {
        private_jwk[name] = Value::String(URL_SAFE_NO_PAD.encode(value.as_bytes()));
    }
    private_jwk["alg"] = Value::String(alg.to_owned());
    public_jwk["alg"] = Value::String(alg.to_owned());
    public_jwk["use"] = Value::String("sig".to_owned());
    Ok(GeneratedKey {
        alg: alg.to_owned(),
        kid,
        pkcs8_pem: to_pem("PRIVATE KEY", &pkcs8),
        traditional_pem: to_pem("RSA PRIVATE KEY", pkcs1),
        pkcs8_der: pkcs8,
        private_jwk,
        public_jwk,
    })
}

fn ec_key() -> Result<GeneratedKey, String> {
    let pair =
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|e| e.to_string())?;
    let pkcs8 = pair
        .to_pkcs8v1()
        .map_err(|e| e.to_string())?
        .as_ref()
        .to_vec();
    // aws-lc writes the RFC 5915 ECPrivateKey with the curve OID and the public key, as OpenSSL does.
    let sec1 = pair
        .private_key()
        .as_der()
        .map_err(|e| e.to_string())?
        .as_ref()
        .to_vec();
    let scalar = pair
        .private_key()
        .as_be_bytes()
        .map_err(|e| e.to_string())?
        .as_ref()
        .to_vec();
    let mut public_jwk = jwk::ec_public_jwk(pair.public_key().as_ref())?;
    let kid = public_jwk["kid"].as_str().unwrap_or_default().to_owned();
    let mut private_jwk = public_jwk.clone();
    private_jwk["d"] = Value::String(URL_SAFE_NO_PAD.encode(scalar));
    private_jwk["alg"] = Value::String("ES256".to_owned());
    public_jwk["alg"] = Value::String("ES256".to_owned());
    public_jwk["use"] = Value::String("sig".to_owned());
    Ok(GeneratedKey {
        alg: "ES256".to_owned(),
        kid,
        pkcs8_pem: to_pem("PRIVATE KEY", &pkcs8),
        traditional_pem: to_pem("EC PRIVATE KEY", &sec1),
        pkcs8_der: pkcs8,
        private_jwk,
        public_jwk,
    })
}

/// PEM with LF line endings, as OpenSSL (and rcgen, for the certificates) write it.
pub(crate) fn to_pem(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der), config)
}

/// A self-signed P-256 certificate with subject `subject` (a common name, or an RFC 4514 DN such
/// as "CN=svc,O=Acme"), usable for TLS client authentication.
pub fn self_signed_certificate(subject: &str) -> Result<GeneratedCert, MockError> {
    let fail = failed("self-signed certificate");
    let key = rcgen::KeyPair::generate().map_err(|e| fail(e.to_string()))?;
    let mut params =
        rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| fail(e.to_string()))?;
    params.distinguished_name = dn::to_rcgen(subject).map_err(&fail)?;
    params
        .extended_key_usages
        .push(rcgen::ExtendedKeyUsagePurpose::ClientAuth);
    let cert = params.self_signed(&key).map_err(|e| fail(e.to_string()))?;
    let der = cert.der().to_vec();
    let x5t_s256 = jwk::certificate_thumbprint(&der);
    let mut jwk = jwk::ec_public_jwk(key.public_key_raw()).map_err(&fail)?;
    jwk["alg"] = Value::String("ES256".to_owned());
    jwk["x5c"] = Value::Array(vec![Value::String(STANDARD.encode(&der))]);
    jwk["x5t#S256"] = Value::String(x5t_s256.clone());
    Ok(GeneratedCert {
        cert_pem: cert.pem(),
        cert_der: der,
        key_pem: key.serialize_pem(),
        jwk,
        x5t_s256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_key_forms_agree() {
        let key = generate_signing_key("ES256").expect("key");
        assert!(key.pkcs8_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(key.public_jwk["kid"], key.kid);
        assert_eq!(key.private_jwk["x"], key.public_jwk["x"]);
        assert!(key.private_jwk.get("d").is_some() && key.public_jwk.get("d").is_none());
        // The SEC1 file carries the curve and the public key.
        let sec1 = pem::parse(&key.traditional_pem).expect("PEM");
        assert_eq!(sec1.tag(), "EC PRIVATE KEY");
        let ec = sec1::EcPrivateKey::try_from(sec1.contents()).expect("ECPrivateKey");
        assert_eq!(URL_SAFE_NO_PAD.encode(ec.private_key), key.private_jwk["d"]);
        assert!(ec.parameters.is_some(), "curve");
        let point = ec.public_key.expect("public key");
        let xy = [&key.public_jwk["x"], &key.public_jwk["y"]].map(|c| {
            URL_SAFE_NO_PAD
                .decode(c.as_str().unwrap_or_default())
                .expect("b64")
        });
        assert_eq!(
            point,
            [&[0x04][..], &xy[0], &xy[1]].concat(),
            "uncompressed point"
        );
        assert!(format!("{key:?}").contains(&key.kid));
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    #[test]
    fn pem_lines_are_64_characters_and_lf() {
        let pem = to_pem("TEST", &[0u8; 60]);
        let lines: Vec<&str> = pem.split('\n').collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN TEST-----"));
        assert_eq!(lines.get(1).map(|l| l.len()), Some(64));
        assert_eq!(lines.get(2).map(|l| l.len()), Some(16));
        assert_eq!(lines.get(3), Some(&"-----END TEST-----"));
        assert!(!pem.contains('\r'));
    }

    #[test]
    fn rsa_key_forms_agree() {
        let key = generate_signing_key("PS256").expect("key");
        assert_eq!(key.alg, "PS256");
        assert_eq!(key.public_jwk["alg"], "PS256");
        assert_eq!(key.public_jwk["e"], "AQAB");
        let member = |name: &str| {
            let b64 = key.private_jwk[name].as_str().unwrap_or_default();
            URL_SAFE_NO_PAD.decode(b64).expect(name)
        };
        assert_eq!(member("n").len(), 256, "2048 bits, no sign byte");
        for name in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(!member(name).is_empty() && member(name)[0] != 0, "{name}");
        }
        assert!(
            key.traditional_pem
                .starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
        );
        let parsed =
            jwk::parse_jwks(&serde_json::json!({"keys": [key.public_jwk]})).expect("registrable");
        assert!(parsed[0].fits("PS256"));
        assert!(generate_signing_key("HS256").is_err());
    }

    #[test]
    fn self_signed_certificate_has_the_subject_and_x5c() {
        let cert = self_signed_certificate("svc-self").expect("cert");
        assert_eq!(
            dn::certificate_subject(&cert.cert_der).as_deref(),
            Ok("CN=svc-self")
        );
        assert_eq!(cert.jwk["x5c"][0], STANDARD.encode(&cert.cert_der));
        assert_eq!(cert.jwk["x5t#S256"], cert.x5t_s256);
        let keys = jwk::parse_jwks(&serde_json::json!({"keys": [cert.jwk]})).expect("ok");
        assert_eq!(keys[0].x5c, vec![cert.cert_der.clone()]);
    }
}
