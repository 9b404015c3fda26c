//! Opaque tokens (anything but a JWS): asked of the authorization server's introspection endpoint (RFC 7662),
//! the verifier authenticating as a client exactly as a `TokenClient` does at the token endpoint (secret, key
//! or certificate — it is one). `active: false` is a 401; an endpoint that is down, slow or answers nonsense
//! is a 503 (the token may be fine). The caller remembers answers by the token's hash.

use std::time::Duration;

use serde_json::{Map, Value};
use url::Url;

use super::error::Rejection;
use crate::TokenClient;
use crate::error::Error;

/// Largest introspection answer read.
const MAX_INTROSPECTION_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct Introspection {
    /// Authenticates the requests: its credentials, certificate and CA bundle.
    pub client: TokenClient,
    /// Configured, else the metadata's `introspection_endpoint` (its mutual-TLS alias with a certificate).
    pub url: Option<Url>,
    /// How long an answer is remembered at most (a token revoked meanwhile is still accepted until then).
    pub max_age: Duration,
}

fn unavailable(url: &Url, what: String) -> Rejection {
    Rejection::unavailable(
        "the introspection endpoint cannot be asked",
        format!("the introspection endpoint ({url}) {what}"),
    )
}

/// The answer for a token the server says is not active (RFC 7662 §2.2).
pub(crate) fn inactive() -> Rejection {
    Rejection::TokenInvalid {
        description: "the token is not active (introspection)".into(),
    }
}

impl Introspection {
    /// The claims of an active token, or why it is not accepted.
    pub async fn introspect(
        &self,
        url: &Url,
        token: &str,
    ) -> Result<Map<String, Value>, Rejection> {
        let fields = vec![
            ("token".to_owned(), token.to_owned()),
            ("token_type_hint".to_owned(), "access_token".to_owned()),
        ];
        let answer = self
            .client
            .post_authenticated(
                url,
                "introspection endpoint",
                fields,
                MAX_INTROSPECTION_BYTES,
            )
            .await
            .map_err(|e| match e {
                // The verifier's own credentials are wrong: no token can be checked, which is not the
                // caller's fault (and not a 500).
                Error::Config { .. } => unavailable(url, format!("cannot be asked: {e}")),
                e => unavailable(url, format!("cannot be read: {e}")),
            })?;
        if answer.status != 200 {
            let why = match answer.status {
                401 | 403 => "refused the verifier's client credentials".to_owned(),
                status => format!("answered HTTP {status}"),
            };
            return Err(unavailable(url, format!("{why} (HTTP {})", answer.status)));
        }
        let doc: Value = serde_json::from_slice(&answer.body)
            .map_err(|_| unavailable(url, "answered with something that is not JSON".into()))?;
        let Value::Object(claims) = doc else {
            return Err(unavailable(
                url,
                "answered with JSON that is not an object".into(),
            ));
        };
        match claims.get("active") {
            Some(Value::Bool(true)) => Ok(claims),
            Some(Value::Bool(false)) => Err(inactive()),
            _ => Err(unavailable(url, "answered without a boolean active".into())),
        }
    }
}
