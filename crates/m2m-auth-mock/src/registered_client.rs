//! One client registered with the server: its credentials, allowed authentication methods, scopes
//! and keys, and the checks a real server makes when a client is registered.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth_method::{
    self, CLIENT_SECRET_BASIC, CLIENT_SECRET_POST, PRIVATE_KEY_JWT, SECRET_METHODS,
    SELF_SIGNED_TLS_CLIENT_AUTH, TLS_CLIENT_AUTH,
};
use crate::{dn, jwk};

/// One client registered with the server.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegisteredClient {
    /// The client identifier.
    pub client_id: String,
    /// The client secret; empty (the JSON default) for a client without one, which then cannot
    /// use `client_secret_basic`, `client_secret_post` or `client_secret_jwt`.
    #[serde(default)]
    pub client_secret: String,
    /// Allowed token-endpoint authentication methods. Default: `client_secret_basic` and
    /// `client_secret_post`, as before the other methods existed; like a real server, the mock lets
    /// a client use `client_secret_jwt` or any other method only when its registration names it.
    #[serde(default = "default_auth_methods")]
    pub auth_methods: Vec<String>,
    /// Scopes this client may be granted; asking for any other yields `invalid_scope`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `aud` of tokens when the request names no audience or resource (default: the issuer).
    #[serde(default)]
    pub default_audience: Option<String>,
    /// The client's public keys, a JWK Set `{"keys": [...]}` of RSA and EC P-256 keys (optional
    /// `kid`, `alg`, `x5c`): they verify `private_key_jwt` assertions, and the `x5c` certificates
    /// are the ones `self_signed_tls_client_auth` accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    /// The subject DN a `tls_client_auth` certificate must have, as an RFC 4514 string such as
    /// "CN=svc-mtls,O=Acme": most specific RDN first, the reverse of the order inside the
    /// certificate. Both sides are compared in a canonical form: attribute types by name in any case
    /// (`cn=` is `CN=`; `CN`, `L`, `ST`, `O`, `OU`, `C`, `STREET`, `DC`, `UID`, or a dotted OID,
    /// with `emailAddress` and `serialNumber` standing for theirs), spaces around `,` `+` `=`
    /// ignored, RFC 4514 escapes understood; values compare exactly, case included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
}

impl RegisteredClient {
    /// A client with the given credentials, the default methods (Basic and post) and no scopes.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        RegisteredClient {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            auth_methods: default_auth_methods(),
            scopes: Vec::new(),
            default_audience: None,
            jwks: None,
            tls_client_auth_subject_dn: None,
        }
    }

    /// A client without a secret and with no methods yet: add them with
    /// [`with_auth_methods`](Self::with_auth_methods), and its keys or subject DN.
    pub fn without_secret(client_id: impl Into<String>) -> Self {
        RegisteredClient {
            auth_methods: Vec::new(),
            ..RegisteredClient::new(client_id, "")
        }
    }

    /// The client that [`crate::MockConfig::default`] registers: `demo-client` / `demo-secret`.
    pub fn demo() -> Self {
        RegisteredClient::new("demo-client", "demo-secret")
            .with_scopes(["payments.read", "payments.write"])
    }

    /// Replaces the allowed authentication methods.
    #[must_use]
    pub fn with_auth_methods(
        mut self,
        methods: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.auth_methods = methods.into_iter().map(Into::into).collect();
        self
    }

    /// Replaces the scopes.
    #[must_use]
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the JWK Set of public keys (`{"keys": [...]}`).
    #[must_use]
    pub fn with_jwks(mut self, jwks: Value) -> Self {
        self.jwks = Some(jwks);
        self
    }

    /// Sets the subject DN `tls_client_auth` requires, e.g. "CN=svc-mtls,O=Acme".
    #[must_use]
    pub fn with_subject_dn(mut self, subject_dn: impl Into<String>) -> Self {
        self.tls_client_auth_subject_dn = Some(subject_dn.into());
        self
    }

    /// Sets the `aud` of tokens when a request names none.
    #[must_use]
    pub fn with_default_audience(mut self, audience: impl Into<String>) -> Self {
        self.default_audience = Some(audience.into());
        self
    }

    /// Whether this client may authenticate with `method`.
    pub(crate) fn allows_method(&self, method: &str) -> bool {
        self.auth_methods.iter().any(|m| m == method)
    }

    /// The registered keys, parsed (an empty list without `jwks`). Registration checked them.
    pub(crate) fn keys(&self) -> Result<Vec<jwk::ClientKey>, String> {
        self.jwks.as_ref().map_or(Ok(Vec::new()), jwk::parse_jwks)
    }

    /// The checks of a registration; `Err` is the problem, without the `clients[i].` prefix.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.client_id.is_empty() {
            return Err("client_id must not be empty".to_owned());
        }
        if self.auth_methods.is_empty() {
            return Err("auth_methods must name at least one method".to_owned());
        }
        if let Some(m) = self
            .auth_methods
            .iter()
            .find(|m| auth_method::known(m).is_none())
        {
            return Err(format!(
                "auth_methods: unsupported method {m:?} (supported: {})",
                auth_method::SUPPORTED_AUTH_METHODS.join(", ")
            ));
        }
        if let Some(s) = self.scopes.iter().find(|s| !is_scope_token(s)) {
            return Err(format!(
                "scopes: {s:?} is not a valid scope token (RFC 6749 §3.3)"
            ));
        }
        if self.default_audience.as_deref() == Some("") {
            return Err("default_audience must not be empty".to_owned());
        }
        if self.client_secret.is_empty()
            && let Some(m) = SECRET_METHODS.iter().find(|m| self.allows_method(m))
        {
            return Err(format!(
                "client_secret: missing field `client_secret`, which {m} needs (a client without a secret must list other auth_methods)"
            ));
        }
        let keys = self.keys().map_err(|e| format!("jwks: {e}"))?;
        if self.allows_method(PRIVATE_KEY_JWT) && keys.is_empty() {
            return Err(format!(
                "auth_methods has {PRIVATE_KEY_JWT} but jwks holds no key"
            ));
        }
        if self.allows_method(SELF_SIGNED_TLS_CLIENT_AUTH) && keys.iter().all(|k| k.x5c.is_empty())
        {
            return Err(format!(
                "auth_methods has {SELF_SIGNED_TLS_CLIENT_AUTH} but no jwks key has an x5c certificate"
            ));
        }
        match &self.tls_client_auth_subject_dn {
            Some(subject) => {
                dn::canonicalize(subject)
                    .map_err(|e| format!("tls_client_auth_subject_dn: {e}"))?;
            }
            None if self.allows_method(TLS_CLIENT_AUTH) => {
                return Err(format!(
                    "auth_methods has {TLS_CLIENT_AUTH} but tls_client_auth_subject_dn is not set"
                ));
            }
            None => {}
        }
        Ok(())
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
            .field("jwks", &self.jwks)
            .field(
                "tls_client_auth_subject_dn",
                &self.tls_client_auth_subject_dn,
            )
            .finish()
    }
}

fn default_auth_methods() -> Vec<String> {
    [CLIENT_SECRET_BASIC, CLIENT_SECRET_POST]
        .iter()
        .map(|m| (*m).to_owned())
        .collect()
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub(crate) fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}
