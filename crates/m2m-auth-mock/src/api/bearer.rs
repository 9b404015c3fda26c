//! Reading the credentials of an API request: the `Authorization: Bearer` header of RFC 6750 §2.1.
//! Only the header is read; a token in the query or a form body (§2.2, §2.3, which clients should
//! not use) counts as no token.

use axum::http::{HeaderMap, header};

/// What the `Authorization` header holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Credentials<'h> {
    /// No `Authorization` header.
    None,
    /// Another scheme, e.g. Basic: not an attempt at a Bearer token, so it gets the plain challenge.
    OtherScheme,
    /// The token of `Bearer <token>` (scheme matched case-insensitively, RFC 9110 §11.1).
    Bearer(&'h str),
}

/// The credentials of a request, or why the header is malformed (an `invalid_request`).
pub(crate) fn credentials(headers: &HeaderMap) -> Result<Credentials<'_>, String> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(Credentials::None);
    };
    if values.next().is_some() {
        return Err("the request has more than one Authorization header".to_owned());
    }
    let value = value
        .to_str()
        .map_err(|_| "the Authorization header is not visible ASCII".to_owned())?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Credentials::OtherScheme);
    }
    // `1*SP` may separate the scheme from the token; the header parser already trimmed the end.
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err("the Bearer credentials have no token".to_owned());
    }
    if !is_b64token(token) {
        return Err("the Bearer token is not a b64token (RFC 6750 section 2.1)".to_owned());
    }
    Ok(Credentials::Bearer(token))
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::AUTHORIZATION, HeaderValue::from_static(v));
        }
        headers
    }

    #[test]
    fn reads_the_bearer_token_whatever_the_scheme_case() {
        assert_eq!(credentials(&with(&[])), Ok(Credentials::None));
        for v in ["Bearer a.b.c", "bearer a.b.c", "BEARER   a.b.c"] {
            let headers = with(&[v]);
            assert_eq!(
                credentials(&headers),
                Ok(Credentials::Bearer("a.b.c")),
                "{v}"
            );
        }
        assert_eq!(
            credentials(&with(&["Basic eDp5"])),
            Ok(Credentials::OtherScheme)
        );
        assert_eq!(
            credentials(&with(&["Bearertoken"])),
            Ok(Credentials::OtherScheme)
        );
        assert_eq!(
            credentials(&with(&["Bearer ab=="])),
            Ok(Credentials::Bearer("ab=="))
        );
    }

    #[test]
    fn malformed_bearer_credentials_are_refused() {
        for v in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a\"b",
            "Bearer ==",
            "Bearer a=b",
        ] {
            assert!(credentials(&with(&[v])).is_err(), "{v}");
        }
        assert!(credentials(&with(&["Bearer a", "Bearer b"])).is_err());
    }
}
