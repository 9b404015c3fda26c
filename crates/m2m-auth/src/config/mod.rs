//! Client configuration: the builder every language fills in, and the checks that turn it into a
//! [`ClientConfig`] the client can trust.

pub mod env;
pub(crate) mod options;
pub(crate) mod params;
pub mod settings;

use std::fmt;
use std::time::Duration;

use url::Url;
use zeroize::Zeroizing;

use crate::cache::shared::{self, CacheUrl, SharedSettings};
use crate::cache::watch::TokenWatcher;
use crate::config::params::check_extra_param;
use crate::credentials::auth_method::{AuthMethod, Credential};
use crate::credentials::redact::Redactor;
use crate::credentials::secret::SecretString;
use crate::credentials::signing_key::SigningKey;
use crate::credentials::tls::{CaBundle, ClientCertificate};
use crate::endpoint::retry::RetryPolicy;
use crate::error::{Error, Result};
use crate::events::{EventHook, EventKind, EventLevel, emit};
use crate::http::url_policy::check_endpoint_url;

/// Default time a request to the token endpoint may take, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// A token is not handed out once it is this close to expiry (capped at a tenth of its lifetime, so that
/// short-lived tokens stay usable).
pub const DEFAULT_EXPIRY_SKEW: Duration = Duration::from_secs(30);
/// Lifetime assumed when the server sends neither `expires_in` nor a JWT with `exp`.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// Largest token response body read; reading stops there.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Share of a token's lifetime after which a background refresh starts.
pub const DEFAULT_REFRESH_RATIO: f64 = 0.8;

/// The longest any duration setting may be: a day. Longer is a mistake (a unit mix-up, `Duration::MAX`)
/// that would overflow the clock arithmetic.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Most requests one fetch may make.
const MAX_ATTEMPTS: u32 = 100;
/// Largest token response cap: 64 MiB.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Builds a [`crate::TokenClient`]. Every setter takes plain values; all checks happen in [`Self::build`].
#[derive(Clone, Default)]
pub struct TokenClientBuilder {
    pub(crate) token_url: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) private_key: Option<SigningKey>,
    pub(crate) client_cert: Option<ClientCertificate>,
    pub(crate) ca_bundle: Option<CaBundle>,
    pub(crate) assertion_audience: Option<String>,
    pub(crate) auth_method: Option<AuthMethod>,
    pub(crate) scopes: Vec<String>,
    pub(crate) audience: Option<String>,
    pub(crate) resources: Vec<String>,
    pub(crate) extra_params: Vec<(String, String)>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) expiry_skew: Option<Duration>,
    pub(crate) default_lifetime: Option<Duration>,
    pub(crate) max_response_bytes: Option<usize>,
    pub(crate) allow_insecure_http: bool,
    pub(crate) retry: Option<RetryPolicy>,
    pub(crate) refresh_ratio: Option<f64>,
    pub(crate) cache_url: Option<String>,
    pub(crate) cache_prefix: Option<String>,
    pub(crate) cache_timeout: Option<Duration>,
    pub(crate) cache_lock_ttl: Option<Duration>,
    pub(crate) cache_encryption_key: Option<SecretString>,
    pub(crate) event_hook: Option<EventHook>,
    pub(crate) token_watcher: Option<TokenWatcher>,
    pub(crate) runtime: Option<tokio::runtime::Handle>,
    pub(crate) panic_on_fetch: bool,
}

impl fmt::Debug for TokenClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenClientBuilder")
            .field("token_url", &self.token_url)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("private_key", &self.private_key)
            .field("client_cert", &self.client_cert)
            .field("auth_method", &self.auth_method)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl TokenClientBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The authorization server's issuer: the token endpoint (and, with a client certificate, its mutual-TLS
    /// alias) is read from its metadata at first use, and the method is checked against what it supports.
    /// With a token URL as well, the issuer is only asked for the mutual-TLS alias.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    pub fn client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// The private key for `private_key_jwt` (chosen by default when a key is given).
    pub fn private_key(mut self, key: SigningKey) -> Self {
        self.private_key = Some(key);
        self
    }

    /// The client certificate presented on every connection: client authentication for `tls_client_auth` and
    /// `self_signed_tls_client_auth` (the default when it is the only credential), and certificate-bound
    /// tokens (RFC 8705) with any method.
    pub fn client_certificate(mut self, cert: ClientCertificate) -> Self {
        self.client_cert = Some(cert);
        self
    }

    /// Trust only these CAs for the authorization server (a private PKI) instead of the system's.
    pub fn ca_bundle(mut self, bundle: CaBundle) -> Self {
        self.ca_bundle = Some(bundle);
        self
    }

    /// The `aud` of client assertions; default: the token endpoint URL the assertion is sent to. Some servers
    /// want their issuer here.
    pub fn assertion_audience(mut self, audience: impl Into<String>) -> Self {
        self.assertion_audience = Some(audience.into());
        self
    }

    pub fn auth_method(mut self, method: AuthMethod) -> Self {
        self.auth_method = Some(method);
        self
    }

    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// RFC 8707 resource indicators; each is sent as its own `resource` parameter.
    pub fn resources<I, S>(mut self, resources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resources = resources.into_iter().map(Into::into).collect();
        self
    }

    /// An extra form parameter sent with every token request.
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_params.push((name.into(), value.into()));
        self
    }

    /// Time one request to the token endpoint may take, from connecting to the last byte.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub fn expiry_skew(mut self, skew: Duration) -> Self {
        self.expiry_skew = Some(skew);
        self
    }

    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = Some(lifetime);
        self
    }

    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = Some(bytes);
        self
    }

    /// Allow a plain `http://` token URL to a host that is not loopback. Sends the secret in clear text: only
    /// for networks you trust completely.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// How failed token requests are retried (see [`RetryPolicy`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Share of a token's lifetime (0 < ratio ≤ 1) after which a background refresh starts while callers
    /// keep getting the current token. 1 turns refresh-ahead off. Default 0.8.
    pub fn refresh_ratio(mut self, ratio: f64) -> Self {
        self.refresh_ratio = Some(ratio);
        self
    }

    /// Where tokens are cached: `memory:` (this process, the default), `file:DIR` (the processes of one
    /// host), `redis://…` or `rediss://…` (a fleet: one token request per rotation for all of it).
    pub fn cache_url(mut self, url: impl Into<String>) -> Self {
        self.cache_url = Some(url.into());
        self
    }

    /// Put before every name in the shared cache (default `m2m-auth:`).
    pub fn cache_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.cache_prefix = Some(prefix.into());
        self
    }

    /// The longest one shared-cache operation may take (default 250 ms); slower counts as down, and the
    /// process fetches for itself.
    pub fn cache_timeout(mut self, timeout: Duration) -> Self {
        self.cache_timeout = Some(timeout);
        self
    }

    /// How long the fleet-wide lock lasts unless its holder extends it (default 5 s): the time after which
    /// another process takes over from one that died holding it.
    pub fn cache_lock_ttl(mut self, ttl: Duration) -> Self {
        self.cache_lock_ttl = Some(ttl);
        self
    }

    /// 32 bytes in base64 that seal the shared entries instead of a key derived from the credential, so that
    /// services with different credentials of one client share tokens.
    pub fn cache_encryption_key(mut self, key: impl Into<SecretString>) -> Self {
        self.cache_encryption_key = Some(key.into());
        self
    }

    /// Receives the client's events (requests, retries, failures, refreshes).
    pub fn on_event(mut self, hook: EventHook) -> Self {
        self.event_hook = Some(hook);
        self
    }

    /// Receives every change of the default token (see [`crate::TokenUpdate`]).
    pub fn watch_token(mut self, watcher: TokenWatcher) -> Self {
        self.token_watcher = Some(watcher);
        self
    }

    /// The runtime for background refreshes started from synchronous calls ([`crate::TokenClient::cached`]).
    /// Without it the client uses the runtime of its first asynchronous call.
    pub fn runtime(mut self, handle: tokio::runtime::Handle) -> Self {
        self.runtime = Some(handle);
        self
    }

    /// Test hook: every token fetch panics inside the core. Lets the bindings prove that a panic surfaces as
    /// an error and never takes the process down. Only with the `test-hooks` feature, which no package ships.
    #[cfg(feature = "test-hooks")]
    pub fn panic_on_fetch(mut self, yes: bool) -> Self {
        self.panic_on_fetch = yes;
        self
    }

    pub fn build(self) -> Result<crate::TokenClient> {
        crate::TokenClient::from_config(self.validate()?)
    }

    pub(crate) fn validate(self) -> Result<ClientConfig> {
        let allow_http = self.allow_insecure_http;
        let token_url = self
            .token_url
            .filter(|u| !u.trim().is_empty())
            .map(|u| check_endpoint_url(&u, "token_url", allow_http))
            .transpose()?;
        let issuer = self
            .issuer
            .filter(|u| !u.trim().is_empty())
            .map(|u| check_endpoint_url(&u, "issuer", allow_http))
            .transpose()?;
        if token_url.is_none() && issuer.is_none() {
            return Err(Error::config(
                "token_url",
                "(or `issuer`, to discover it) is required",
            ));
        }
        let client_id = required(self.client_id, "client_id")?;
        if client_id.trim() != client_id || client_id.chars().any(char::is_control) {
            return Err(Error::config(
                "client_id",
                "has leading/trailing whitespace or control characters",
            ));
        }
        let client_secret = self.client_secret.filter(|s| !s.is_empty());
        let auth_method = check_credentials(
            self.auth_method,
            client_secret.is_some(),
            self.private_key.is_some(),
            self.client_cert.is_some(),
        )?;
        if auth_method.credential() == Credential::Certificate
            && token_url.as_ref().is_some_and(|u| u.scheme() != "https")
        {
            return Err(Error::config(
                "token_url",
                format!("must be https: auth method {auth_method} presents a client certificate"),
            ));
        }
        let scopes = normalize_scopes(self.scopes)?;
        let timeout = bounded(
            self.timeout.unwrap_or(DEFAULT_TIMEOUT),
            "timeout",
            false,
            MAX_DURATION,
        )?;
        let expiry_skew = bounded(
            self.expiry_skew.unwrap_or(DEFAULT_EXPIRY_SKEW),
            "expiry_skew",
            true,
            MAX_DURATION,
        )?;
        let default_lifetime = bounded(
            self.default_lifetime.unwrap_or(DEFAULT_LIFETIME),
            "default_lifetime",
            false,
            MAX_DURATION,
        )?;
        let max_response_bytes = self
            .max_response_bytes
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);
        if !(1..=MAX_RESPONSE_BYTES).contains(&max_response_bytes) {
            return Err(Error::config(
                "max_response_bytes",
                format!("must be from 1 to {MAX_RESPONSE_BYTES}, not {max_response_bytes}"),
            ));
        }
        for (name, _) in &self.extra_params {
            check_extra_param(name)?;
        }
        let retry = self.retry.unwrap_or_default();
        if !(1..=MAX_ATTEMPTS).contains(&retry.max_attempts) {
            return Err(Error::config(
                "max_attempts",
                format!(
                    "must be from 1 to {MAX_ATTEMPTS}, not {}",
                    retry.max_attempts
                ),
            ));
        }
        bounded(retry.deadline, "retry_deadline", false, MAX_DURATION)?;
        bounded(retry.initial_backoff, "retry_backoff", true, MAX_DURATION)?;
        bounded(retry.max_backoff, "retry_max_backoff", true, MAX_DURATION)?;
        bounded(retry.max_retry_after, "max_retry_after", true, MAX_DURATION)?;
        let refresh_ratio = self.refresh_ratio.unwrap_or(DEFAULT_REFRESH_RATIO);
        if !(refresh_ratio > 0.0 && refresh_ratio <= 1.0) {
            return Err(Error::config(
                "refresh_ratio",
                format!("must be greater than 0 and at most 1, not {refresh_ratio}"),
            ));
        }
        let shared = shared_settings(
            self.cache_url,
            self.cache_prefix,
            self.cache_timeout,
            self.cache_lock_ttl,
            self.cache_encryption_key,
        )?;
        let redactor = Redactor::new(&client_id, client_secret.as_ref());
        Ok(ClientConfig {
            redactor,
            token_url,
            issuer,
            client_id,
            client_secret,
            private_key: self.private_key,
            client_cert: self.client_cert,
            ca_bundle: self.ca_bundle,
            assertion_audience: self.assertion_audience.filter(|a| !a.is_empty()),
            allow_insecure_http: allow_http,
            auth_method,
            scopes,
            audience: self.audience.filter(|a| !a.is_empty()),
            resources: self.resources,
            extra_params: self.extra_params,
            timeout,
            expiry_skew,
            default_lifetime,
            max_response_bytes,
            retry,
            refresh_ratio,
            shared,
            event_hook: self.event_hook,
            token_watcher: self.token_watcher,
            runtime: self.runtime,
            panic_on_fetch: self.panic_on_fetch,
        })
    }
}

/// A configuration that passed every check.
#[derive(Clone)]
pub(crate) struct ClientConfig {
    /// Keeps every form of the secret out of errors, events and stats.
    pub redactor: Redactor,
    /// Given, or `None` until discovery finds it (see `crate::endpoint`).
    pub token_url: Option<Url>,
    pub issuer: Option<Url>,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub private_key: Option<SigningKey>,
    pub client_cert: Option<ClientCertificate>,
    pub ca_bundle: Option<CaBundle>,
    pub assertion_audience: Option<String>,
    pub allow_insecure_http: bool,
    pub auth_method: AuthMethod,
    pub scopes: Vec<String>,
    pub audience: Option<String>,
    pub resources: Vec<String>,
    pub extra_params: Vec<(String, String)>,
    pub timeout: Duration,
    pub expiry_skew: Duration,
    pub default_lifetime: Duration,
    pub max_response_bytes: usize,
    pub retry: RetryPolicy,
    pub refresh_ratio: f64,
    /// The shared cache's settings; `None` for the in-process cache alone.
    pub shared: Option<SharedSettings>,
    pub event_hook: Option<EventHook>,
    pub token_watcher: Option<TokenWatcher>,
    pub runtime: Option<tokio::runtime::Handle>,
    pub panic_on_fetch: bool,
}

/// The shared cache's settings, checked; `None` when tokens stay in the process (`memory:`).
pub(crate) fn shared_settings(
    url: Option<String>,
    prefix: Option<String>,
    timeout: Option<Duration>,
    lock_ttl: Option<Duration>,
    encryption_key: Option<SecretString>,
) -> Result<Option<SharedSettings>> {
    let url = CacheUrl::parse(url.as_deref().unwrap_or(""))?;
    let prefix = prefix.unwrap_or_else(|| shared::DEFAULT_PREFIX.to_owned());
    if prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::config(
            "cache_prefix",
            "may not contain spaces or control characters",
        ));
    }
    // A shared cache that may take longer than a minute per operation is no cache; a lock shorter than
    // 100 ms would be extended in a tight loop, one longer than 10 minutes would hold a fleet up that long
    // after its owner died.
    let timeout = bounded(
        timeout.unwrap_or(shared::DEFAULT_TIMEOUT),
        "cache_timeout",
        false,
        Duration::from_secs(60),
    )?;
    let lock_ttl = bounded(
        lock_ttl.unwrap_or(shared::DEFAULT_LOCK_TTL),
        "cache_lock_ttl",
        false,
        Duration::from_secs(600),
    )?;
    if lock_ttl < Duration::from_millis(100) {
        return Err(Error::config(
            "cache_lock_ttl",
            format!("must be at least 0.1s, not {lock_ttl:?}"),
        ));
    }
    let encryption_key = encryption_key
        .map(|key| decode_encryption_key(&key))
        .transpose()?;
    if url == CacheUrl::Memory {
        return Ok(None);
    }
    Ok(Some(SharedSettings {
        url,
        prefix,
        timeout,
        lock_ttl,
        encryption_key,
    }))
}

/// `cache_encryption_key`: 32 bytes in base64 (standard or URL-safe, padded or not).
fn decode_encryption_key(key: &SecretString) -> Result<Zeroizing<[u8; 32]>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let text = key.expose().trim().trim_end_matches('=');
    let bytes = Zeroizing::new(
        STANDARD_NO_PAD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text))
            .map_err(|_| {
                Error::config(
                    "cache_encryption_key",
                    "is not base64 (make one with `openssl rand -base64 32`)",
                )
            })?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    if bytes.len() != out.len() {
        return Err(Error::config(
            "cache_encryption_key",
            format!("must be 32 bytes in base64, not {} bytes", bytes.len()),
        ));
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}

fn required(value: Option<String>, field: &str) -> Result<String> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(Error::config(field, "is required")),
    }
}

/// `d` if it is within bounds: greater than zero (or zero, where `zero_ok`: it turns the thing off), and at
/// most `max`.
pub(crate) fn bounded(d: Duration, field: &str, zero_ok: bool, max: Duration) -> Result<Duration> {
    if d.is_zero() && !zero_ok {
        return Err(Error::config(field, "must be greater than zero"));
    }
    if d > max {
        return Err(Error::config(
            field,
            format!("must be at most {}s, not {d:?}", max.as_secs()),
        ));
    }
    Ok(d)
}

impl ClientConfig {
    /// Reports an event of this client, with the secret redacted from its message.
    pub(crate) fn emit(&self, level: EventLevel, kind: EventKind, message: String) {
        emit(
            self.event_hook.as_ref(),
            level,
            kind,
            &self.client_id,
            self.redactor.redact(message),
        );
    }
}

/// Scopes are a set (RFC 6749 §3.3): sorted and de-duplicated, so that the same set always means the same
/// cache entry and the same request. A scope token may not contain spaces, quotes or backslashes.
pub(crate) fn normalize_scopes(scopes: Vec<String>) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(scopes.len());
    for scope in scopes {
        // Accept "a b" as two scopes: people pass the space-joined string they know from the docs.
        for part in scope.split_ascii_whitespace() {
            if part
                .chars()
                .any(|c| c == '"' || c == '\\' || !(c.is_ascii_graphic()))
            {
                return Err(Error::config(
                    "scopes",
                    format!(
                        ": {part:?} contains a character RFC 6749 §3.3 does not allow in a scope"
                    ),
                ));
            }
            out.push(part.to_owned());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The method to use, given the one asked for (if any) and the credentials present: a key means
/// `private_key_jwt`, a secret `client_secret_post`, a certificate alone `tls_client_auth`. A credential the
/// method does not use is a contradiction, not something to ignore silently — except a client certificate,
/// which also binds tokens (RFC 8705 §3) whatever the method.
fn check_credentials(
    asked: Option<AuthMethod>,
    secret: bool,
    key: bool,
    cert: bool,
) -> Result<AuthMethod> {
    let method = match asked {
        Some(m) => m,
        None if key => AuthMethod::PrivateKeyJwt,
        None if secret => AuthMethod::ClientSecretPost,
        None if cert => AuthMethod::TlsClientAuth,
        None => {
            return Err(Error::config(
                "client_secret",
                "is required (or `private_key` / `client_cert` for key or certificate authentication)",
            ));
        }
    };
    let (needed, field) = match method.credential() {
        Credential::Secret => (secret, "client_secret"),
        Credential::PrivateKey => (key, "private_key"),
        Credential::Certificate => (cert, "client_cert"),
    };
    if !needed {
        return Err(Error::config(
            field,
            format!("is required for auth method {method}"),
        ));
    }
    for (present, field, credential) in [
        (secret, "client_secret", Credential::Secret),
        (key, "private_key", Credential::PrivateKey),
    ] {
        if present && method.credential() != credential {
            return Err(Error::config(
                field,
                format!("is set but auth method {method} does not use it; remove one of them"),
            ));
        }
    }
    Ok(method)
}

/// The token URL of a SecureAuth Connect workspace.
pub fn secureauth_token_url(tenant: &str, region: &str, workspace: &str) -> Result<String> {
    Ok(format!(
        "{}/oauth2/token",
        secureauth_issuer(tenant, region, workspace)?
    ))
}

/// The issuer of a SecureAuth Connect workspace: `https://TENANT.REGION.connect.secureauth.com/TENANT/WORKSPACE`.
pub fn secureauth_issuer(tenant: &str, region: &str, workspace: &str) -> Result<String> {
    for (field, value) in [
        ("tenant", tenant),
        ("region", region),
        ("workspace", workspace),
    ] {
        let ok = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(Error::config(
                field,
                format!(
                    "must be non-empty letters, digits, '-' or '_' (a SecureAuth workspace part), not {value:?}"
                ),
            ));
        }
    }
    Ok(format!(
        "https://{tenant}.{region}.connect.secureauth.com/{tenant}/{workspace}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> TokenClientBuilder {
        TokenClientBuilder::new()
            .token_url("https://idp.example/oauth2/token")
            .client_id("svc")
            .client_secret("secret-value")
    }

    fn field_of(e: Error) -> String {
        match e {
            Error::Config { field, .. } => field,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn missing_settings_name_their_field() {
        assert_eq!(
            field_of(TokenClientBuilder::new().validate().err().expect("error")),
            "token_url"
        );
        let no_id = TokenClientBuilder::new().token_url("https://x/t");
        assert_eq!(
            field_of(no_id.validate().err().expect("error")),
            "client_id"
        );
        let no_secret = TokenClientBuilder::new()
            .token_url("https://x/t")
            .client_id("a");
        assert_eq!(
            field_of(no_secret.validate().err().expect("error")),
            "client_secret"
        );
    }

    #[test]
    fn every_duration_is_bounded() {
        let huge = Duration::MAX;
        assert_eq!(
            field_of(base().timeout(huge).validate().err().expect("error")),
            "timeout"
        );
        assert_eq!(
            field_of(base().expiry_skew(huge).validate().err().expect("error")),
            "expiry_skew"
        );
        assert_eq!(
            field_of(
                base()
                    .default_lifetime(huge)
                    .validate()
                    .err()
                    .expect("error")
            ),
            "default_lifetime"
        );
        for (policy, field) in [
            (
                RetryPolicy {
                    deadline: huge,
                    ..RetryPolicy::default()
                },
                "retry_deadline",
            ),
            (
                RetryPolicy {
                    initial_backoff: huge,
                    ..RetryPolicy::default()
                },
                "retry_backoff",
            ),
            (
                RetryPolicy {
                    max_backoff: huge,
                    ..RetryPolicy::default()
                },
                "retry_max_backoff",
            ),
            (
                RetryPolicy {
                    max_retry_after: huge,
                    ..RetryPolicy::default()
                },
                "max_retry_after",
            ),
            (
                RetryPolicy {
                    max_attempts: u32::MAX,
                    ..RetryPolicy::default()
                },
                "max_attempts",
            ),
        ] {
            assert_eq!(
                field_of(base().retry(policy).validate().err().expect("error")),
                field
            );
        }
        assert_eq!(
            field_of(
                base()
                    .max_response_bytes(usize::MAX)
                    .validate()
                    .err()
                    .expect("error")
            ),
            "max_response_bytes"
        );
        assert!(base().timeout(MAX_DURATION).validate().is_ok());
    }

    #[test]
    fn plain_http_only_to_loopback_or_when_allowed() {
        for ok in [
            "http://127.0.0.1:8080/t",
            "http://localhost/t",
            "http://[::1]:9/t",
        ] {
            assert!(base().token_url(ok).validate().is_ok(), "{ok}");
        }
        let remote = base().token_url("http://idp.example/t");
        assert_eq!(
            field_of(remote.clone().validate().err().expect("error")),
            "token_url"
        );
        assert!(remote.allow_insecure_http(true).validate().is_ok());
        assert!(base().token_url("ftp://x/t").validate().is_err());
    }

    #[test]
    fn credentials_in_url_are_refused_without_echoing_them() {
        let e = base()
            .token_url("https://svc:topsecret@idp.example/t")
            .validate()
            .err()
            .expect("error");
        assert!(!e.to_string().contains("topsecret"));
    }

    #[test]
    fn scopes_are_a_sorted_set() {
        let cfg = base().scopes(["b", "a c", "a"]).validate().expect("valid");
        assert_eq!(cfg.scopes, ["a", "b", "c"]);
        assert!(base().scopes(["bad\"quote"]).validate().is_err());
    }

    #[test]
    fn secureauth_url_pattern() {
        assert_eq!(
            secureauth_token_url("acme", "us", "payments").expect("url"),
            "https://acme.us.connect.secureauth.com/acme/payments/oauth2/token"
        );
        let e = secureauth_token_url("acme", "us/evil", "w").expect_err("error");
        assert_eq!(field_of(e), "region");
    }

    #[test]
    fn reserved_extra_params_are_refused() {
        assert!(
            base()
                .extra_param("grant_type", "password")
                .validate()
                .is_err()
        );
        assert!(base().extra_param("tenant", "x").validate().is_ok());
    }
}
