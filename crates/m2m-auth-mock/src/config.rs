//! Server configuration: the registered clients and token lifetime, loadable from JSON.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::MockError;

/// Token-endpoint authentication method: HTTP Basic with the url-encoded id and secret (RFC 6749 §2.3.1).
pub const CLIENT_SECRET_BASIC: &str = "client_secret_basic";
/// Token-endpoint authentication method: `client_id` and `client_secret` form fields.
pub const CLIENT_SECRET_POST: &str = "client_secret_post";
/// Every client authentication method this server implements, in the order it advertises them.
pub const SUPPORTED_AUTH_METHODS: [&str; 2] = [CLIENT_SECRET_BASIC, CLIENT_SECRET_POST];

/// How the mock authorization server is set up.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MockConfig {
    /// TCP port on 127.0.0.1; 0 picks any free port.
    pub port: u16,
    /// `expires_in` of issued tokens, in seconds (changeable at run time).
    pub token_lifetime_secs: u64,
    /// The `iss` of tokens and metadata; defaults to the server's base URL.
    pub issuer: Option<String>,
    /// The clients allowed to get tokens.
    pub clients: Vec<RegisteredClient>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            port: 0,
            token_lifetime_secs: 3600,
            issuer: None,
            clients: vec![RegisteredClient::demo()],
        }
    }
}

/// One client registered with the server.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegisteredClient {
    /// The client identifier.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// Allowed token-endpoint authentication methods (default: both supported ones).
    #[serde(default = "default_auth_methods")]
    pub auth_methods: Vec<String>,
    /// Scopes this client may be granted; asking for any other yields `invalid_scope`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `aud` of tokens when the request names no audience or resource (default: the issuer).
    #[serde(default)]
    pub default_audience: Option<String>,
}

impl RegisteredClient {
    /// A client with the given credentials, both auth methods and no scopes.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        RegisteredClient {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            auth_methods: default_auth_methods(),
            scopes: Vec::new(),
            default_audience: None,
        }
    }

    /// The client that [`MockConfig::default`] registers: `demo-client` / `demo-secret`.
    pub fn demo() -> Self {
        RegisteredClient {
            scopes: vec!["payments.read".to_owned(), "payments.write".to_owned()],
            ..RegisteredClient::new("demo-client", "demo-secret")
        }
    }

    /// Whether this client may authenticate with `method`.
    pub(crate) fn allows_method(&self, method: &str) -> bool {
        self.auth_methods.iter().any(|m| m == method)
    }
}

// Written by hand so that the secret never ends up in a log line or a panic message.
impl fmt::Debug for RegisteredClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisteredClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("auth_methods", &self.auth_methods)
            .field("scopes", &self.scopes)
            .field("default_audience", &self.default_audience)
            .finish()
    }
}

fn default_auth_methods() -> Vec<String> {
    SUPPORTED_AUTH_METHODS
        .iter()
        .map(|m| (*m).to_owned())
        .collect()
}

impl MockConfig {
    /// Parses and validates a JSON configuration; omitted fields take their defaults.
    pub fn from_json(s: &str) -> Result<Self, MockError> {
        let config: MockConfig =
            serde_json::from_str(s).map_err(|e| MockError::Config(format!("config JSON: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks that the configuration is usable; `MockServer::start` calls this too.
    pub fn validate(&self) -> Result<(), MockError> {
        let bad = |msg: String| Err(MockError::Config(msg));
        if let Some(issuer) = &self.issuer
            && issuer.is_empty()
        {
            return bad("`issuer` must not be empty".to_owned());
        }
        let mut seen = BTreeSet::new();
        for (i, client) in self.clients.iter().enumerate() {
            if client.client_id.is_empty() {
                return bad(format!("clients[{i}].client_id must not be empty"));
            }
            if !seen.insert(client.client_id.as_str()) {
                return bad(format!(
                    "clients[{i}].client_id {:?} is registered twice",
                    client.client_id
                ));
            }
            if client.auth_methods.is_empty() {
                return bad(format!(
                    "clients[{i}].auth_methods must name at least one method"
                ));
            }
            if let Some(m) = client
                .auth_methods
                .iter()
                .find(|m| !SUPPORTED_AUTH_METHODS.contains(&m.as_str()))
            {
                return bad(format!(
                    "clients[{i}].auth_methods: unsupported method {m:?} (supported: {})",
                    SUPPORTED_AUTH_METHODS.join(", ")
                ));
            }
            if let Some(s) = client.scopes.iter().find(|s| !is_scope_token(s)) {
                return bad(format!(
                    "clients[{i}].scopes: {s:?} is not a valid scope token (RFC 6749 §3.3)"
                ));
            }
            if client.default_audience.as_deref() == Some("") {
                return bad(format!("clients[{i}].default_audience must not be empty"));
            }
        }
        Ok(())
    }
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub(crate) fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}
