//! HTTPS and mutual TLS (RFC 8705) for `tls: true`: the certificates generated at start, the rustls
//! server configurations of the two ports, and the listener that performs handshakes.

mod any_client_cert;
mod listener;
pub(crate) mod pki;

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub(crate) use listener::TlsListener;
pub(crate) use pki::Pki;

use crate::error::MockError;
use any_client_cert::AnyClientCert;

/// Everything TLS needs at start: the PKI and the two server configurations.
#[derive(Debug)]
pub(crate) struct TlsSetup {
    pub(crate) pki: Pki,
    /// The main port: HTTPS, no client certificate asked for.
    pub(crate) main: Arc<ServerConfig>,
    /// The mTLS alias: a client certificate is asked for but optional, and any well-formed one is
    /// accepted; the token endpoint decides per client whether it authenticates.
    pub(crate) alias: Arc<ServerConfig>,
}

/// aws-lc-rs, explicitly: the process-wide default provider may be unset, or another one.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

impl TlsSetup {
    pub(crate) fn generate() -> Result<Self, MockError> {
        let pki = Pki::generate().map_err(MockError::Tls)?;
        let main = server_config(&pki, None)?;
        let verifier = Arc::new(AnyClientCert::new(&provider()));
        let alias = server_config(&pki, Some(verifier))?;
        Ok(TlsSetup { pki, main, alias })
    }
}

fn server_config(
    pki: &Pki,
    client_auth: Option<Arc<AnyClientCert>>,
) -> Result<Arc<ServerConfig>, MockError> {
    let tls_error = |e: rustls::Error| MockError::Tls(e.to_string());
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    let builder = match client_auth {
        Some(verifier) => builder.with_client_cert_verifier(verifier),
        None => builder.with_no_client_auth(),
    };
    let chain = vec![CertificateDer::from(pki.server_cert_der.clone())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key_der.clone()));
    let mut config = builder.with_single_cert(chain, key).map_err(tls_error)?;
    // The server speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
