//! State shared by the HTTP handlers and the `MockServer` handle: the signing key, counters,
//! recorded requests, pending faults and outages (the API's live in [`ApiLog`], opaque tokens in
//! [`OpaqueStore`]). Everything mutable sits behind one mutex so that `reset` is atomic and the sync
//! getters can be called from any thread (the Python and Node bindings do).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use m2m_auth::{Verifier, VerifierBuilder};
use serde::Serialize;

use crate::api::{ApiLog, build_verifier, verifier_builder};
use crate::config::MockConfig;
use crate::error::MockError;
use crate::faults::{Fault, FaultQueue};
use crate::jwt::SigningKey;
use crate::opaque::OpaqueStore;
use crate::outage::OutageEndpoint;
use crate::registered_client::RegisteredClient;
use crate::replay::ReplayCache;
use crate::tls::Pki;

/// At most this many token and introspection requests are kept; the oldest are dropped first.
pub const MAX_RECORDED_REQUESTS: usize = 10_000;
/// At most this many distinct client ids are counted per client, so a flood of made-up ids cannot
/// grow memory without bound. Requests beyond it still count in the totals.
const MAX_COUNTED_CLIENTS: usize = 10_000;

/// One request to the token or the introspection endpoint, as the server saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// HTTP method, e.g. "POST".
    pub method: String,
    /// Request path, e.g. "/oauth2/token" or "/oauth2/introspect".
    pub path: String,
    /// Request headers in arrival order, names lower-cased (values are kept as sent, credentials too:
    /// this is a test tool and tests check what the client sent).
    pub headers: Vec<(String, String)>,
    /// The decoded form body pairs in order (empty when the body was not form-encoded).
    pub form: Vec<(String, String)>,
    /// The client id the request presented (Basic header first, else the `client_id` field, else
    /// the `sub` of a client assertion), whether or not it then authenticated.
    pub client_id: Option<String>,
    /// The client authentication method the request used (e.g. "private_key_jwt"), once the
    /// server could tell; `None` when it could not (no credentials, or a refused certificate).
    pub auth_method: Option<String>,
    /// base64url SHA-256 of the client certificate presented on the mTLS alias, if any: the
    /// `cnf.x5t#S256` a token issued to this request is bound to.
    pub client_cert_x5t_s256: Option<String>,
    /// "token", "fault", the OAuth error code, or "aborted" when the client went away mid-request;
    /// for introspection "active" or "inactive" instead of "token".
    pub outcome: String,
}

/// Headers as recorded requests keep them: lower-cased names in arrival order, values as sent.
pub(crate) fn recorded_headers(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Request counters, as `GET /mock/stats` reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MockStats {
    /// Every request to the token endpoint, whatever its outcome.
    pub token_requests: u64,
    /// Successful token responses.
    pub tokens_issued: u64,
    /// Token requests per presented client id.
    pub by_client: BTreeMap<String, u64>,
    /// Every request to the JWKS, whatever its answer (outage answers too) — the fetches of the
    /// protected API's own verifier included (at its first token, after a key rotation, and for a
    /// token whose `kid` the keys lack).
    pub jwks_requests: u64,
    /// Every request to the introspection endpoint (either port), whatever its answer.
    pub introspection_requests: u64,
    /// Every request to either metadata path, whatever its answer.
    pub metadata_requests: u64,
}

#[derive(Debug)]
struct Inner {
    stats: MockStats,
    requests: VecDeque<RecordedRequest>,
    faults: FaultQueue,
    token_lifetime_secs: u64,
    /// The endpoints taken down by `POST /mock/outage`, with the fault each suffers.
    outages: BTreeMap<OutageEndpoint, Fault>,
}

/// Everything one running server knows.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: MockConfig,
    /// "http://127.0.0.1:PORT" (https with TLS), no trailing slash.
    pub(crate) base_url: String,
    /// "https://127.0.0.1:PORT2" of the mTLS alias, with TLS only.
    mtls_base_url: Option<String>,
    pub(crate) issuer: String,
    /// The `aud` the API accepts.
    api_audience: String,
    /// The current signing key: replaced whole by a rotation, so a handler that took it signs and
    /// verifies with one key throughout.
    key: RwLock<Arc<SigningKey>>,
    /// How the API's verifier is built, and the verifier: one per key, since a rotation starts it
    /// afresh (no keys, no remembered tokens), so that old-key tokens stop verifying at once.
    api_verifier_builder: VerifierBuilder,
    api_verifier: RwLock<Verifier>,
    pki: Option<Pki>,
    supported_methods: Vec<&'static str>,
    replay: ReplayCache,
    /// The registered clients: the configured ones, and those registered at run time (which replace a
    /// configured one of the same id).
    clients: RwLock<BTreeMap<String, Arc<RegisteredClient>>>,
    inner: Mutex<Inner>,
    api: ApiLog,
    opaque: OpaqueStore,
}

impl Shared {
    pub(crate) fn new(
        config: MockConfig,
        base_url: String,
        mtls_base_url: Option<String>,
        key: SigningKey,
        pki: Option<Pki>,
    ) -> Result<Self, MockError> {
        let supported_methods = config.supported_auth_methods();
        let issuer = config.issuer.clone().unwrap_or_else(|| base_url.clone());
        // The issuer is also the `aud` of tokens issued without an audience, so by default the
        // API accepts what a client gets when it asks for nothing in particular.
        let api_audience = config
            .api_audience
            .clone()
            .unwrap_or_else(|| issuer.clone());
        let api_verifier_builder =
            verifier_builder(&issuer, &api_audience, &base_url, pki.as_ref())?;
        let api_verifier = RwLock::new(build_verifier(&api_verifier_builder)?);
        let inner = Inner {
            stats: MockStats::default(),
            requests: VecDeque::new(),
            faults: FaultQueue::default(),
            token_lifetime_secs: config.token_lifetime_secs,
            outages: BTreeMap::new(),
        };
        let clients = config
            .clients
            .iter()
            .map(|c| (c.client_id.clone(), Arc::new(c.clone())))
            .collect();
        Ok(Shared {
            clients: RwLock::new(clients),
            config,
            base_url,
            mtls_base_url,
            issuer,
            api_audience,
            key: RwLock::new(Arc::new(key)),
            api_verifier_builder,
            api_verifier,
            pki,
            supported_methods,
            replay: ReplayCache::default(),
            inner: Mutex::new(inner),
            api: ApiLog::default(),
            opaque: OpaqueStore::default(),
        })
    }

    // A handler that panicked while holding the lock cannot leave the counters in a state worse
    // than slightly off, so a poisoned lock is used as-is rather than turned into a panic.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.base_url)
    }

    /// The token endpoint on the mTLS alias, with TLS only.
    pub(crate) fn mtls_token_url(&self) -> Option<String> {
        self.mtls_base_url
            .as_ref()
            .map(|base| format!("{base}/oauth2/token"))
    }

    /// The introspection endpoint (RFC 7662) on the main port.
    pub(crate) fn introspection_url(&self) -> String {
        format!("{}/oauth2/introspect", self.base_url)
    }

    /// The introspection endpoint on the mTLS alias, with TLS only.
    pub(crate) fn mtls_introspection_url(&self) -> Option<String> {
        self.mtls_base_url
            .as_ref()
            .map(|base| format!("{base}/oauth2/introspect"))
    }

    /// The current signing key, which signs issued tokens, is the one the JWKS lists and the only
    /// one the API and introspection accept.
    pub(crate) fn key(&self) -> Arc<SigningKey> {
        Arc::clone(&self.key.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Replaces the signing key with a fresh one; returns its `kid`. Tokens signed with the old
    /// key stop verifying here, as after a real server's rotation once the old key left its JWKS:
    /// the API's verifier starts afresh too, and fetches the JWKS (now the new key only) at its
    /// next token.
    pub(crate) fn rotate_key(&self) -> Result<String, MockError> {
        let key = SigningKey::generate()?;
        let verifier = build_verifier(&self.api_verifier_builder)?;
        let kid = key.kid().to_owned();
        *self.key.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(key);
        *self
            .api_verifier
            .write()
            .unwrap_or_else(PoisonError::into_inner) = verifier;
        Ok(kid)
    }

    /// The protected API's verifier (cheap to clone: it shares its keys and remembered tokens).
    pub(crate) fn api_verifier(&self) -> Verifier {
        self.api_verifier
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The opaque tokens minted for introspection.
    pub(crate) fn opaque(&self) -> &OpaqueStore {
        &self.opaque
    }

    /// Counts a request to the JWKS, introspection or metadata.
    pub(crate) fn count_request(&self, endpoint: OutageEndpoint) {
        let mut inner = self.lock();
        let stats = &mut inner.stats;
        let counter = match endpoint {
            OutageEndpoint::Jwks => &mut stats.jwks_requests,
            OutageEndpoint::Introspection => &mut stats.introspection_requests,
            OutageEndpoint::Metadata => &mut stats.metadata_requests,
        };
        *counter = counter.saturating_add(1);
    }

    /// Takes `endpoint` down with `fault` until further notice, or restores it (`None`).
    pub(crate) fn set_outage(&self, endpoint: OutageEndpoint, fault: Option<Fault>) {
        let mut inner = self.lock();
        match fault {
            Some(fault) => inner.outages.insert(endpoint, fault),
            None => inner.outages.remove(&endpoint),
        };
    }

    /// The fault `endpoint` suffers now, if it is down.
    pub(crate) fn outage(&self, endpoint: OutageEndpoint) -> Option<Fault> {
        self.lock().outages.get(&endpoint).cloned()
    }

    /// The protected resource's base URL on the main port.
    pub(crate) fn api_url(&self) -> String {
        format!("{}/api", self.base_url)
    }

    /// The protected resource's base URL on the mTLS alias, with TLS only.
    pub(crate) fn mtls_api_url(&self) -> Option<String> {
        self.mtls_base_url
            .as_ref()
            .map(|base| format!("{base}/api"))
    }

    pub(crate) fn api_audience(&self) -> &str {
        &self.api_audience
    }

    /// The API's recorded requests and pending rejections.
    pub(crate) fn api(&self) -> &ApiLog {
        &self.api
    }

    /// The CA and server certificate, with TLS only.
    pub(crate) fn pki(&self) -> Option<&Pki> {
        self.pki.as_ref()
    }

    /// The authentication methods the server offers, in advertised order.
    pub(crate) fn supported_methods(&self) -> &[&'static str] {
        &self.supported_methods
    }

    pub(crate) fn supports(&self, method: &str) -> bool {
        self.supported_methods.contains(&method)
    }

    /// The `jti`s of client assertions seen. Not cleared by `reset`: replay protection is part of
    /// what the server is, not a test counter.
    pub(crate) fn replay(&self) -> &ReplayCache {
        &self.replay
    }

    pub(crate) fn find_client(&self, client_id: &str) -> Option<Arc<RegisteredClient>> {
        self.clients
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(client_id)
            .cloned()
    }

    /// Registers `client`, replacing any client of the same id; checked like a configured one.
    pub(crate) fn register_client(&self, client: RegisteredClient) -> Result<(), String> {
        client.validate()?;
        if !self.config.tls
            && let Some(m) = crate::auth_method::TLS_METHODS
                .iter()
                .find(|m| client.allows_method(m))
        {
            return Err(format!(
                "auth_methods: {m} needs a client certificate, which needs a server started with `tls: true`"
            ));
        }
        self.clients
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(client.client_id.clone(), Arc::new(client));
        Ok(())
    }

    pub(crate) fn count_token_request(&self) {
        let mut inner = self.lock();
        inner.stats.token_requests = inner.stats.token_requests.saturating_add(1);
    }

    pub(crate) fn count_client_request(&self, client_id: &str) {
        let mut inner = self.lock();
        let by_client = &mut inner.stats.by_client;
        if let Some(n) = by_client.get_mut(client_id) {
            *n = n.saturating_add(1);
        } else if by_client.len() < MAX_COUNTED_CLIENTS {
            by_client.insert(client_id.to_owned(), 1);
        }
    }

    pub(crate) fn count_token_issued(&self) {
        let mut inner = self.lock();
        inner.stats.tokens_issued = inner.stats.tokens_issued.saturating_add(1);
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        let mut inner = self.lock();
        if inner.requests.len() >= MAX_RECORDED_REQUESTS {
            inner.requests.pop_front();
        }
        inner.requests.push_back(request);
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.iter().cloned().collect()
    }

    pub(crate) fn stats(&self) -> MockStats {
        self.lock().stats.clone()
    }

    pub(crate) fn push_faults(&self, faults: Vec<Fault>) -> u64 {
        let mut inner = self.lock();
        inner.faults.push(faults);
        inner.faults.remaining()
    }

    /// The next queued fault, else one of the configured random faults if it strikes.
    pub(crate) fn take_fault(&self) -> Option<Fault> {
        self.lock().faults.take().or_else(|| {
            self.config
                .random_faults
                .iter()
                .find(|r| r.strikes())
                .map(|r| r.fault.clone())
        })
    }

    pub(crate) fn pending_faults(&self) -> u64 {
        self.lock().faults.remaining()
    }

    pub(crate) fn token_lifetime_secs(&self) -> u64 {
        self.lock().token_lifetime_secs
    }

    pub(crate) fn set_token_lifetime_secs(&self, secs: u64) {
        self.lock().token_lifetime_secs = secs;
    }

    /// Zeroes the counters, forgets recorded requests, faults, outages and opaque tokens, and
    /// restores the configured lifetime. The signing key stays: tokens already out keep verifying.
    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        inner.stats = MockStats::default();
        inner.requests.clear();
        inner.faults.clear();
        inner.token_lifetime_secs = self.config.token_lifetime_secs;
        inner.outages.clear();
        // Under the main lock, so no reader sees the token side reset and the API side not yet.
        self.api.reset();
        self.opaque.clear();
    }
}
