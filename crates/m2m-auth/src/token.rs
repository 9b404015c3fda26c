//! The access token and the parsing of token endpoint answers (RFC 6749 §5.1 success, §5.2 error). Parsing is
//! a pure function of status, content type and body so that every malformed answer can be tested directly.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::error::{Error, OAuthError, Result};

/// Longest `expires_in` accepted: ten years. Anything above is a server bug, and would overflow clocks.
const MAX_EXPIRES_IN: u64 = 10 * 365 * 24 * 3600;

/// An access token and what the server said about it.
#[derive(Clone)]
pub struct Token {
    access_token: String,
    token_type: String,
    scope: Option<String>,
    /// `expires_in` exactly as the server sent it (None when it sent none).
    expires_in: Option<u64>,
    lifetime: Duration,
    received_at: Instant,
    received_at_wall: SystemTime,
}

impl Token {
    /// The bearer string to put in `Authorization: Bearer …`.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// `Bearer` normally (the server's spelling is kept).
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    /// The granted scopes, space-separated, when the server said so.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// The `expires_in` the server sent, if any.
    pub fn server_expires_in(&self) -> Option<u64> {
        self.expires_in
    }

    /// How long the token lives in all, from when it was received.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// When it stops being valid, on the monotonic clock.
    pub fn expires_at(&self) -> Instant {
        self.received_at + self.lifetime
    }

    /// Time left until expiry (zero once expired).
    pub fn expires_in(&self) -> Duration {
        self.expires_at().saturating_duration_since(Instant::now())
    }

    /// Wall-clock expiry as seconds since the Unix epoch, for display and for shared caches.
    pub fn expires_at_unix(&self) -> f64 {
        (self.received_at_wall + self.lifetime)
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }

    pub(crate) fn received_at(&self) -> Instant {
        self.received_at
    }

    /// The last instant the token may be handed out: `skew` before expiry, with the skew capped at a tenth of
    /// the lifetime so that short-lived tokens remain usable for most of their life.
    pub(crate) fn use_by(&self, skew: Duration) -> Instant {
        self.expires_at() - skew.min(self.lifetime / 10)
    }

    /// When a background refresh is due: once `refresh_ratio` of the lifetime has passed; `None` when
    /// refresh-ahead is off (a ratio of 1).
    pub(crate) fn refresh_at(&self, refresh_ratio: f64) -> Option<Instant> {
        (refresh_ratio < 1.0).then(|| self.received_at + self.lifetime.mul_f64(refresh_ratio))
    }

    /// A short description without the token: `Token(type=Bearer, scope=…, expires_in=…s, access_token=[redacted; N chars])`.
    pub fn describe(&self) -> String {
        format!(
            "Token(token_type={:?}, scope={:?}, expires_in={}s, access_token=[redacted; {} chars])",
            self.token_type,
            self.scope.as_deref().unwrap_or(""),
            self.expires_in().as_secs(),
            self.access_token.len()
        )
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// What the parser needs to know beyond the answer itself.
#[derive(Debug, Clone)]
pub(crate) struct ParseOptions {
    pub default_lifetime: Duration,
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
                "token_type {s:?} is not supported; m2m-auth uses Bearer tokens"
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
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => return Err(bad("expires_in is 0".into())),
            Some(secs) if secs > MAX_EXPIRES_IN => {
                return Err(bad(format!("expires_in {secs} is absurdly large")));
            }
            Some(secs) => Some(secs),
            None => {
                return Err(bad(format!(
                    "expires_in {n} is not a positive whole number of seconds"
                )));
            }
        },
        Some(other) => {
            return Err(bad(format!(
                "expires_in is a {}, not a number of seconds",
                json_type(other)
            )));
        }
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

    let received_at = Instant::now();
    let received_at_wall = SystemTime::now();
    let lifetime = match expires_in {
        Some(secs) => Duration::from_secs(secs),
        None => {
            jwt_remaining_lifetime(&access_token, received_at_wall).unwrap_or(opts.default_lifetime)
        }
    };
    Ok(Token {
        access_token,
        token_type,
        scope,
        expires_in,
        lifetime,
        received_at,
        received_at_wall,
    })
}

fn oauth_error(map: &Map<String, Value>, status: u16) -> Option<OAuthError> {
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

/// When the server sends no `expires_in`, a JWT access token still says when it expires.
fn jwt_remaining_lifetime(token: &str, now: SystemTime) -> Option<Duration> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let exp = claims.get("exp")?.as_u64()?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let remaining = exp.checked_sub(now)?;
    (remaining > 0 && remaining <= MAX_EXPIRES_IN).then(|| Duration::from_secs(remaining))
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
    use super::*;

    fn parse(status: u16, body: &str) -> Result<Token> {
        parse_token_response(
            status,
            Some("application/json"),
            body.as_bytes(),
            &ParseOptions {
                default_lifetime: Duration::from_secs(300),
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
        for bad in ["-1", "0", "1.5", "\"3600\"", "99999999999"] {
            let body =
                format!(r#"{{"access_token":"a","token_type":"Bearer","expires_in":{bad}}}"#);
            assert!(invalid(200, &body).contains("expires_in"), "{bad}");
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
