//! Client configuration: the builder every language fills in, and the checks that turn it into a
//! [`ClientConfig`] the client can trust.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use url::{Host, Url};

use crate::error::{Error, Result};
use crate::events::EventHook;
use crate::retry::RetryPolicy;
use crate::secret::SecretString;

/// How the client authenticates itself at the token endpoint (RFC 6749 §2.3, OIDC Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AuthMethod {
    /// `client_id` and `client_secret` in the form body: what SecureAuth's quick start shows.
    #[default]
    ClientSecretPost,
    /// HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 2] = [AuthMethod::ClientSecretPost, AuthMethod::ClientSecretBasic];

    /// The name used in discovery documents, environment variables and every binding.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretBasic => "client_secret_basic",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthMethod {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|m| m.as_str()).collect();
                Error::config(
                    "auth_method",
                    format!(
                        "unknown auth method {s:?}; expected one of {}",
                        known.join(", ")
                    ),
                )
            })
    }
}

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

/// Builds a [`crate::TokenClient`]. Every setter takes plain values; all checks happen in [`Self::build`].
#[derive(Clone, Default)]
pub struct TokenClientBuilder {
    pub(crate) token_url: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<SecretString>,
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
    pub(crate) event_hook: Option<EventHook>,
    pub(crate) runtime: Option<tokio::runtime::Handle>,
    pub(crate) panic_on_fetch: bool,
}

impl fmt::Debug for TokenClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenClientBuilder")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
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

    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    pub fn client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.client_secret = Some(secret.into());
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

    /// Receives the client's events (requests, retries, failures, refreshes).
    pub fn on_event(mut self, hook: EventHook) -> Self {
        self.event_hook = Some(hook);
        self
    }

    /// The runtime for background refreshes started from synchronous calls ([`crate::TokenClient::cached`]).
    /// Without it the client uses the runtime of its first asynchronous call.
    pub fn runtime(mut self, handle: tokio::runtime::Handle) -> Self {
        self.runtime = Some(handle);
        self
    }

    /// Test hook: every token fetch panics inside the core. Lets the bindings prove that a panic surfaces as
    /// an error and never takes the process down.
    #[doc(hidden)]
    pub fn panic_on_fetch(mut self, yes: bool) -> Self {
        self.panic_on_fetch = yes;
        self
    }

    pub fn build(self) -> Result<crate::TokenClient> {
        crate::TokenClient::from_config(self.validate()?)
    }

    pub(crate) fn validate(self) -> Result<ClientConfig> {
        let raw_url = required(self.token_url, "token_url")?;
        let token_url = check_token_url(&raw_url, self.allow_insecure_http)?;
        let client_id = required(self.client_id, "client_id")?;
        if client_id.trim() != client_id || client_id.chars().any(char::is_control) {
            return Err(Error::config(
                "client_id",
                "client_id has leading/trailing whitespace or control characters",
            ));
        }
        let client_secret = self
            .client_secret
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::config("client_secret", "client_secret is required"))?;
        let scopes = normalize_scopes(self.scopes)?;
        let timeout = positive(self.timeout.unwrap_or(DEFAULT_TIMEOUT), "timeout")?;
        let default_lifetime = positive(
            self.default_lifetime.unwrap_or(DEFAULT_LIFETIME),
            "default_lifetime",
        )?;
        for (name, _) in &self.extra_params {
            if RESERVED_PARAMS.contains(&name.as_str()) {
                return Err(Error::config(
                    "extra_params",
                    format!("{name:?} is set by m2m-auth itself and cannot be an extra parameter"),
                ));
            }
        }
        let retry = self.retry.unwrap_or_default();
        if retry.max_attempts == 0 {
            return Err(Error::config(
                "max_attempts",
                "max_attempts must be at least 1",
            ));
        }
        if retry.deadline.is_zero() {
            return Err(Error::config(
                "retry_deadline",
                "retry_deadline must be greater than zero",
            ));
        }
        let refresh_ratio = self.refresh_ratio.unwrap_or(DEFAULT_REFRESH_RATIO);
        if !(refresh_ratio > 0.0 && refresh_ratio <= 1.0) {
            return Err(Error::config(
                "refresh_ratio",
                format!("refresh_ratio must be greater than 0 and at most 1, not {refresh_ratio}"),
            ));
        }
        Ok(ClientConfig {
            token_url,
            client_id,
            client_secret,
            auth_method: self.auth_method.unwrap_or_default(),
            scopes,
            audience: self.audience.filter(|a| !a.is_empty()),
            resources: self.resources,
            extra_params: self.extra_params,
            timeout,
            expiry_skew: self.expiry_skew.unwrap_or(DEFAULT_EXPIRY_SKEW),
            default_lifetime,
            max_response_bytes: self
                .max_response_bytes
                .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            retry,
            refresh_ratio,
            event_hook: self.event_hook,
            runtime: self.runtime,
            panic_on_fetch: self.panic_on_fetch,
        })
    }
}

/// Form parameters that the client sets itself; an "extra" one of these would change the grant or the
/// authentication behind the caller's back.
const RESERVED_PARAMS: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "scope",
    "audience",
    "resource",
];

/// A configuration that passed every check.
#[derive(Clone)]
pub(crate) struct ClientConfig {
    pub token_url: Url,
    pub client_id: String,
    pub client_secret: SecretString,
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
    pub event_hook: Option<EventHook>,
    pub runtime: Option<tokio::runtime::Handle>,
    pub panic_on_fetch: bool,
}

fn required(value: Option<String>, field: &str) -> Result<String> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(Error::config(field, format!("{field} is required"))),
    }
}

fn positive(d: Duration, field: &str) -> Result<Duration> {
    if d.is_zero() {
        Err(Error::config(
            field,
            format!("{field} must be greater than zero"),
        ))
    } else {
        Ok(d)
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
                    format!("scope {part:?} contains a character RFC 6749 §3.3 does not allow"),
                ));
            }
            out.push(part.to_owned());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn check_token_url(raw: &str, allow_insecure_http: bool) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::config("token_url", format!("token_url {raw:?} is not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        // Never print the URL here: its user-info is most likely a credential.
        return Err(Error::config(
            "token_url",
            "token_url must not contain user:password; pass client_id and client_secret instead",
        ));
    }
    if url.fragment().is_some() {
        return Err(Error::config(
            "token_url",
            format!("token_url {url} must not have a #fragment"),
        ));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure_http || is_loopback(&url) => Ok(url),
        "http" => Err(Error::config(
            "token_url",
            format!(
                "token_url {url} is plain http: the client secret would travel in clear text. Use https, \
                 or allow_insecure_http for a network you trust (loopback is always allowed)"
            ),
        )),
        other => Err(Error::config(
            "token_url",
            format!("token_url must be https, not {other}:"),
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The token URL of a SecureAuth Connect workspace.
pub fn secureauth_token_url(tenant: &str, region: &str, workspace: &str) -> Result<String> {
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
                    "SecureAuth {field} {value:?} must be non-empty letters, digits, '-' or '_'"
                ),
            ));
        }
    }
    Ok(format!(
        "https://{tenant}.{region}.connect.secureauth.com/{tenant}/{workspace}/oauth2/token"
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
    fn auth_method_names_round_trip() {
        for m in AuthMethod::ALL {
            assert_eq!(m.as_str().parse::<AuthMethod>().expect("parse"), m);
        }
        assert_eq!(
            field_of("private_key".parse::<AuthMethod>().expect_err("error")),
            "auth_method"
        );
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
