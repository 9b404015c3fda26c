//! The token client: hands out cached tokens and makes sure that, per set of parameters, at most one request
//! to the token endpoint is in flight.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use futures::FutureExt as _;

use crate::config::{AuthMethod, ClientConfig, TokenClientBuilder, secureauth_token_url};
use crate::env::builder_from_env;
use crate::error::{Error, Result};
use crate::params::TokenParams;
use crate::request::{http_client, request_token};
use crate::slot::Slot;
use crate::stats::{Counters, Stats};
use crate::token::Token;

/// An OAuth 2.0 client credentials token client. Cheap to clone: clones share the cache.
#[derive(Clone)]
pub struct TokenClient {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ClientConfig,
    http: reqwest::Client,
    default_params: TokenParams,
    /// The slot of the client's own parameters, kept apart so that the common call needs no map look-up.
    default_slot: Arc<Slot>,
    other_slots: Mutex<HashMap<TokenParams, Arc<Slot>>>,
    counters: Counters,
}

impl TokenClient {
    pub fn builder() -> TokenClientBuilder {
        TokenClientBuilder::new()
    }

    /// A builder for a SecureAuth Connect workspace: the token URL is
    /// `https://TENANT.REGION.connect.secureauth.com/TENANT/WORKSPACE/oauth2/token`.
    pub fn secureauth(tenant: &str, region: &str, workspace: &str) -> Result<TokenClientBuilder> {
        Ok(TokenClientBuilder::new().token_url(secureauth_token_url(tenant, region, workspace)?))
    }

    /// A client configured from `M2M_*` environment variables (see [`crate::env`]).
    pub fn from_env() -> Result<TokenClient> {
        builder_from_env()?.build()
    }

    pub(crate) fn from_config(cfg: ClientConfig) -> Result<Self> {
        let http = http_client(&cfg)?;
        let default_params = TokenParams::new(
            cfg.scopes.clone(),
            cfg.audience.clone(),
            cfg.resources.clone(),
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                http,
                default_params,
                default_slot: Arc::default(),
                other_slots: Mutex::default(),
                counters: Counters::default(),
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

    /// The cached token, if one is fresh, without waiting and without a runtime. Bindings use it as their
    /// fast path; it counts as a cache hit.
    pub fn cached(&self, params: Option<&TokenParams>) -> Option<Arc<Token>> {
        let token = match params {
            None => self.usable(&self.inner.default_slot),
            Some(p) if *p == self.inner.default_params => self.usable(&self.inner.default_slot),
            Some(p) => self.usable(&self.slot(p)),
        }?;
        self.inner.counters.hit();
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

    /// Drops every cached token, e.g. after an API answered 401: the next call fetches a new one. A fetch
    /// already in flight is not cancelled; callers waiting on it still get its result.
    pub fn invalidate(&self) {
        self.inner.default_slot.clear();
        let slots = self
            .inner
            .other_slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for slot in slots.values() {
            slot.clear();
        }
    }

    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    pub fn token_url(&self) -> &str {
        self.inner.cfg.token_url.as_str()
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

    /// `TokenClient(token_url='…', client_id='…', auth_method='…', scopes=[…])` — the repr of every binding.
    /// It never contains the secret.
    pub fn describe(&self) -> String {
        let scopes: Vec<String> = self.scopes().iter().map(|s| format!("'{s}'")).collect();
        format!(
            "TokenClient(token_url='{}', client_id='{}', auth_method='{}', scopes=[{}])",
            self.token_url(),
            self.client_id(),
            self.auth_method(),
            scopes.join(", ")
        )
    }

    fn usable(&self, slot: &Slot) -> Option<Arc<Token>> {
        slot.usable(self.inner.cfg.expiry_skew, Instant::now())
    }

    fn slot(&self, params: &TokenParams) -> Arc<Slot> {
        if *params == self.inner.default_params {
            return Arc::clone(&self.inner.default_slot);
        }
        let mut slots = self
            .inner
            .other_slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(slots.entry(params.clone()).or_default())
    }

    async fn get(&self, slot: &Arc<Slot>, params: &TokenParams) -> Result<Arc<Token>> {
        if let Some(token) = self.usable(slot) {
            self.inner.counters.hit();
            return Ok(token);
        }
        self.inner.counters.miss();
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::Internal("m2m-auth must be called from within a tokio runtime".into())
        })?;
        let fetch = slot.join_or_start(|| {
            // The fetch runs as its own task: it completes and fills the cache even if the caller that
            // started it goes away, and a panic inside it becomes an error instead of unwinding into callers.
            let task = runtime.spawn(fetch(
                Arc::clone(&self.inner),
                Arc::clone(slot),
                params.clone(),
            ));
            async move {
                match task.await {
                    Ok(result) => result,
                    Err(e) if e.is_panic() => Err(Error::Internal(format!(
                        "the token fetch panicked: {}",
                        panic_message(e.into_panic())
                    ))),
                    Err(_) => Err(Error::Internal("the token fetch was cancelled".into())),
                }
            }
            .boxed()
        });
        fetch.await
    }
}

async fn fetch(inner: Arc<Inner>, slot: Arc<Slot>, params: TokenParams) -> Result<Arc<Token>> {
    inner.counters.fetch();
    tracing::debug!(token_url = %inner.cfg.token_url, client_id = %inner.cfg.client_id, scopes = ?params.scopes, "requesting a token");
    match request_token(&inner.http, &inner.cfg, &params).await {
        Ok(token) => {
            let token = Arc::new(token);
            tracing::debug!(client_id = %inner.cfg.client_id, expires_in = ?token.lifetime(), "token received");
            slot.store(Arc::clone(&token));
            Ok(token)
        }
        Err(e) => {
            let e = e.scrub(inner.cfg.client_secret.expose());
            tracing::warn!(client_id = %inner.cfg.client_id, error = %e, "token request failed");
            inner.counters.failure(e.to_string());
            Err(e)
        }
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
