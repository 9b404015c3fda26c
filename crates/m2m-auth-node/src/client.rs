//! `NativeTokenClient`: what `node/index.js` wraps. Converts the options object, returns Promises, maps
//! errors; the core makes every decision.

use std::collections::HashMap;

use napi_derive::napi;

use m2m_auth::{ClientOptions, MirrorDrop, TokenClient, TokenClientBuilder, TokenParams};

use crate::api::{NativeApiRequest, NativeApiResponse};
use crate::error::{guarded, guarded_sync, to_napi};
use crate::events::{EventCallback, TokenCallback, event_hook, token_watcher};
use crate::options::client_options;

/// What `invalidate` did, and what the JS mirror must do: forget its token, and with `fence` ignore every
/// update numbered `fence` or lower.
#[napi(object)]
#[derive(Debug)]
pub struct NativeInvalidation {
    pub dropped: bool,
    pub forget_mirror: bool,
    pub fence: Option<f64>,
}

/// Per-call parameters: each one left out takes the client's own setting.
#[napi(object)]
#[derive(Debug, Default)]
pub struct NativeTokenParams {
    pub scopes: Option<Vec<String>>,
    pub audience: Option<String>,
    pub resources: Option<Vec<String>>,
    /// Extra form fields for this request; they replace the client's of the same name.
    pub extra_params: Option<HashMap<String, String>>,
}

#[napi(object)]
#[derive(Debug)]
pub struct NativeToken {
    pub access_token: String,
    pub token_type: String,
    pub scope: Option<String>,
    /// Milliseconds left until expiry.
    pub expires_in_ms: f64,
    /// Expiry as milliseconds since the Unix epoch (a `Date` value).
    pub expires_at_ms: f64,
}

impl From<&m2m_auth::Token> for NativeToken {
    fn from(t: &m2m_auth::Token) -> Self {
        Self {
            access_token: t.access_token().to_owned(),
            token_type: t.token_type().to_owned(),
            scope: t.scope().map(str::to_owned),
            expires_in_ms: t.expires_in().as_secs_f64() * 1000.0,
            expires_at_ms: t.expires_at_unix() * 1000.0,
        }
    }
}

#[napi(object)]
#[derive(Debug)]
pub struct NativeStats {
    pub hits: f64,
    pub misses: f64,
    pub fetches: f64,
    pub refreshes: f64,
    pub failures: f64,
    pub last_error: Option<String>,
    pub shared_hits: f64,
    pub shared_misses: f64,
    pub shared_errors: f64,
    pub shared_rejected: f64,
    pub lock_waits: f64,
}

#[napi]
#[derive(Debug)]
pub struct NativeTokenClient {
    inner: TokenClient,
}

/// The JS callbacks a client reports to: its events (`onEvent`, NODE_DEBUG) and the changes of its default
/// token, which `index.js` mirrors to answer cache hits without a native call.
fn with_callbacks(
    mut builder: TokenClientBuilder,
    on_event: Option<EventCallback>,
    on_token: Option<TokenCallback>,
) -> TokenClientBuilder {
    if let Some(callback) = on_event {
        builder = builder.on_event(event_hook(callback));
    }
    if let Some(callback) = on_token {
        builder = builder.watch_token(token_watcher(callback));
    }
    builder
}

/// The client of `builder`, reporting to the JS callbacks.
fn build(
    builder: TokenClientBuilder,
    on_event: Option<EventCallback>,
    on_token: Option<TokenCallback>,
) -> napi::Result<NativeTokenClient> {
    Ok(NativeTokenClient {
        inner: with_callbacks(builder, on_event, on_token)
            .build()
            .map_err(to_napi)?,
    })
}

/// The builder of a JS options object.
fn builder_of(options: ClientOptions) -> napi::Result<TokenClientBuilder> {
    options.apply(TokenClientBuilder::new()).map_err(to_napi)
}

impl NativeTokenClient {
    fn params(&self, params: Option<NativeTokenParams>) -> napi::Result<Option<TokenParams>> {
        match params {
            None => Ok(None),
            Some(NativeTokenParams {
                scopes: None,
                audience: None,
                resources: None,
                extra_params: None,
            }) => Ok(None),
            Some(p) => {
                let params = self
                    .inner
                    .params(p.scopes, p.audience, p.resources)
                    .map_err(to_napi)?;
                match p.extra_params {
                    Some(extra) => params.with_extra(extra.into_iter().collect()),
                    None => Ok(params),
                }
                .map(Some)
                .map_err(to_napi)
            }
        }
    }

    async fn token(
        &self,
        params: Option<TokenParams>,
    ) -> napi::Result<std::sync::Arc<m2m_auth::Token>> {
        let client = self.inner.clone();
        guarded(async move {
            match &params {
                Some(p) => client.token_for(p).await,
                None => client.token().await,
            }
            .map_err(to_napi)
        })
        .await
    }
}

#[napi]
impl NativeTokenClient {
    /// `onEvent` receives each event as JSON text: {level, kind, clientId, message}; `onToken` each change of
    /// the default token as JSON text: {seq, token, serveForMs}.
    #[napi(constructor)]
    pub fn new(
        options: serde_json::Map<String, serde_json::Value>,
        on_event: Option<EventCallback>,
        on_token: Option<TokenCallback>,
    ) -> napi::Result<Self> {
        guarded_sync(|| build(builder_of(client_options(options)?)?, on_event, on_token))
    }

    /// A client for a SecureAuth Connect workspace: the options name tenant, region and workspace.
    #[napi(factory)]
    pub fn secureauth(
        options: serde_json::Map<String, serde_json::Value>,
        on_event: Option<EventCallback>,
        on_token: Option<TokenCallback>,
    ) -> napi::Result<Self> {
        guarded_sync(|| {
            let options = client_options(options)?;
            options.require_workspace().map_err(to_napi)?;
            build(builder_of(options)?, on_event, on_token)
        })
    }

    #[napi(factory)]
    pub fn from_env(
        on_event: Option<EventCallback>,
        on_token: Option<TokenCallback>,
    ) -> napi::Result<Self> {
        guarded_sync(|| {
            build(
                m2m_auth::env::builder_from_env().map_err(to_napi)?,
                on_event,
                on_token,
            )
        })
    }

    /// The access token; cached while fresh.
    #[napi]
    pub async fn get_token(&self, params: Option<NativeTokenParams>) -> napi::Result<String> {
        let params = self.params(params)?;
        Ok(self.token(params).await?.access_token().to_owned())
    }

    /// The token with its type, scope and expiry.
    #[napi]
    pub async fn fetch_token(
        &self,
        params: Option<NativeTokenParams>,
    ) -> napi::Result<NativeToken> {
        let params = self.params(params)?;
        Ok(NativeToken::from(&*self.token(params).await?))
    }

    /// The cached token if it is fresh, without a Promise; `undefined` otherwise.
    #[napi]
    pub fn cached_token(&self, params: Option<NativeTokenParams>) -> napi::Result<Option<String>> {
        guarded_sync(|| {
            let params = self.params(params)?;
            Ok(self
                .inner
                .cached(params.as_ref())
                .map(|t| t.access_token().to_owned()))
        })
    }

    /// `url`, normalised, if the client may send its token there (https, or plain http to loopback or with
    /// `allowInsecureHttp`); else a ConfigError. The HTTP integrations ask before every request.
    #[napi]
    pub fn check_api_url(&self, url: String) -> napi::Result<String> {
        Ok(self.inner.check_api_url(&url).map_err(to_napi)?.into())
    }

    /// Drops every cached token, or with `token` only that one if it is still cached, and says what the JS
    /// mirror must do (`mirrorHoldsToken`: whether it serves `token`).
    #[napi]
    pub fn invalidate(
        &self,
        token: Option<String>,
        mirror_holds_token: bool,
    ) -> NativeInvalidation {
        let outcome = self
            .inner
            .invalidate_mirrored(token.as_deref(), mirror_holds_token);
        let (forget_mirror, fence) = match outcome.mirror {
            MirrorDrop::Keep => (false, None),
            MirrorDrop::Forget => (true, None),
            MirrorDrop::ForgetThrough(seq) => (true, Some(seq as f64)),
        };
        NativeInvalidation {
            dropped: outcome.dropped,
            forget_mirror,
            fence,
        }
    }

    #[napi]
    pub fn stats(&self) -> NativeStats {
        let s = self.inner.stats();
        NativeStats {
            hits: s.hits as f64,
            misses: s.misses as f64,
            fetches: s.fetches as f64,
            refreshes: s.refreshes as f64,
            failures: s.failures as f64,
            last_error: s.last_error,
            shared_hits: s.shared_hits as f64,
            shared_misses: s.shared_misses as f64,
            shared_errors: s.shared_errors as f64,
            shared_rejected: s.shared_rejected as f64,
            lock_waits: s.lock_waits as f64,
        }
    }

    #[napi(getter)]
    pub fn token_url(&self) -> Option<String> {
        self.inner.token_url().map(str::to_owned)
    }

    #[napi(getter)]
    pub fn issuer(&self) -> Option<String> {
        self.inner.issuer().map(str::to_owned)
    }

    #[napi(getter)]
    pub fn client_id(&self) -> String {
        self.inner.client_id().to_owned()
    }

    #[napi(getter)]
    pub fn auth_method(&self) -> String {
        self.inner.auth_method().as_str().to_owned()
    }

    #[napi(getter)]
    pub fn scopes(&self) -> Vec<String> {
        self.inner.scopes().to_vec()
    }

    /// One request to a protected API with the token, through the core (client certificate presented, a
    /// rejected token replaced once).
    #[napi]
    pub async fn call(&self, request: NativeApiRequest) -> napi::Result<NativeApiResponse> {
        let request = request.into_core().map_err(to_napi)?;
        let client = self.inner.clone();
        guarded(async move { client.call(&request).await.map_err(to_napi) })
            .await
            .map(NativeApiResponse::from)
    }

    /// Whether the client presents a certificate (so its tokens may be bound to it).
    #[napi(getter)]
    pub fn has_client_certificate(&self) -> bool {
        self.inner.has_client_certificate()
    }

    /// The description used by `util.inspect` and `toString`; never contains the secret.
    #[napi]
    pub fn describe(&self) -> String {
        self.inner.describe()
    }
}
