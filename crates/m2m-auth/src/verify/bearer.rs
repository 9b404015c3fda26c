//! The token of a request (RFC 6750 §2.1): `Authorization: Bearer <token>`, the scheme in any case, the token
//! in `b64token` characters. Every web framework integration reads it here, so that Python and Node agree on
//! what a request without a token is (401 with no error code, §3.1) and what a malformed one is.

use super::error::Rejection;

/// The bearer token of an `Authorization` header value (`None`: the request had no such header).
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, Rejection> {
    let Some(value) = authorization.map(str::trim).filter(|v| !v.is_empty()) else {
        return Err(Rejection::NoToken);
    };
    let malformed = |what: &str| Rejection::TokenInvalid {
        description: format!("the Authorization header {what}"),
    };
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        // Another scheme (Basic, DPoP…) carries no bearer token.
        return Err(Rejection::NoToken);
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(malformed("names the Bearer scheme without a token"));
    }
    let b64token = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
    if !token.chars().all(b64token) {
        return Err(malformed(
            "holds a Bearer token with characters a token cannot have",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_gives_the_token_or_says_why_not() {
        assert_eq!(
            bearer_token(Some("Bearer abc.def-_~+/=")),
            Ok("abc.def-_~+/=")
        );
        assert_eq!(bearer_token(Some("bearer  abc")), Ok("abc"));
        assert_eq!(bearer_token(None), Err(Rejection::NoToken));
        assert_eq!(
            bearer_token(Some("Basic dXNlcjpwYXNz")),
            Err(Rejection::NoToken)
        );
        let e = bearer_token(Some("Bearer ")).expect_err("no token");
        assert_eq!((e.status(), e.error_code()), (401, Some("invalid_token")));
        assert!(bearer_token(Some("Bearer a b")).is_err());
        assert_eq!(
            Rejection::NoToken.www_authenticate(Some("api")),
            r#"Bearer realm="api""#
        );
    }
}
