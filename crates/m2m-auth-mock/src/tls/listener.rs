//! An `axum::serve::Listener` for TLS. Handshakes run in their own tasks with a timeout, so a client
//! that connects and then says nothing (or is slow) never holds up the connections behind it; only
//! completed handshakes reach axum, each with its `Connection` (port and client certificate).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::connection::{Connection, Endpoint};

/// A handshake that takes longer than this is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Completed handshakes waiting for axum to take them.
const QUEUE: usize = 64;

type Accepted = (TlsStream<TcpStream>, Connection);

#[derive(Debug)]
pub(crate) struct TlsListener {
    accepted: mpsc::Receiver<Accepted>,
    endpoint: Endpoint,
}

impl TlsListener {
    /// Starts accepting on `tcp` in a task of `runtime`; the task ends once this listener is
    /// dropped (when the server stops).
    pub(crate) fn spawn(
        runtime: &tokio::runtime::Handle,
        tcp: TcpListener,
        config: Arc<ServerConfig>,
        endpoint: Endpoint,
    ) -> Self {
        let (tx, accepted) = mpsc::channel(QUEUE);
        runtime.spawn(accept_loop(tcp, TlsAcceptor::from(config), endpoint, tx));
        TlsListener { accepted, endpoint }
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    endpoint: Endpoint,
    tx: mpsc::Sender<Accepted>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = tcp.accept() => accepted,
            () = tx.closed() => return,
        };
        let (stream, remote) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // As axum's own TCP listener does: a connection that died in the backlog is
                // skipped, anything else (e.g. out of file descriptors) is waited out.
                if !matches!(
                    error.kind(),
                    io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                ) {
                    tracing::warn!(%error, "m2m-auth-mock: accept failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let client_certs = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .map(|chain| chain.iter().map(|c| c.clone().into_owned()).collect());
                    let connection = Connection {
                        endpoint,
                        client_certs,
                    };
                    // Fails only when the server has stopped; the connection is then dropped.
                    let _ = tx.send((tls, connection)).await;
                }
                Ok(Err(error)) => tracing::debug!(%remote, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = Connection;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(accepted) => accepted,
            // The accept task is gone (its runtime is shutting down): nothing will come any more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        // axum asks only to log it; the port is what matters, and it has no certificate.
        Ok(Connection {
            endpoint: self.endpoint,
            client_certs: None,
        })
    }
}
