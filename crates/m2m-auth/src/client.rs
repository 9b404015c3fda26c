//! The token client: hands out cached tokens, refreshes them in the background before they expire, and makes
//! sure that, per set of parameters, at most one fetch from the token endpoint is in flight.

use std::collections::HashMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use futures::FutureExt as _;
use futures::future::BoxFuture;
use tokio::runtime::Handle;
use url::Url;

use crate::cache::freshness::refresh_retry_delay;
use crate::cache::freshness::serve_until;
use crate::cache::shared::SharedCache;
use crate::cache::shared::flight::{Need, Obtained};
use crate::cache::slot::{Joined, Slot};
use crate::cache::stats::{Counters, Stats};
use crate::cache::watch::{MirroredInvalidation, TokenUpdate};
use crate::config::env::builder_from_env;
use crate::config::params::TokenParams;
use crate::config::{ClientConfig, TokenClientBuilder, secureauth_issuer, secureauth_token_url};
use crate::credentials::auth_method::AuthMethod;
use crate::endpoint::Endpoint;
use crate::endpoint::attempts::request_with_retries;
use crate::endpoint::request::{client_authentication, form_request};
use crate::error::{Error, Result};
use crate::events::{EventKind, EventLevel};
use crate::http::transport::exchange;
use crate::http::transport::http_client;
use crate::token::Token;

/// An OAuth 2.0 client credentials token client. Cheap to clone: clones share the cache.
#[derive(Clone)]
pub struct TokenClient {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ClientConfig,
    http: reqwest::Client,
    endpoint: Endpoint,
    default_params: TokenParams,
    /// The slot of the client's own parameters, kept apart so that the common call needs no map look-up.
    default_slot: Arc<Slot>,
    /// The slots of per-call parameters, with when each was last used: at most [`MAX_OTHER_SLOTS`], the
    /// least recently used dropped first, so that parameters made per request cannot grow it without end.
    other_slots: Mutex<HashMap<TokenParams, (Arc<Slot>, u64)>>,
    slot_clock: AtomicU64,
    counters: Counters,
    /// Where background refreshes run when a synchronous call starts one.
    runtime: OnceLock<Handle>,
    /// For API calls (`crate::call`), built on first use.
    api_http: OnceLock<reqwest::Client>,
    /// Changes of the default token, for a watcher (see `crate::watch`).
    token_seq: AtomicU64,
    /// The cache shared with other processes, behind the slots; `None` with `memory:`.
    shared: Option<SharedCache>,
}

impl TokenClient {
    pub fn builder() -> TokenClientBuilder {
        TokenClientBuilder::new()
    }

    /// A builder for a SecureAuth Connect workspace: the issuer is
    /// `https://TENANT.REGION.connect.secureauth.com/TENANT/WORKSPACE` and the token URL its `/oauth2/token`.
    /// With a client certificate, the issuer's metadata is read for the mutual-TLS alias.
    pub fn secureauth(tenant: &str, region: &str, workspace: &str) -> Result<TokenClientBuilder> {
        Ok(TokenClientBuilder::new()
            .issuer(secureauth_issuer(tenant, region, workspace)?)
            .token_url(secureauth_token_url(tenant, region, workspace)?))
    }

    /// A builder that reads the token endpoint from the issuer's metadata (RFC 8414 / OIDC Discovery) at
    /// first use.
    pub fn from_issuer(issuer: impl Into<String>) -> TokenClientBuilder {
        TokenClientBuilder::new().issuer(issuer)
    }

    /// A client configured from `M2M_*` environment variables (see [`crate::env`]).
    pub fn from_env() -> Result<TokenClient> {
        builder_from_env()?.build()
    }

    pub(crate) fn from_config(cfg: ClientConfig) -> Result<Self> {
        let http = http_client(&cfg)?;
        let endpoint = Endpoint::new(&cfg);
        let default_params = TokenParams::new(
            cfg.scopes.clone(),
            cfg.audience.clone(),
            cfg.resources.clone(),
        )?;
        let shared = SharedCache::new(&cfg)?;
        let runtime = OnceLock::new();
        if let Some(handle) = &cfg.runtime {
            let _ = runtime.set(handle.clone());
        }
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                http,
                endpoint,
                default_params,
                default_slot: Arc::default(),
                other_slots: Mutex::default(),
                slot_clock: AtomicU64::new(0),
                counters: Counters::default(),
                runtime,
                api_http: OnceLock::new(),
                token_seq: AtomicU64::new(0),
                shared,
            }),
        })
    }

    /// The current token for the client's own scopes, audience and resources: from the cache while it is
    /// fresh, else from the token endpoint.
    pub async fn token(&self) -> Result<Arc<Token>> {
        self.get(&self.inner.default_slot, &self.inner.default_params)
            .await
    }

    /// The current token for other parameters (see [`Self::params`]).
    pub async fn token_for(&self, params: &TokenParams) -> Result<Arc<Token>> {
        let slot = self.slot(params);
        self.get(&slot, params).await
    }

    /// The cached token, if one is fresh, without waiting. Bindings use it as their fast path; it counts as
    /// a cache hit, and starts a background refresh when one is due.
    pub fn cached(&self, params: Option<&TokenParams>) -> Option<Arc<Token>> {
        let (slot, params) = match params {
            Some(p) if *p != self.inner.default_params => (self.slot(p), p),
            _ => (
                Arc::clone(&self.inner.default_slot),
                &self.inner.default_params,
            ),
        };
        let now = Instant::now();
        let token = slot.usable(self.inner.cfg.expiry_skew, now)?;
        self.inner.counters.hit();
        self.refresh_if_due(&slot, params, &token, now);
        Some(token)
    }

    /// Parameters for [`Self::token_for`]: each `None` takes the client's own setting.
    pub fn params(
        &self,
        scopes: Option<Vec<String>>,
        audience: Option<String>,
        resources: Option<Vec<String>>,
    ) -> Result<TokenParams> {
        let d = &self.inner.default_params;
        TokenParams::new(
            scopes.unwrap_or_else(|| d.scopes.clone()),
            audience.or_else(|| d.audience.clone()),
            resources.unwrap_or_else(|| d.resources.clone()),
        )
    }

    /// Drops every cached token: the next call fetches a new one. A fetch already in flight is not cancelled;
    /// callers waiting on it still get its result.
    pub fn invalidate(&self) {
        self.drop_all();
    }

    /// Drops `access_token` if it is still cached, e.g. after an API answered 401 to it. Many callers that
    /// saw the same token rejected cause one new fetch: once the first has dropped it, the others find a
    /// different token (or the fetch in flight) and drop nothing. Returns whether a token was dropped.
    pub fn invalidate_token(&self, access_token: &str) -> bool {
        self.drop_token(access_token).is_some()
    }

    /// [`Self::invalidate_token`] (with `Some`) or [`Self::invalidate`] (with `None`) for a binding that
    /// mirrors the default token: says what the mirror must do. `mirror_holds_token`: whether the mirror
    /// serves the rejected token.
    pub fn invalidate_mirrored(
        &self,
        access_token: Option<&str>,
        mirror_holds_token: bool,
    ) -> MirroredInvalidation {
        let change = match access_token {
            Some(t) => self.drop_token(t),
            None => Some(self.drop_all()),
        };
        MirroredInvalidation::decide(change, mirror_holds_token)
    }

    /// Clears every slot; returns the number of the default token's change this made.
    fn drop_all(&self) -> u64 {
        self.for_each_slot(|slot| {
            slot.clear();
        });
        self.inner.default_token_changed(None)
    }

    /// Clears the slots that hold `access_token`; the number of the change, if any slot did.
    fn drop_token(&self, access_token: &str) -> Option<u64> {
        let mut dropped = false;
        self.for_each_slot(|slot| dropped |= slot.clear_if(access_token));
        dropped.then(|| {
            self.inner
                .default_token_changed(self.inner.default_slot.current())
        })
    }

    /// The HTTP client for API calls: presents the same client certificate as token requests.
    pub(crate) fn api_http(&self) -> Result<&reqwest::Client> {
        if let Some(http) = self.inner.api_http.get() {
            return Ok(http);
        }
        let http = crate::http::call::api_http_client(&self.inner.cfg)?;
        Ok(self.inner.api_http.get_or_init(|| http))
    }

    /// A form POST to another endpoint of the authorization server (RFC 7662 introspection), authenticated as
    /// token requests are, with `fields` after the authentication's; at most `max_bytes` of answer, within the
    /// client's timeout.
    pub(crate) async fn post_authenticated(
        &self,
        url: &Url,
        what: &str,
        fields: Vec<(String, String)>,
        max_bytes: usize,
    ) -> Result<crate::http::transport::Answer> {
        let cfg = &self.inner.cfg;
        let mut form = client_authentication(cfg, url)?;
        form.fields.extend(fields);
        let request = form_request(&self.inner.http, url, form);
        exchange(request, what, url, cfg.timeout, max_bytes).await
    }

    /// The number of changes of the default token so far: what the last [`crate::TokenUpdate`] carried.
    pub fn token_seq(&self) -> u64 {
        self.inner.token_seq.load(Ordering::SeqCst)
    }

    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// The token endpoint: configured, or found by discovery (`None` until the first fetch has read it).
    pub fn token_url(&self) -> Option<&str> {
        self.inner.endpoint.known().map(Url::as_str)
    }

    /// Whether token requests (and API calls) present a client certificate.
    pub fn has_client_certificate(&self) -> bool {
        self.inner.cfg.client_cert.is_some()
    }

    /// Whether plain http to hosts other than loopback was allowed (`allow_insecure_http`).
    pub fn allows_insecure_http(&self) -> bool {
        self.inner.cfg.allow_insecure_http
    }

    pub fn issuer(&self) -> Option<&str> {
        self.inner.cfg.issuer.as_ref().map(Url::as_str)
    }

    pub fn client_id(&self) -> &str {
        &self.inner.cfg.client_id
    }

    pub fn auth_method(&self) -> AuthMethod {
        self.inner.cfg.auth_method
    }

    pub fn scopes(&self) -> &[String] {
        &self.inner.default_params.scopes
    }

    /// `TokenClient(token_url='…', client_id='…', auth_method='…', scopes=[…])` — the repr of every binding
    /// (`issuer='…'` while the token URL is still to be discovered). It never contains a credential.
    pub fn describe(&self) -> String {
        let scopes: Vec<String> = self.scopes().iter().map(|s| format!("'{s}'")).collect();
        let endpoint = match (self.token_url(), self.issuer()) {
            (Some(url), _) => format!("token_url='{url}'"),
            (None, Some(issuer)) => format!("issuer='{issuer}'"),
            (None, None) => String::new(),
        };
        format!(
            "TokenClient({endpoint}, client_id='{}', auth_method='{}', scopes=[{}])",
            self.client_id(),
            self.auth_method(),
            scopes.join(", ")
        )
    }

    fn for_each_slot(&self, mut f: impl FnMut(&Slot)) {
        f(&self.inner.default_slot);
        let slots = self
            .inner
            .other_slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (slot, _) in slots.values() {
            f(slot);
        }
    }

    fn slot(&self, params: &TokenParams) -> Arc<Slot> {
        if *params == self.inner.default_params {
            return Arc::clone(&self.inner.default_slot);
        }
        let used = self.inner.slot_clock.fetch_add(1, Ordering::Relaxed);
        let mut slots = self
            .inner
            .other_slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((slot, last_used)) = slots.get_mut(params) {
            *last_used = used;
            return Arc::clone(slot);
        }
        if slots.len() >= MAX_OTHER_SLOTS
            && let Some(oldest) = slots
                .iter()
                .min_by_key(|(_, (_, last_used))| *last_used)
                .map(|(p, _)| p.clone())
        {
            // A caller still holding the dropped slot finishes with it; the next call starts afresh.
            slots.remove(&oldest);
        }
        let slot = Arc::<Slot>::default();
        slots.insert(params.clone(), (Arc::clone(&slot), used));
        slot
    }

    /// How many per-call parameter sets have a slot now (at most [`MAX_OTHER_SLOTS`]).
    #[doc(hidden)]
    pub fn cached_param_sets(&self) -> usize {
        self.inner
            .other_slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    async fn get(&self, slot: &Arc<Slot>, params: &TokenParams) -> Result<Arc<Token>> {
        let current = Handle::try_current().ok();
        if let Some(handle) = &current
            && self.inner.runtime.get().is_none()
        {
            let _ = self.inner.runtime.set(handle.clone());
        }
        let now = Instant::now();
        if let Some(token) = slot.usable(self.inner.cfg.expiry_skew, now) {
            self.inner.counters.hit();
            self.refresh_if_due(slot, params, &token, now);
            return Ok(token);
        }
        self.inner.counters.miss();
        let runtime = current.ok_or_else(|| {
            Error::Internal("m2m-auth must be called from within a tokio runtime".into())
        })?;
        let skew = self.inner.cfg.expiry_skew;
        let deadline = now + self.inner.cfg.retry.deadline;
        // A fetch whose runtime shut down under it is started again here, once, on the caller's runtime.
        let mut rejoined = false;
        let mut late = 0;
        loop {
            let joined = slot.join_or_start(skew, |id| {
                spawn_fetch(&runtime, &self.inner, slot, params, id, deadline, false)
            });
            let token = match joined {
                Joined::Ready(token) => return Ok(token),
                Joined::Wait(fetch) => match fetch.await {
                    Err(Error::Internal(m)) if m == CANCELLED && !rejoined => {
                        rejoined = true;
                        continue;
                    }
                    other => other?,
                },
            };
            // Whatever the token's lifetime, none is handed out past its use-by instant. A caller that resumed
            // too late (a busy machine) looks again: the slot has a newer token, a fetch in flight, or a new
            // fetch starts. A server whose tokens keep arriving that way gets an error instead.
            if Instant::now() < token.use_by(skew) {
                return Ok(token);
            }
            late += 1;
            if late >= MAX_LATE_TOKENS || Instant::now() >= deadline {
                return Err(Error::invalid_response(
                    Some(200),
                    format!(
                        "the token endpoint's tokens arrive too late to be used: {} times, a token had less \
                         than its expiry skew left ({}ms of {}ms) when it could be handed out",
                        late,
                        token.expires_in().as_millis(),
                        token.lifetime().as_millis()
                    ),
                ));
            }
        }
    }

    /// Past the refresh share of its lifetime, a token is replaced in the background while callers keep
    /// getting it, so that nobody waits at expiry.
    fn refresh_if_due(
        &self,
        slot: &Arc<Slot>,
        params: &TokenParams,
        token: &Arc<Token>,
        now: Instant,
    ) {
        let cfg = &self.inner.cfg;
        let Some(refresh_at) = token.refresh_at(cfg.refresh_ratio) else {
            return;
        };
        if now < refresh_at {
            return;
        }
        let Some(runtime) = Handle::try_current()
            .ok()
            .or_else(|| self.inner.runtime.get().cloned())
        else {
            return;
        };
        // A refresh gets the whole retry deadline, as any fetch: callers that find the token past its use-by
        // join it and must not inherit a shorter one.
        let deadline = now + cfg.retry.deadline;
        let started = slot.start_refresh(token, now, |id| {
            spawn_fetch(&runtime, &self.inner, slot, params, id, deadline, true)
        });
        if started {
            self.inner.counters.refresh();
            cfg.emit(
                EventLevel::Debug,
                EventKind::RefreshStarted,
                format!(
                    "refreshing the token ahead of expiry ({}s left)",
                    token.expires_in().as_secs()
                ),
            );
        }
    }
}

/// The most per-call parameter sets a client keeps a token for.
pub const MAX_OTHER_SLOTS: usize = 256;

/// How many fetched tokens a caller may find already past their use-by before it gives up.
const MAX_LATE_TOKENS: u32 = 3;

/// What callers of a fetch whose task was dropped unfinished get (its runtime shut down).
const CANCELLED: &str = "the token fetch was cancelled: the runtime it ran on shut down";

/// Removes fetch `id` from its slot: when the fetch is done ([`Self::done`]), and also when its task is dropped
/// unfinished (its runtime shut down), so that a slot never keeps a fetch that nobody will complete.
struct FinishOnDrop {
    slot: Arc<Slot>,
    id: u64,
    finished: bool,
}

impl FinishOnDrop {
    fn done(mut self) {
        self.finished = true;
        self.slot.finish(self.id);
    }
}

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        if !self.finished {
            // Dropped unfinished, maybe on the thread that holds the slot's lock while it spawns: never wait.
            self.slot.abandon(self.id);
        }
    }
}

/// Runs one fetch as its own task: it completes and fills the cache even if the caller that started it goes
/// away, and a panic inside it becomes an error instead of unwinding into callers.
fn spawn_fetch(
    runtime: &Handle,
    inner: &Arc<Inner>,
    slot: &Arc<Slot>,
    params: &TokenParams,
    id: u64,
    deadline: Instant,
    background: bool,
) -> BoxFuture<'static, Result<Arc<Token>>> {
    let finish = FinishOnDrop {
        slot: Arc::clone(slot),
        id,
        finished: false,
    };
    let task = runtime.spawn({
        let inner = Arc::clone(inner);
        let params = params.clone();
        async move {
            let outcome = AssertUnwindSafe(fetch_and_store(
                &inner,
                &finish.slot,
                &params,
                deadline,
                background,
            ))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                Err(Error::Internal(format!(
                    "the token fetch panicked: {}",
                    panic_message(panic)
                )))
            });
            finish.done();
            outcome
        }
    });
    async move {
        task.await
            .unwrap_or_else(|_| Err(Error::Internal(CANCELLED.into())))
    }
    .boxed()
}

/// One fetch: a token from the shared cache, if there is one and it has a token this process can use; else
/// requests until one succeeds (`endpoint::attempts`) — shared afterwards. The token is stored in the slot and
/// the mirrors told; or the failure counted, reported, and — for a background refresh — the next one put off
/// a while.
async fn fetch_and_store(
    inner: &Inner,
    slot: &Slot,
    params: &TokenParams,
    deadline: Instant,
    background: bool,
) -> Result<Arc<Token>> {
    let cfg = &inner.cfg;
    if cfg.panic_on_fetch {
        panic!("panic_on_fetch test hook");
    }
    let request = || async {
        inner.counters.fetch();
        request_with_retries(&inner.http, cfg, &inner.endpoint, params, deadline).await
    };
    let obtained = match &inner.shared {
        None => request().await,
        Some(shared) => {
            let need = match slot.current() {
                Some(current) if background => Need::Replace(current),
                _ => Need::Cold {
                    rejected: slot.rejected(),
                },
            };
            let name = shared.name(cfg, params);
            match shared
                .obtain(cfg, &inner.counters, &name, &need, deadline, &request)
                .await
            {
                Ok(Obtained::Token(token)) => Ok(token),
                Ok(Obtained::Postponed) => match need {
                    // The current token stays — if it still is the slot's (no invalidation since) — and this
                    // process tries again later, as after a failed refresh but without counting a failure.
                    Need::Replace(current)
                        if slot
                            .current()
                            .is_some_and(|now| Arc::ptr_eq(&now, &current)) =>
                    {
                        slot.refresh_failed(
                            Instant::now() + refresh_retry_delay(current.expires_in()),
                        );
                        return Ok(current);
                    }
                    _ => request().await,
                },
                Err(e) => Err(e),
            }
        }
    };
    match obtained {
        Ok(token) => {
            let token = Arc::new(token);
            slot.store(Arc::clone(&token));
            if std::ptr::eq(slot, &*inner.default_slot) {
                inner.default_token_changed(slot.current());
            }
            Ok(token)
        }
        Err(e) => {
            inner.counters.failure(cfg.redactor.redact(e.to_string()));
            let (level, kind, what) = if background {
                if let Some(current) = slot.usable(cfg.expiry_skew, Instant::now()) {
                    slot.refresh_failed(Instant::now() + refresh_retry_delay(current.expires_in()));
                }
                (
                    EventLevel::Warn,
                    EventKind::RefreshFailed,
                    "background refresh failed; the current token is served until it expires",
                )
            } else {
                (
                    EventLevel::Error,
                    EventKind::FetchFailed,
                    "token request failed",
                )
            };
            cfg.emit(level, kind, format!("{what}: {e}"));
            Err(e)
        }
    }
}

impl Inner {
    /// Tells the watcher, if any, what the default token now is; returns the change's number.
    fn default_token_changed(&self, token: Option<Arc<Token>>) -> u64 {
        let seq = self.token_seq.fetch_add(1, Ordering::SeqCst) + 1;
        let Some(watcher) = &self.cfg.token_watcher else {
            return seq;
        };
        let serve_until = token.as_deref().map_or_else(Instant::now, |t| {
            serve_until(t, self.cfg.expiry_skew, self.cfg.refresh_ratio)
        });
        let update = TokenUpdate {
            seq,
            token,
            serve_until,
        };
        // A panicking watcher is the binding's bug; it must not take the fetch down with it.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| (watcher.0)(update)));
        seq
    }
}

pub(crate) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

impl fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}
