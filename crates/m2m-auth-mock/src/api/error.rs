//! The API's refusals, answered as a resource server does (RFC 6750 §3): the status, a
//! `WWW-Authenticate: Bearer` challenge naming the error, and a JSON body saying the same for people
//! reading test output.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use m2m_auth::Rejection;
use serde_json::json;

/// The realm of every Bearer challenge.
pub(crate) const REALM: &str = "m2m-auth-mock";

/// Why an API request was not served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// No credentials, or credentials of another scheme: 401 with the bare challenge, which
    /// RFC 6750 §3.1 says carries no error code.
    NoToken,
    /// A malformed request (e.g. two Authorization headers): 400 `invalid_request`.
    InvalidRequest(String),
    /// A token that is not valid here: 401 `invalid_token`. `rejected` marks a valid token refused
    /// on purpose (`reject_next_api_tokens`); it is recorded apart but answered identically.
    InvalidToken { description: String, rejected: bool },
    /// A valid token without the scope the request needs: 403 `insufficient_scope`.
    InsufficientScope { scope: String, description: String },
    /// An `/api/redirect` request without a usable `to` or `status`: 400, no challenge (the token
    /// plays no part in it).
    BadRedirect(String),
    /// A body larger than the API reads: 413.
    BodyTooLarge(String),
    /// The token could not be checked (the verifier could not fetch this server's JWKS, e.g. during
    /// a JWKS outage): 503 with the realm-only challenge, as the Verifier answers it.
    Unavailable(String),
}

impl ApiError {
    pub(crate) fn invalid_token(description: impl Into<String>) -> Self {
        ApiError::InvalidToken {
            description: description.into(),
            rejected: false,
        }
    }

    /// The `outcome` recorded for the request.
    pub(crate) fn outcome(&self) -> &'static str {
        match self {
            ApiError::NoToken => "no_token",
            ApiError::InvalidRequest(_) | ApiError::BadRedirect(_) => "invalid_request",
            ApiError::InvalidToken { rejected: true, .. } => "rejected",
            ApiError::InvalidToken { .. } => "invalid_token",
            ApiError::InsufficientScope { .. } => "insufficient_scope",
            ApiError::BodyTooLarge(_) => "body_too_large",
            ApiError::Unavailable(_) => "unavailable",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::NoToken | ApiError::InvalidToken { .. } => StatusCode::UNAUTHORIZED,
            ApiError::InvalidRequest(_) | ApiError::BadRedirect(_) => StatusCode::BAD_REQUEST,
            ApiError::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            ApiError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The RFC 6750 error code, if the answer has one.
    fn code(&self) -> Option<&'static str> {
        match self {
            ApiError::NoToken | ApiError::Unavailable(_) => None,
            ApiError::InvalidRequest(_) | ApiError::BadRedirect(_) => Some("invalid_request"),
            ApiError::InvalidToken { .. } => Some("invalid_token"),
            ApiError::InsufficientScope { .. } => Some("insufficient_scope"),
            ApiError::BodyTooLarge(_) => Some("invalid_request"),
        }
    }

    fn description(&self) -> &str {
        match self {
            ApiError::NoToken => "the request has no Bearer access token",
            ApiError::InvalidRequest(d)
            | ApiError::BadRedirect(d)
            | ApiError::BodyTooLarge(d)
            | ApiError::Unavailable(d)
            | ApiError::InvalidToken { description: d, .. }
            | ApiError::InsufficientScope { description: d, .. } => d,
        }
    }

    /// The `WWW-Authenticate` value, for the answers that are about the token.
    fn challenge(&self) -> Option<String> {
        let realm = format!("Bearer realm=\"{REALM}\"");
        let with_error = |code: &str| {
            format!(
                "{realm}, error=\"{code}\", error_description=\"{}\"",
                quotable(self.description())
            )
        };
        match self {
            ApiError::NoToken | ApiError::Unavailable(_) => Some(realm),
            ApiError::InvalidRequest(_) => Some(with_error("invalid_request")),
            ApiError::InvalidToken { .. } => Some(with_error("invalid_token")),
            ApiError::InsufficientScope { scope, .. } => Some(format!(
                "{}, scope=\"{}\"",
                with_error("insufficient_scope"),
                quotable(scope)
            )),
            ApiError::BadRedirect(_) | ApiError::BodyTooLarge(_) => None,
        }
    }
}

/// The Verifier's answer, as the API gives it.
impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::NoToken => ApiError::NoToken,
            Rejection::TokenInvalid { description } => ApiError::invalid_token(description),
            Rejection::InsufficientScope {
                description,
                required,
            } => ApiError::InsufficientScope {
                scope: required.join(" "),
                description,
            },
            Rejection::Unavailable {
                description,
                detail,
            } => {
                tracing::warn!(%detail, "m2m-auth-mock API: {description}");
                ApiError::Unavailable(description)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "ok": false,
            "error": self.code(),
            "error_description": self.description(),
        });
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(challenge) = self.challenge()
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// RFC 6750 §3 limits `error_description` and `scope` to printable ASCII without `"` and `\`, so
/// the quoted string needs no escapes; anything else is replaced.
fn quotable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_follow_rfc_6750() {
        assert_eq!(
            ApiError::NoToken.challenge().as_deref(),
            Some(r#"Bearer realm="m2m-auth-mock""#)
        );
        assert_eq!(
            ApiError::invalid_token("bad \"sig\" \\ é")
                .challenge()
                .as_deref(),
            Some(
                r#"Bearer realm="m2m-auth-mock", error="invalid_token", error_description="bad 'sig' / ?""#
            )
        );
        let scope = ApiError::InsufficientScope {
            scope: "a b".to_owned(),
            description: "needs a b".to_owned(),
        };
        assert_eq!(
            scope.challenge().as_deref(),
            Some(
                r#"Bearer realm="m2m-auth-mock", error="insufficient_scope", error_description="needs a b", scope="a b""#
            )
        );
        assert_eq!(ApiError::BadRedirect("x".to_owned()).challenge(), None);
        let down = ApiError::from(Rejection::Unavailable {
            description: "the issuer's keys cannot be fetched".to_owned(),
            detail: "connection refused".to_owned(),
        });
        assert_eq!(
            (down.status(), down.code(), down.challenge().as_deref()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                Some(r#"Bearer realm="m2m-auth-mock""#)
            )
        );
        assert_eq!(down.description(), "the issuer's keys cannot be fetched");
    }
}
