//! `MockServer`: starts the server on 127.0.0.1 and is the handle tests and bindings hold.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::MockConfig;
use crate::error::MockError;
use crate::faults::Fault;
use crate::jwt::SigningKey;
use crate::router::router;
use crate::state::{MockStats, RecordedRequest, Shared};

/// A running mock authorization server. Dropping it stops the server.
///
/// All methods but `start` are synchronous and may be called from any thread.
pub struct MockServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.url())
            .field("issuer", &self.shared.issuer)
            .field("clients", &self.shared.config.clients.len())
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Binds 127.0.0.1:`config.port` and serves in a task spawned on the current Tokio runtime.
    pub async fn start(config: MockConfig) -> Result<MockServer, MockError> {
        config.validate()?;
        // `tokio::spawn` would panic outside a runtime; say so as an error instead.
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| MockError::NoRuntime)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
            .await
            .map_err(|source| MockError::Bind {
                port: config.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| MockError::Bind {
            port: config.port,
            source,
        })?;
        let key = SigningKey::generate()?;
        let shared = Arc::new(Shared::new(config, format!("http://{addr}"), key));
        let (shutdown, mut stop) = watch::channel(false);
        let app = router(Arc::clone(&shared));
        runtime.spawn(async move {
            // Resolves on `shutdown()`, or when the handle is dropped (the sender goes away).
            let signal = async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            };
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await
            {
                tracing::warn!(%error, "m2m-auth-mock server stopped with an error");
            }
        });
        tracing::debug!(%addr, "m2m-auth-mock listening");
        Ok(MockServer {
            shared,
            addr,
            shutdown,
        })
    }

    /// "http://127.0.0.1:PORT", no trailing slash.
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `iss` of tokens and metadata.
    pub fn issuer(&self) -> String {
        self.shared.issuer.clone()
    }

    /// `url()` + "/oauth2/token".
    pub fn token_url(&self) -> String {
        self.shared.token_url()
    }

    /// `url()` + "/jwks".
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.shared.base_url)
    }

    /// The configuration the server was started with.
    pub fn config(&self) -> &MockConfig {
        &self.shared.config
    }

    /// Every request to the token endpoint since start or reset, whatever its outcome.
    pub fn token_requests(&self) -> u64 {
        self.shared.stats().token_requests
    }

    /// Token requests that presented `client_id` (authenticated or not).
    pub fn token_requests_for(&self, client_id: &str) -> u64 {
        self.shared
            .stats()
            .by_client
            .get(client_id)
            .copied()
            .unwrap_or(0)
    }

    /// Successful token responses.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.stats().tokens_issued
    }

    /// All counters at once, as `GET /mock/stats` reports them.
    pub fn stats(&self) -> MockStats {
        self.shared.stats()
    }

    /// Appends faults to the FIFO; each token request consumes one application of the oldest.
    pub fn push_faults(&self, faults: Vec<Fault>) {
        self.shared.push_faults(faults);
    }

    /// Fault applications still pending.
    pub fn pending_faults(&self) -> u64 {
        self.shared.pending_faults()
    }

    /// The recorded token-endpoint requests, oldest first (the last 10 000).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// Sets the lifetime of tokens issued from now on.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.shared.set_token_lifetime_secs(secs);
    }

    /// Clears counters, faults and recorded requests; the lifetime goes back to the configured one.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// The JWKS document the server publishes.
    pub fn jwks(&self) -> serde_json::Value {
        crate::discovery::jwks(&self.shared)
    }

    /// The authorization server metadata document the server publishes.
    pub fn metadata(&self) -> serde_json::Value {
        crate::discovery::metadata(&self.shared)
    }

    /// Checks an access token's signature (ES256, this server's key) and `exp`/`nbf`; returns its claims.
    pub fn verify_access_token(&self, token: &str) -> Result<serde_json::Value, String> {
        self.shared.key.verify(token)
    }

    /// Stops accepting connections; idle connections are closed and in-flight requests finish.
    /// Idempotent.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Whether `shutdown` has been called.
    pub fn is_shut_down(&self) -> bool {
        *self.shutdown.borrow()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}
