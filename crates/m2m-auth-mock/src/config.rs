//! Server configuration: the registered clients, token lifetime, TLS and the authentication methods
//! on offer, loadable from JSON.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::auth_method::{self, SUPPORTED_AUTH_METHODS, TLS_METHODS};
use crate::error::MockError;
use crate::faults::RandomFault;
use crate::registered_client::RegisteredClient;

/// How the mock authorization server is set up.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MockConfig {
    /// TCP port on 127.0.0.1; 0 picks any free port.
    pub port: u16,
    /// `expires_in` of issued tokens, in seconds (changeable at run time).
    pub token_lifetime_secs: u64,
    /// The `iss` of tokens and metadata; defaults to the server's base URL. An http(s) URL without
    /// user-info or `#fragment`, as the protected API's verifier requires of the issuer it checks.
    pub issuer: Option<String>,
    /// The clients allowed to get tokens.
    pub clients: Vec<RegisteredClient>,
    /// Serve HTTPS with a certificate from a CA generated at start, plus the mTLS endpoint alias
    /// (RFC 8705) on a second port where clients may present a certificate.
    pub tls: bool,
    /// Port of the mTLS endpoint alias when `tls` is on; 0 picks any free port.
    pub mtls_port: u16,
    /// The authentication methods the server offers, advertised in its metadata and accepted at the
    /// token endpoint; any other is refused whatever a client's registration says. Default: every
    /// method the mode allows (the TLS ones only with `tls`). Lets client tests see "not supported".
    pub auth_methods_supported: Option<Vec<String>>,
    /// Seconds the server's clock is ahead of the real one (negative: behind) when it checks the times
    /// of client assertions: how a client whose clock is off looks to a real server.
    pub assertion_clock_skew_secs: i64,
    /// The `aud` the protected resource (`/api/…`) requires of access tokens, as a string or an
    /// array member. Default: the issuer, which is the `aud` of tokens requested without an
    /// `audience` or `resource` (and without a client `default_audience`).
    pub api_audience: Option<String>,
    /// Milliseconds the token endpoint waits before it answers each request, whatever the outcome:
    /// the round trip of a real identity provider, for benchmarks. Default 0.
    pub token_latency_ms: u64,
    /// Faults that strike token requests at random while no queued fault is pending (soak tests).
    pub random_faults: Vec<RandomFault>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            port: 0,
            token_lifetime_secs: 3600,
            issuer: None,
            clients: vec![RegisteredClient::demo()],
            tls: false,
            mtls_port: 0,
            auth_methods_supported: None,
            assertion_clock_skew_secs: 0,
            api_audience: None,
            token_latency_ms: 0,
            random_faults: Vec::new(),
        }
    }
}

impl MockConfig {
    /// Parses and validates a JSON configuration; omitted fields take their defaults.
    pub fn from_json(s: &str) -> Result<Self, MockError> {
        let config: MockConfig =
            serde_json::from_str(s).map_err(|e| MockError::Config(format!("config JSON: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// The methods this configuration offers, in [`SUPPORTED_AUTH_METHODS`] order.
    pub fn supported_auth_methods(&self) -> Vec<&'static str> {
        SUPPORTED_AUTH_METHODS
            .iter()
            .copied()
            .filter(|m| self.tls || !TLS_METHODS.contains(m))
            .filter(|m| {
                self.auth_methods_supported
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|l| l == m))
            })
            .collect()
    }

    /// Checks that the configuration is usable; `MockServer::start` calls this too.
    pub fn validate(&self) -> Result<(), MockError> {
        let bad = |msg: String| Err(MockError::Config(msg));
        if let Some(issuer) = &self.issuer
            && issuer.is_empty()
        {
            return bad("`issuer` must not be empty".to_owned());
        }
        if let Some(issuer) = &self.issuer
            && !url::Url::parse(issuer).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.fragment().is_none()
                    && u.username().is_empty()
                    && u.password().is_none()
            })
        {
            return bad(
                "`issuer` must be an http(s) URL without user-info or #fragment (the API's verifier checks tokens for it)"
                    .to_owned(),
            );
        }
        if let Some(audience) = &self.api_audience
            && audience.is_empty()
        {
            return bad("`api_audience` must not be empty".to_owned());
        }
        if let Some(methods) = &self.auth_methods_supported {
            if methods.is_empty() {
                return bad("auth_methods_supported must name at least one method".to_owned());
            }
            if let Some(m) = methods.iter().find(|m| auth_method::known(m).is_none()) {
                return bad(format!(
                    "auth_methods_supported: unknown method {m:?} (known: {})",
                    SUPPORTED_AUTH_METHODS.join(", ")
                ));
            }
            if !self.tls
                && let Some(m) = methods.iter().find(|m| TLS_METHODS.contains(&m.as_str()))
            {
                return bad(format!(
                    "auth_methods_supported: {m} needs a client certificate, so `tls: true`"
                ));
            }
        }
        for random in &self.random_faults {
            random.validate().map_err(MockError::Config)?;
        }
        let mut seen = BTreeSet::new();
        for (i, client) in self.clients.iter().enumerate() {
            if let Err(e) = client.validate() {
                return bad(format!("clients[{i}].{e}"));
            }
            if !seen.insert(client.client_id.as_str()) {
                return bad(format!(
                    "clients[{i}].client_id {:?} is registered twice",
                    client.client_id
                ));
            }
        }
        Ok(())
    }
}
