//! `MockServer`: starts the server on 127.0.0.1 and is the handle tests and bindings hold.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::ApiRequest;
use crate::config::MockConfig;
use crate::connection::{Connection, Endpoint};
use crate::error::MockError;
use crate::faults::Fault;
use crate::jwt::SigningKey;
use crate::mint::{self, MintRequest};
use crate::outage::OutageEndpoint;
use crate::registered_client::RegisteredClient;
use crate::router::router;
use crate::state::{MockStats, RecordedRequest, Shared};
use crate::tls::{TlsListener, TlsSetup};

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
    /// Binds 127.0.0.1:`config.port` (and, with `tls`, the mTLS alias on `config.mtls_port`) and
    /// serves in tasks spawned on the current Tokio runtime.
    pub async fn start(config: MockConfig) -> Result<MockServer, MockError> {
        config.validate()?;
        // `tokio::spawn` would panic outside a runtime; say so as an error instead.
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| MockError::NoRuntime)?;
        let (listener, addr) = bind(config.port).await?;
        let key = SigningKey::generate()?;
        let tls = if config.tls {
            let setup = TlsSetup::generate()?;
            let (alias, alias_addr) = bind(config.mtls_port).await?;
            Some((setup, alias, alias_addr))
        } else {
            None
        };
        let (shutdown, stop) = watch::channel(false);
        let shared = match tls {
            None => {
                let shared = Arc::new(Shared::new(
                    config,
                    format!("http://{addr}"),
                    None,
                    key,
                    None,
                )?);
                spawn_serve(&runtime, listener, router(Arc::clone(&shared)), stop);
                shared
            }
            Some((setup, alias, alias_addr)) => {
                let shared = Arc::new(Shared::new(
                    config,
                    format!("https://{addr}"),
                    Some(format!("https://{alias_addr}")),
                    key,
                    Some(setup.pki),
                )?);
                let main = TlsListener::spawn(&runtime, listener, setup.main, Endpoint::Main);
                let alias = TlsListener::spawn(&runtime, alias, setup.alias, Endpoint::MtlsAlias);
                spawn_serve(&runtime, main, router(Arc::clone(&shared)), stop.clone());
                spawn_serve(&runtime, alias, router(Arc::clone(&shared)), stop);
                shared
            }
        };
        tracing::debug!(url = %shared.base_url, "m2m-auth-mock listening");
        Ok(MockServer {
            shared,
            addr,
            shutdown,
        })
    }

    /// "http://127.0.0.1:PORT" ("https://…" with `tls`), no trailing slash.
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The token endpoint on the mTLS alias, "https://127.0.0.1:PORT2/oauth2/token", with `tls`
    /// only. Clients that authenticate with a certificate, or want certificate-bound tokens, call it.
    pub fn mtls_token_url(&self) -> Option<String> {
        self.shared.mtls_token_url()
    }

    /// The PEM certificate of the CA generated at start, with `tls` only. It signed the server's
    /// certificate (for 127.0.0.1 and localhost), so clients trust it, and it issues the client
    /// certificates of [`issue_client_certificate`](Self::issue_client_certificate).
    pub fn ca_pem(&self) -> Option<String> {
        self.shared.pki().map(|pki| pki.ca_pem.clone())
    }

    /// A client certificate signed by the CA, for `tls_client_auth`, with its P-256 key:
    /// `(cert_pem, key_pem)` (the key PKCS#8). `subject` is an RFC 4514 DN such as
    /// "CN=svc-mtls,O=Acme" (each attribute type at most once, no multi-valued RDNs) or a bare
    /// common name. Fails without `tls`, or for a subject that cannot be issued.
    pub fn issue_client_certificate(&self, subject: &str) -> Result<(String, String), MockError> {
        let pki = self.shared.pki().ok_or_else(|| {
            MockError::Generate(
                "client certificates need a server started with tls: true".to_owned(),
            )
        })?;
        pki.issue_client_certificate(subject)
            .map_err(|e| MockError::Generate(format!("client certificate for {subject:?}: {e}")))
    }

    /// The bound address of the main port.
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

    /// `url()` + "/oauth2/introspect": token introspection (RFC 7662), with the token endpoint's
    /// client authentication.
    pub fn introspection_url(&self) -> String {
        self.shared.introspection_url()
    }

    /// The introspection endpoint on the mTLS alias, with `tls` only.
    pub fn mtls_introspection_url(&self) -> Option<String> {
        self.shared.mtls_introspection_url()
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

    /// Every request to the JWKS since start or reset, whatever its answer; the protected API's
    /// own fetches included (see the crate documentation).
    pub fn jwks_requests(&self) -> u64 {
        self.shared.stats().jwks_requests
    }

    /// Every request to the introspection endpoint since start or reset, whatever its answer.
    pub fn introspection_requests(&self) -> u64 {
        self.shared.stats().introspection_requests
    }

    /// Every request to the metadata (either path) since start or reset, whatever its answer.
    pub fn metadata_requests(&self) -> u64 {
        self.shared.stats().metadata_requests
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

    /// The recorded token and introspection requests, oldest first (the last 10 000).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// Sets the lifetime of tokens issued from now on.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.shared.set_token_lifetime_secs(secs);
    }

    /// The protected resource on the main port, "http://127.0.0.1:PORT/api" ("https://…" with
    /// `tls`): any path below it, any method, answers as an API that accepts this server's tokens
    /// (see the crate documentation).
    pub fn api_url(&self) -> String {
        self.shared.api_url()
    }

    /// The protected resource on the mTLS alias, "https://127.0.0.1:PORT2/api", with `tls` only:
    /// where certificate-bound tokens are accepted, with the certificate they are bound to.
    pub fn mtls_api_url(&self) -> Option<String> {
        self.shared.mtls_api_url()
    }

    /// The `aud` the API requires: `config.api_audience`, else the issuer.
    pub fn api_audience(&self) -> String {
        self.shared.api_audience().to_owned()
    }

    /// The next `n` API requests whose token is otherwise valid are answered `401 invalid_token`,
    /// "the access token expired", as a real API answers a token revoked or expired early; so a
    /// client's invalidate-and-retry path can be tested. Replaces any budget still pending (0
    /// cancels it); a request refused for another reason does not use it.
    pub fn reject_next_api_tokens(&self, n: u64) {
        self.shared.api().set_rejections(n);
    }

    /// Rejections of [`reject_next_api_tokens`](Self::reject_next_api_tokens) still pending.
    pub fn pending_api_rejections(&self) -> u64 {
        self.shared.api().pending_rejections()
    }

    /// The recorded API requests (`/api/…`), oldest first (the last 10 000).
    pub fn api_requests(&self) -> Vec<ApiRequest> {
        self.shared.api().requests()
    }

    /// Every API request since start or reset, whatever its outcome (not limited by the record's cap).
    pub fn api_request_count(&self) -> u64 {
        self.shared.api().count()
    }

    /// Clears counters, faults, outages, opaque tokens, recorded requests (token and API) and
    /// pending API rejections; the lifetime goes back to the configured one. The signing key stays.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Replaces the signing key with a fresh ES256 key and returns its `kid` (`POST
    /// /mock/keys/rotate`). From now on tokens are signed with it, the JWKS lists only it, and
    /// tokens signed before no longer verify here (the API's verifier starts afresh: it accepts
    /// new-key tokens at once, and no longer those it accepted before).
    pub fn rotate_keys(&self) -> Result<String, MockError> {
        self.shared.rotate_key()
    }

    /// Mints tokens for verifier tests from a request in the JSON format of `POST /mock/tokens`
    /// (see the crate documentation); returns them in order.
    pub fn mint_tokens(&self, request: serde_json::Value) -> Result<Vec<String>, MockError> {
        let request = serde_json::from_value::<MintRequest>(request)
            .map_err(|e| MockError::Request(format!("not a mint request: {e}")))?;
        mint::mint(&self.shared, &request).map_err(MockError::Request)
    }

    /// Takes `endpoint` down until restored (`None`) or reset: each request to it suffers `fault`
    /// (a raw response, a delay, a dropped connection, as for token requests; `count` is
    /// ignored). `POST /mock/outage` sets the common ones.
    pub fn set_outage(&self, endpoint: OutageEndpoint, fault: Option<Fault>) {
        self.shared.set_outage(endpoint, fault);
    }

    /// The JWKS document the server publishes.
    pub fn jwks(&self) -> serde_json::Value {
        crate::discovery::jwks(&self.shared)
    }

    /// The authorization server metadata document the server publishes.
    pub fn metadata(&self) -> serde_json::Value {
        crate::discovery::metadata(&self.shared)
    }

    /// The authentication methods the server offers (its metadata's
    /// `token_endpoint_auth_methods_supported`).
    /// Registers a client while the server runs (e.g. with a key or certificate a test just generated),
    /// replacing any client of the same id. Checked like a configured client.
    pub fn register_client(&self, client: RegisteredClient) -> Result<(), MockError> {
        self.shared
            .register_client(client)
            .map_err(MockError::Config)
    }

    pub fn supported_auth_methods(&self) -> Vec<String> {
        self.shared
            .supported_methods()
            .iter()
            .map(|m| (*m).to_owned())
            .collect()
    }

    /// Checks an access token's signature (ES256, this server's key) and `exp`/`nbf`; returns its claims.
    pub fn verify_access_token(&self, token: &str) -> Result<serde_json::Value, String> {
        self.shared.key().verify(token)
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

/// Binds 127.0.0.1:`port`.
async fn bind(port: u16) -> Result<(TcpListener, SocketAddr), MockError> {
    let bind_error = |source| MockError::Bind { port, source };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    Ok((listener, addr))
}

/// Serves `app` on `listener` until `stop` turns true (or its sender, the handle, is dropped).
fn spawn_serve<L>(
    runtime: &tokio::runtime::Handle,
    listener: L,
    app: Router,
    mut stop: watch::Receiver<bool>,
) where
    L: Listener,
    L::Addr: fmt::Debug,
    Connection: for<'a> Connected<IncomingStream<'a, L>>,
{
    runtime.spawn(async move {
        let signal = async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        };
        let app = app.into_make_service_with_connect_info::<Connection>();
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await
        {
            tracing::warn!(%error, "m2m-auth-mock server stopped with an error");
        }
    });
}
