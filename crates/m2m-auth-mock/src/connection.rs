//! What the token endpoint and the API know about the connection a request came on: which port
//! (main or the mTLS alias) and the client certificate chain presented in the TLS handshake, if any.
//! axum hands it to handlers as `ConnectInfo<Connection>`.

use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::extract::connect_info::Connected;
use axum::http::request::Parts;
use axum::serve::IncomingStream;
use rustls_pki_types::CertificateDer;
use tokio::net::TcpListener;

use crate::tls::TlsListener;

/// The port a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// The server's URL: plain HTTP, or HTTPS without client certificates.
    Main,
    /// The mTLS endpoint alias (RFC 8705 §5), where a client certificate may be presented.
    MtlsAlias,
}

#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub(crate) endpoint: Endpoint,
    /// The presented certificate chain, leaf first; `None` when none was presented.
    pub(crate) client_certs: Option<Arc<[CertificateDer<'static>]>>,
}

impl Connection {
    /// The connection a request came on. Every listener of the server provides it; the fallback
    /// (the main port, no certificate) only serves a router mounted some other way.
    pub(crate) fn of(parts: &Parts) -> Connection {
        parts
            .extensions
            .get::<ConnectInfo<Connection>>()
            .map(|ConnectInfo(c)| c.clone())
            .unwrap_or(Connection {
                endpoint: Endpoint::Main,
                client_certs: None,
            })
    }

    /// The leaf certificate presented, if any.
    pub(crate) fn client_cert(&self) -> Option<&CertificateDer<'static>> {
        self.client_certs.as_deref().and_then(<[_]>::first)
    }
}

impl Connected<IncomingStream<'_, TcpListener>> for Connection {
    fn connect_info(_stream: IncomingStream<'_, TcpListener>) -> Self {
        Connection {
            endpoint: Endpoint::Main,
            client_certs: None,
        }
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}
