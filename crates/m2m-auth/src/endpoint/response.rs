//! Parsing token endpoint answers (RFC 6749 §5.1 success, §5.2 error): a pure function of status, content
//! type and body, so that every malformed answer can be tested directly.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::cache::freshness::{MAX_EXPIRES_IN, SentAt, lifetime};
use crate::error::{Error, OAuthError, Result, server_text};
use crate::token::Token;

/// What the parser needs to know beyond the answer itself.
#[derive(Debug, Clone)]
pub(crate) struct ParseOptions {
    pub default_lifetime: Duration,
    pub sent_at: SentAt,
}

/// Turns a token endpoint answer into a token or a typed error.
pub(crate) fn parse_token_response(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    opts: &ParseOptions,
) -> Result<Token> {
    let json: Option<Map<String, Value>> = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    if !(200..300).contains(&status) {
        return Err(match json.as_ref().and_then(|m| oauth_error(m, status)) {
            Some(e) => e.into(),
            None => Error::invalid_response(
                Some(status),
                format!(
                    "token endpoint answered HTTP {status} {}",
                    describe_body(content_type, body)
                ),
            ),
        });
    }
    let Some(map) = json else {
        let what = match serde_json::from_slice::<Value>(body) {
            Ok(_) => "JSON that is not an object".to_owned(),
            Err(_) => describe_body(content_type, body),
        };
        return Err(Error::invalid_response(
            Some(status),
            format!("token endpoint answered HTTP {status} with {what}, not a token response"),
        ));
    };
    // Some servers answer errors with 200; an `error` member and no token is an error whatever the status.
    if !map.contains_key("access_token")
        && let Some(e) = oauth_error(&map, status)
    {
        return Err(e.into());
    }
    let bad = |message: String| Error::invalid_response(Some(status), message);

    let access_token = match map.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(bad("access_token is empty".into())),
        Some(other) => {
            return Err(bad(format!(
                "access_token is a {}, not a string",
                json_type(other)
            )));
        }
        None => return Err(bad("the response has no access_token".into())),
    };
    if access_token.chars().any(|c| !c.is_ascii_graphic()) {
        // It goes into an HTTP header; a space or control character would split or corrupt it.
        return Err(bad(
            "access_token contains characters not allowed in an HTTP header".into(),
        ));
    }
    let token_type = match map.get("token_type") {
        Some(Value::String(s)) if s.eq_ignore_ascii_case("bearer") => s.clone(),
        Some(Value::String(s)) => {
            return Err(bad(format!(
                "token_type {:?} is not supported; m2m-auth uses Bearer tokens",
                server_text(s)
            )));
        }
        Some(other) => {
            return Err(bad(format!(
                "token_type is a {}, not a string",
                json_type(other)
            )));
        }
        None => return Err(bad("the response has no token_type".into())),
    };
    let expires_in = match map.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(v) => Some(expires_in_secs(v).map_err(bad)?),
    };
    let scope = match map.get("scope") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(bad(format!(
                "scope is a {}, not a string",
                json_type(other)
            )));
        }
    };

    let (lifetime, clock_note) = lifetime(
        expires_in,
        jwt_exp(&access_token),
        opts.sent_at.wall,
        SystemTime::now(),
        opts.default_lifetime,
    );
    Ok(Token {
        access_token,
        token_type,
        scope,
        expires_in,
        lifetime,
        sent_at: opts.sent_at,
        clock_note,
    })
}

/// `expires_in` in whole seconds. RFC 6749 says a number; some servers send `"3600"` or `3600.0`, which mean
/// the same and are accepted. Anything else (negative, fractional, zero, absurd, not a number) is refused.
fn expires_in_secs(v: &Value) -> std::result::Result<u64, String> {
    let secs = match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f <= MAX_EXPIRES_IN as f64)
                .map(|f| f as u64)
        }),
        Value::String(s)
            if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.parse::<u64>().ok()
        }
        Value::String(_) => {
            return Err("expires_in is a string that is not a whole number of seconds".into());
        }
        other => {
            return Err(format!(
                "expires_in is a {}, not a number of seconds",
                json_type(other)
            ));
        }
    };
    match secs {
        Some(0) => Err("expires_in is 0".into()),
        Some(secs) if secs > MAX_EXPIRES_IN => Err(format!("expires_in {secs} is absurdly large")),
        Some(secs) => Ok(secs),
        None => Err(format!(
            "expires_in {v} is not a positive whole number of seconds"
        )),
    }
}

fn oauth_error(map: &Map<String, Value>, status: u16) -> Option<OAuthError> {
    // The server's words as it sent them: the secret is redacted from them first, then they are bounded
    // and cleaned of control characters (`Error::capped`), so that no part of an echoed secret survives a cut.
    let error = map.get("error")?.as_str()?.to_owned();
    let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(OAuthError {
        error,
        error_description: text("error_description"),
        error_uri: text("error_uri"),
        status,
        attempts: 1,
    })
}

/// The `exp` claim of a JWT access token (seconds since the epoch), if the token is a JWT that has one.
fn jwt_exp(token: &str) -> Option<f64> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.get("exp")?.as_f64().filter(|e| e.is_finite())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// "with a text/html body of 1234 bytes" — never the body itself, which could be anything.
fn describe_body(content_type: Option<&str>, body: &[u8]) -> String {
    let size = if body.is_empty() {
        "an empty body".to_owned()
    } else {
        format!("a body of {} bytes", body.len())
    };
    match content_type
        .and_then(|c| c.split(';').next())
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(kind) => format!("with {size} of type {kind}"),
        None => format!("with {size} and no content type"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn parse(status: u16, body: &str) -> Result<Token> {
        parse_token_response(
            status,
            Some("application/json"),
            body.as_bytes(),
            &ParseOptions {
                default_lifetime: Duration::from_secs(300),
                sent_at: SentAt::now(),
            },
        )
    }

    fn invalid(status: u16, body: &str) -> String {
        match parse(status, body) {
            Err(Error::InvalidResponse { message, .. }) => message,
            other => panic!("expected InvalidResponse for {body:?}, got {other:?}"),
        }
    }

    #[test]
    fn success() {
        let t = parse(
            200,
            r#"{"access_token":"abc","token_type":"bearer","expires_in":60,"scope":"a b"}"#,
        )
        .expect("token");
        assert_eq!(t.access_token(), "abc");
        assert_eq!(t.token_type(), "bearer");
        assert_eq!(t.scope(), Some("a b"));
        assert_eq!(t.lifetime(), Duration::from_secs(60));
        assert!(!format!("{t:?}").contains("abc"));
    }

    #[test]
    fn oauth_errors_keep_every_field() {
        let e = parse(
            401,
            r#"{"error":"invalid_client","error_description":"nope","error_uri":"https://d"}"#,
        )
        .expect_err("error");
        assert_eq!(
            e,
            Error::OAuth(OAuthError {
                error: "invalid_client".into(),
                error_description: Some("nope".into()),
                error_uri: Some("https://d".into()),
                status: 401,
                attempts: 1,
            })
        );
    }

    #[test]
    fn malformed_answers_are_typed_errors() {
        assert!(invalid(200, "not json").contains("a body of 8 bytes of type application/json"));
        assert_eq!(
            describe_body(None, b""),
            "with an empty body and no content type"
        );
        assert_eq!(
            describe_body(Some("text/html; charset=utf-8"), b"<p>"),
            "with a body of 3 bytes of type text/html"
        );
        assert!(invalid(200, "[1,2]").contains("not an object"));
        assert!(invalid(502, "<html>bad gateway</html>").contains("HTTP 502"));
        assert!(invalid(200, r#"{"token_type":"Bearer"}"#).contains("no access_token"));
        assert!(invalid(200, r#"{"access_token":"","token_type":"Bearer"}"#).contains("empty"));
        assert!(invalid(200, r#"{"access_token":"a","token_type":"mac"}"#).contains("mac"));
        for bad in [
            "-1",
            "0",
            "1.5",
            "-3600.0",
            "\"abc\"",
            "\"-5\"",
            "\" 60\"",
            "\"\"",
            "\"0\"",
            "true",
            "99999999999",
            "1e300",
        ] {
            let body =
                format!(r#"{{"access_token":"a","token_type":"Bearer","expires_in":{bad}}}"#);
            assert!(invalid(200, &body).contains("expires_in"), "{bad}");
        }
    }

    #[test]
    fn expires_in_as_an_integer_string_or_integral_float_is_accepted() {
        for ok in ["3600", "\"3600\"", "3600.0"] {
            let body = format!(r#"{{"access_token":"a","token_type":"Bearer","expires_in":{ok}}}"#);
            let t = parse(200, &body).expect(ok);
            assert_eq!(t.lifetime(), Duration::from_secs(3600), "{ok}");
            assert_eq!(t.server_expires_in(), Some(3600), "{ok}");
        }
    }

    #[test]
    fn lifetime_falls_back_to_jwt_exp_then_default() {
        let exp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            + 120;
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp}}}"#));
        let jwt = format!("eyJhbGciOiJub25lIn0.{payload}.sig");
        let t = parse(
            200,
            &format!(r#"{{"access_token":"{jwt}","token_type":"Bearer"}}"#),
        )
        .expect("token");
        assert!(
            (118..=120).contains(&t.lifetime().as_secs()),
            "{:?}",
            t.lifetime()
        );
        let t = parse(200, r#"{"access_token":"opaque","token_type":"Bearer"}"#).expect("token");
        assert_eq!(t.lifetime(), Duration::from_secs(300));
    }
}
