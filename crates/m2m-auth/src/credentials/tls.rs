//! TLS settings of the client's HTTP connections: the client certificate for mutual TLS (RFC 8705) and the CA
//! bundle of a private PKI. Both are checked when the client is built, so a wrong file is a `ConfigError` at
//! start-up rather than a handshake failure at the first request.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// A client certificate chain (leaf first) and its private key.
#[derive(Clone)]
pub struct ClientCertificate {
    identity: reqwest::Identity,
    thumbprint: String,
    /// SHA-256 of the private key's DER: what a shared cache's encryption key is derived from.
    key_digest: Arc<Zeroizing<Vec<u8>>>,
}

impl ClientCertificate {
    /// From PEM text: `cert_pem` holds the leaf certificate and any intermediates, `key_pem` its private key
    /// (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self> {
        let certs = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::config("client_cert", format!("is not PEM certificates: {e}")))?;
        let leaf = certs
            .first()
            .ok_or_else(|| Error::config("client_cert", "holds no PEM CERTIFICATE"))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| Error::config("client_key", format!("is not a PEM private key: {e}")))?;
        // A copy of the key, zeroed when dropped.
        let mut both = Zeroizing::new(key_pem.to_vec());
        both.push(b'\n');
        both.extend_from_slice(cert_pem);
        let identity = reqwest::Identity::from_pem(&both).map_err(|e| {
            Error::config("client_cert", format!("and client_key cannot be used: {e}"))
        })?;
        Ok(Self {
            identity,
            thumbprint: URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, leaf.as_ref())),
            // Of the key itself, not its PEM text: PKCS#1 and PKCS#8 of one key, or CRLF line ends, differ as
            // text. (PKCS#1 and PKCS#8 still differ as DER; hosts of one fleet are given one file.)
            key_digest: Arc::new(Zeroizing::new(
                digest::digest(&digest::SHA256, key.secret_der())
                    .as_ref()
                    .to_vec(),
            )),
        })
    }

    /// The RFC 8705 `x5t#S256` of the leaf certificate: what a bound token's `cnf` claim must hold.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    pub(crate) fn key_digest(&self) -> &[u8] {
        &self.key_digest
    }

    pub(crate) fn identity(&self) -> reqwest::Identity {
        self.identity.clone()
    }
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t#S256", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// The CA certificates to trust instead of the system's, for a token endpoint on a private PKI.
#[derive(Clone)]
pub struct CaBundle {
    certs: Vec<reqwest::Certificate>,
    /// The PEM as given, for the shared cache's TLS connection (redis-rs takes PEM).
    pem: Arc<Vec<u8>>,
}

impl CaBundle {
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::config("ca_bundle", format!("is not PEM certificates: {e}")))?;
        if certs.is_empty() {
            return Err(Error::config("ca_bundle", "holds no PEM CERTIFICATE"));
        }
        Ok(Self {
            certs,
            pem: Arc::new(pem.to_vec()),
        })
    }

    pub(crate) fn certificates(&self) -> Vec<reqwest::Certificate> {
        self.certs.clone()
    }

    pub(crate) fn pem(&self) -> &[u8] {
        &self.pem
    }
}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaBundle({} certificates)", self.certs.len())
    }
}
