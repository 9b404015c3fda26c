//! The certificates of a TLS mock, generated at every start: one CA that signs the server's
//! certificate (for 127.0.0.1 and localhost) and issues client certificates for `tls_client_auth`.

use std::fmt;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;

use crate::dn;

/// The CA and the server certificate.
pub(crate) struct Pki {
    /// The CA certificate, PEM: what clients trust, and the issuer of client certificates.
    pub(crate) ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
    pub(crate) server_cert_der: Vec<u8>,
    /// PKCS#8.
    pub(crate) server_key_der: Vec<u8>,
    /// Checks that a client certificate chains to the CA (webpki: signatures, validity, EKU).
    chain_verifier: Arc<dyn ClientCertVerifier>,
}

// Keys stay out of Debug output.
impl fmt::Debug for Pki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pki").finish_non_exhaustive()
    }
}

impl Pki {
    pub(crate) fn generate() -> Result<Self, String> {
        let e = |e: rcgen::Error| e.to_string();
        let ca_key = KeyPair::generate().map_err(e)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
        ca.distinguished_name
            .push(DnType::CommonName, "m2m-auth-mock CA");
        ca.distinguished_name
            .push(DnType::OrganizationName, "m2m-auth-mock");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).map_err(e)?;
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().map_err(e)?;
        let mut server =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .map_err(e)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let server_cert = server.signed_by(&server_key, &issuer).map_err(e)?;

        let mut roots = RootCertStore::empty();
        roots
            .add(ca_cert.der().clone())
            .map_err(|e| format!("CA certificate rejected: {e}"))?;
        let chain_verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), super::provider())
                .build()
                .map_err(|e| e.to_string())?;
        Ok(Pki {
            ca_pem: ca_cert.pem(),
            issuer,
            server_cert_der: server_cert.der().to_vec(),
            server_key_der: server_key.serialize_der(),
            chain_verifier,
        })
    }

    /// A client certificate and its P-256 key (PKCS#8), both PEM, signed by the CA, with
    /// `subject` (an RFC 4514 DN, or a bare common name).
    pub(crate) fn issue_client_certificate(
        &self,
        subject: &str,
    ) -> Result<(String, String), String> {
        let key = KeyPair::generate().map_err(|e| e.to_string())?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
        params.distinguished_name = dn::to_rcgen(subject)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| e.to_string())?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// Whether a presented chain (leaf first) chains to the CA.
    pub(crate) fn verify_chain(&self, chain: &[CertificateDer<'static>]) -> Result<(), String> {
        let (leaf, intermediates) = chain.split_first().ok_or("no certificate")?;
        self.chain_verifier
            .verify_client_cert(leaf, intermediates, UnixTime::now())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
