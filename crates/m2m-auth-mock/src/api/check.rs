//! Whether a request may use the API: the credentials (RFC 6750 §2.1), then the token, checked by
//! the core's [`Verifier`] as any service using m2m-auth checks it — signature with this server's
//! JWKS (fetched over HTTP from the server itself), `exp`/`nbf`/`iat` without leeway, `iss`, `aud`,
//! the certificate binding (RFC 8705 §3) and the scopes the request needs (`require_scope`).

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use m2m_auth::{CaBundle, Claims, Policy, Rejection, Verifier, VerifierBuilder};
use serde_json::Value;

use super::bearer::{self, Credentials};
use super::error::{ApiError, REALM};
use crate::connection::Connection;
use crate::error::MockError;
use crate::state::Shared;
use crate::tls::Pki;

/// The query parameter that names the scopes a request needs (repeatable, space-separated).
pub(crate) const REQUIRE_SCOPE: &str = "require_scope";
/// What a refused-on-purpose token is told: what a real API says of a token revoked or expired
/// early, so that clients take their invalidate-and-retry path.
pub(crate) const REJECTED_DESCRIPTION: &str = "the access token expired";

/// A request the API serves.
#[derive(Debug)]
pub(crate) struct Authorized {
    pub(crate) claims: Arc<Claims>,
    /// Whether the token was certificate-bound (and so the connection presented that certificate).
    pub(crate) bound: bool,
}

/// What `authorize` looks at.
#[derive(Debug)]
pub(crate) struct ApiCall<'r> {
    pub(crate) headers: &'r HeaderMap,
    pub(crate) query: &'r str,
    pub(crate) connection: &'r Connection,
}

/// How the API's [`Verifier`] is built (at start, and again at each key rotation): for the
/// server's issuer and the API's audience, with `jwks_url` the server's own JWKS (`base_url` +
/// "/jwks", trusting the server's CA with TLS), no leeway (an expired token is refused at once) and
/// no cooldown (a token with a `kid` the keys lack fetches them again at once).
pub(crate) fn verifier_builder(
    issuer: &str,
    audience: &str,
    base_url: &str,
    pki: Option<&Pki>,
) -> Result<VerifierBuilder, MockError> {
    let mut builder = Verifier::builder()
        .issuer(issuer)
        .audience(audience)
        .jwks_url(format!("{base_url}/jwks"))
        .leeway(Duration::ZERO)
        .jwks_cooldown(Duration::ZERO)
        .realm(REALM)
        // The verifier only ever connects to this server, on 127.0.0.1: a configured plain-http
        // issuer elsewhere is only the `iss` to match.
        .allow_insecure_http(true);
    if let Some(pki) = pki {
        let ca = CaBundle::from_pem(pki.ca_pem.as_bytes())
            .map_err(|e| MockError::Tls(format!("the API's verifier cannot trust the CA: {e}")))?;
        builder = builder.ca_bundle(ca);
    }
    Ok(builder)
}

/// Builds the API's verifier from [`verifier_builder`]'s builder.
pub(crate) fn build_verifier(builder: &VerifierBuilder) -> Result<Verifier, MockError> {
    builder
        .clone()
        .build()
        .map_err(|e| MockError::Config(format!("the API's token verifier cannot be built: {e}")))
}

/// Authorizes a request. `sub_seen` gets the token's `sub` as soon as the token is known to be
/// this server's and unexpired, so that it is recorded whatever the outcome.
pub(crate) async fn authorize(
    shared: &Shared,
    call: &ApiCall<'_>,
    sub_seen: &mut Option<String>,
) -> Result<Authorized, ApiError> {
    let token = match bearer::credentials(call.headers).map_err(ApiError::InvalidRequest)? {
        Credentials::None | Credentials::OtherScheme => return Err(ApiError::NoToken),
        Credentials::Bearer(token) => token,
    };
    let required = required_scopes(call.query)?;
    *sub_seen = subject(shared, token);
    let policy = Policy::AllScopes(required);
    let client_cert = call.connection.client_cert().map(|cert| cert.as_ref());
    let verifier = shared.api_verifier();
    let outcome = verifier.verify_for(token, client_cert, Some(&policy)).await;
    // After every check of the token (the token is valid) and before the scope (a question about
    // the request, which a real API asks only of a token it accepts).
    let valid = matches!(outcome, Ok(_) | Err(Rejection::InsufficientScope { .. }));
    if valid && shared.api().take_rejection() {
        return Err(ApiError::InvalidToken {
            description: REJECTED_DESCRIPTION.to_owned(),
            rejected: true,
        });
    }
    let claims = outcome.map_err(ApiError::from)?;
    let bound = claims
        .claims
        .get("cnf")
        .and_then(|cnf| cnf.get("x5t#S256"))
        .is_some();
    Ok(Authorized { claims, bound })
}

/// The `sub` of the request's Bearer token if it is a valid token of this server (signature and
/// time only); for recording requests that are not authorized, such as redirects.
pub(crate) fn token_subject(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    let Ok(Credentials::Bearer(token)) = bearer::credentials(headers) else {
        return None;
    };
    subject(shared, token)
}

/// `token`'s `sub` if this server's current key signed it and it has not expired.
fn subject(shared: &Shared, token: &str) -> Option<String> {
    let claims = shared.key().verify(token).ok()?;
    claims.get("sub").and_then(Value::as_str).map(str::to_owned)
}

/// The scopes named by every `require_scope` parameter, each a valid scope token (RFC 6749 §3.3).
fn required_scopes(query: &str) -> Result<Vec<String>, ApiError> {
    let mut required: Vec<String> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != REQUIRE_SCOPE {
            continue;
        }
        for scope in value.split(' ').filter(|s| !s.is_empty()) {
            if !scope
                .bytes()
                .all(|b| b == b'!' || ((b'#'..=b'~').contains(&b) && b != b'\\'))
            {
                // Not echoed: the description must itself be quotable in the challenge.
                return Err(ApiError::InvalidRequest(format!(
                    "{REQUIRE_SCOPE}: a scope holds only printable ASCII other than space, double quote and backslash (RFC 6749 section 3.3)"
                )));
            }
            if !required.iter().any(|r| r == scope) {
                required.push(scope.to_owned());
            }
        }
    }
    Ok(required)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_scopes_are_collected_from_every_parameter() {
        assert_eq!(required_scopes("").unwrap(), Vec::<String>::new());
        assert_eq!(
            required_scopes("require_scope=a+b&x=1&require_scope=c%20a").unwrap(),
            ["a", "b", "c"]
        );
        assert!(required_scopes("require_scope=a%22b").is_err());
        assert!(required_scopes("require_scope=a%5Cb").is_err());
    }
}
