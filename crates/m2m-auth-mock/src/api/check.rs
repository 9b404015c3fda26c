//! Whether a request may use the API: the checks a resource server makes of a JWT access token
//! (RFC 9068 §4, RFC 8705 §3, RFC 6750 §3.1), in the order a real one makes them: the credentials,
//! the token itself (signature, time, issuer, audience, certificate binding), then what the request
//! needs of it (scope).

use axum::http::HeaderMap;
use serde_json::Value;

use super::bearer::{self, Credentials};
use super::error::ApiError;
use crate::connection::Connection;
use crate::jwk::certificate_thumbprint;
use crate::state::Shared;

/// The query parameter that names the scopes a request needs (repeatable, space-separated).
pub(crate) const REQUIRE_SCOPE: &str = "require_scope";
/// What a refused-on-purpose token is told: what a real API says of a token revoked or expired
/// early, so that clients take their invalidate-and-retry path.
pub(crate) const REJECTED_DESCRIPTION: &str = "the access token expired";

/// A request the API serves.
#[derive(Debug)]
pub(crate) struct Authorized {
    pub(crate) claims: Value,
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

/// Authorizes a request. `sub_seen` gets the token's `sub` as soon as the token is known to be
/// this server's and unexpired, so that it is recorded whatever the outcome.
pub(crate) fn authorize(
    shared: &Shared,
    call: &ApiCall<'_>,
    sub_seen: &mut Option<String>,
) -> Result<Authorized, ApiError> {
    let token = match bearer::credentials(call.headers).map_err(ApiError::InvalidRequest)? {
        Credentials::None | Credentials::OtherScheme => return Err(ApiError::NoToken),
        Credentials::Bearer(token) => token,
    };
    let required = required_scopes(call.query)?;
    let claims = shared
        .key()
        .verify(token)
        .map_err(|e| ApiError::invalid_token(describe_verify_error(&e)))?;
    *sub_seen = claims.get("sub").and_then(Value::as_str).map(str::to_owned);
    if claims.get("iss").and_then(Value::as_str) != Some(shared.issuer.as_str()) {
        return Err(ApiError::invalid_token(
            "the access token was not issued by this server (iss)",
        ));
    }
    check_audience(&claims, shared.api_audience())?;
    let bound = check_binding(&claims, call.connection)?;
    // After every check of the token (the token is valid) and before the scope (a question about
    // the request, which a real API asks only of a token it accepts).
    if shared.api().take_rejection() {
        return Err(ApiError::InvalidToken {
            description: REJECTED_DESCRIPTION.to_owned(),
            rejected: true,
        });
    }
    check_scope(&claims, &required)?;
    Ok(Authorized { claims, bound })
}

/// The `sub` of the request's Bearer token if it is a valid token of this server (signature and
/// time only); for recording requests that are not authorized, such as redirects.
pub(crate) fn token_subject(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    let Ok(Credentials::Bearer(token)) = bearer::credentials(headers) else {
        return None;
    };
    let claims = shared.key().verify(token).ok()?;
    claims.get("sub").and_then(Value::as_str).map(str::to_owned)
}

/// Expiry is the failure clients must recognise, so it starts with the words of a rejection:
/// "the access token expired at …".
fn describe_verify_error(error: &str) -> String {
    if error.starts_with("token expired") {
        format!("the access {error}")
    } else {
        format!("the access token is not valid here: {error}")
    }
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

/// `aud` is the API's audience, or an array holding it (RFC 7519 §4.1.3).
fn check_audience(claims: &Value, audience: &str) -> Result<(), ApiError> {
    let matches = match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    };
    if matches {
        Ok(())
    } else {
        Err(ApiError::invalid_token(format!(
            "the access token is not for this API: its aud does not include {audience}"
        )))
    }
}

/// RFC 8705 §3: a token with `cnf.x5t#S256` is only good on a connection that presents the
/// certificate of that thumbprint. Returns whether the token was bound.
fn check_binding(claims: &Value, connection: &Connection) -> Result<bool, ApiError> {
    let Some(expected) = claims.get("cnf").and_then(|cnf| cnf.get("x5t#S256")) else {
        return Ok(false);
    };
    let Some(expected) = expected.as_str() else {
        return Err(ApiError::invalid_token(
            "the access token's cnf x5t#S256 is not a string",
        ));
    };
    match connection.client_cert() {
        None => Err(ApiError::invalid_token(
            "the access token is bound to a client certificate (cnf x5t#S256) and this connection presented none",
        )),
        Some(cert) if certificate_thumbprint(cert.as_ref()) != expected => {
            Err(ApiError::invalid_token(
                "the access token is bound to a different client certificate than this connection presented",
            ))
        }
        Some(_) => Ok(true),
    }
}

/// Every required scope is among the token's space-separated `scope`.
fn check_scope(claims: &Value, required: &[String]) -> Result<(), ApiError> {
    let granted: Vec<&str> = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split(' ')
        .collect();
    let missing: Vec<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|r| !granted.contains(r))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(ApiError::InsufficientScope {
        scope: required.join(" "),
        description: format!("the access token lacks the scope {}", missing.join(" ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn audience_may_be_a_string_or_an_array() {
        let aud = "https://api";
        assert!(check_audience(&json!({"aud": aud}), aud).is_ok());
        assert!(check_audience(&json!({"aud": ["x", aud]}), aud).is_ok());
        assert!(check_audience(&json!({"aud": "x"}), aud).is_err());
        assert!(check_audience(&json!({}), aud).is_err());
    }

    #[test]
    fn scope_must_hold_every_required_one() {
        let claims = json!({"scope": "a b"});
        assert!(check_scope(&claims, &[]).is_ok());
        assert!(check_scope(&claims, &["b".to_owned(), "a".to_owned()]).is_ok());
        let err = check_scope(&claims, &["a".to_owned(), "c".to_owned()]).unwrap_err();
        assert_eq!(err.outcome(), "insufficient_scope");
        assert!(check_scope(&json!({}), &["a".to_owned()]).is_err());
    }
}
