//! The claims of a verified access token, and the checks every token passes (RFC 9068 §4, RFC 7519 §4.1):
//! `iss` exactly; `exp`, `nbf` and `iat` (not in the future) with the leeway; `aud` (a string or an array: any
//! match passes); scopes from `scope` (space-separated) or `scp` (an array, as SecureAuth issues it, or a
//! string); the client id from `client_id`, else `azp`, else `sub`.

use serde_json::{Map, Value};

/// A verified token's claims.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub issuer: String,
    pub subject: Option<String>,
    /// `client_id`, else `azp`, else `sub`.
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: f64,
    /// Every claim, as the token has it.
    pub claims: Map<String, Value>,
}

/// What a token's claims must match.
#[derive(Debug, Clone)]
pub(crate) struct Expected<'a> {
    pub issuer: &'a str,
    /// One of these must be in `aud`.
    pub audiences: &'a [String],
    /// Seconds of clock difference forgiven.
    pub leeway: f64,
    /// Now, seconds since the epoch.
    pub now: f64,
}

fn text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// A string or an array of strings (`aud`, `scp`); anything else is none.
fn strings(value: Option<&Value>, split: bool) -> Vec<String> {
    match value {
        Some(Value::String(s)) if split => s.split_ascii_whitespace().map(str::to_owned).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn number(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, String> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| format!("the token's {name} is not a number")),
    }
}

/// The checks of every JWT verification; the time checks are `check_times`, which a token verified before
/// repeats alone.
pub(crate) fn check(claims: Map<String, Value>, expected: &Expected<'_>) -> Result<Claims, String> {
    let issuer = text(&claims, "iss").unwrap_or_default();
    if issuer != expected.issuer {
        return Err(format!("the token's issuer is not {}", expected.issuer));
    }
    let expires_at = check_times(&claims, expected.leeway, expected.now)?;
    let audience = strings(claims.get("aud"), false);
    if !expected.audiences.iter().any(|a| audience.contains(a)) {
        return Err("the token is not for this audience".into());
    }
    Ok(assemble(claims, issuer, audience, expires_at))
}

/// The checks of an active introspection answer (RFC 7662 §2.2): `iss`, `aud` and the times are optional
/// there — the server vouched for the token — and checked when present. Without `exp` the answer is good for
/// `default_expiry` (seconds since the epoch).
pub(crate) fn check_introspected(
    claims: Map<String, Value>,
    expected: &Expected<'_>,
    default_expiry: f64,
) -> Result<Claims, String> {
    let issuer = match text(&claims, "iss") {
        Some(iss) if iss != expected.issuer => {
            return Err(format!("the token's issuer is not {}", expected.issuer));
        }
        Some(iss) => iss,
        None => expected.issuer.to_owned(),
    };
    let expires_at = match number(&claims, "exp")? {
        Some(_) => check_times(&claims, expected.leeway, expected.now)?,
        None => {
            check_not_before(&claims, expected.leeway, expected.now)?;
            default_expiry
        }
    };
    let audience = strings(claims.get("aud"), false);
    if claims.contains_key("aud") && !expected.audiences.iter().any(|a| audience.contains(a)) {
        return Err("the token is not for this audience".into());
    }
    Ok(assemble(claims, issuer, audience, expires_at))
}

fn assemble(
    claims: Map<String, Value>,
    issuer: String,
    audience: Vec<String>,
    expires_at: f64,
) -> Claims {
    let scopes = match claims.get("scope") {
        Some(scope) => strings(Some(scope), true),
        None => strings(claims.get("scp"), true),
    };
    let subject = text(&claims, "sub");
    let client_id = text(&claims, "client_id")
        .or_else(|| text(&claims, "azp"))
        .or_else(|| subject.clone());
    Claims {
        issuer,
        subject,
        client_id,
        scopes,
        audience,
        expires_at,
        claims,
    }
}

/// `exp` (required), `nbf` and `iat` against `now`, with `leeway`; returns `exp`.
pub(crate) fn check_times(
    claims: &Map<String, Value>,
    leeway: f64,
    now: f64,
) -> Result<f64, String> {
    let exp = number(claims, "exp")?.ok_or("the token has no exp")?;
    if now >= exp + leeway {
        return Err("the token expired".into());
    }
    check_not_before(claims, leeway, now)?;
    Ok(exp)
}

/// `nbf` and `iat` against `now`, with `leeway`.
fn check_not_before(claims: &Map<String, Value>, leeway: f64, now: f64) -> Result<(), String> {
    if let Some(nbf) = number(claims, "nbf")?
        && now + leeway < nbf
    {
        return Err("the token is not valid yet (nbf)".into());
    }
    if let Some(iat) = number(claims, "iat")?
        && now + leeway < iat
    {
        return Err("the token was issued in the future (iat)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: f64 = 1_800_000_000.0;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    fn expected(audiences: &[String]) -> Expected<'_> {
        Expected {
            issuer: "https://as.example",
            audiences,
            leeway: 30.0,
            now: NOW,
        }
    }

    fn good() -> Value {
        json!({"iss": "https://as.example", "aud": "api", "exp": NOW + 60.0, "iat": NOW, "sub": "svc",
               "scope": "read write"})
    }

    #[test]
    fn a_good_token_gives_its_claims() {
        let api = ["api".to_owned()];
        let c = check(claims(good()), &expected(&api)).expect("valid");
        assert_eq!(c.scopes, ["read", "write"]);
        assert_eq!(c.client_id.as_deref(), Some("svc"));
        assert_eq!(c.audience, ["api"]);
        assert_eq!(c.expires_at, NOW + 60.0);
    }

    #[test]
    fn each_claim_that_does_not_match_is_named() {
        let api = ["api".to_owned()];
        let cases = [
            (json!({"iss": "https://evil.example"}), "issuer"),
            (json!({"exp": NOW - 31.0}), "expired"),
            (json!({"exp": "soon"}), "exp is not a number"),
            (json!({"nbf": NOW + 31.0}), "not valid yet"),
            (json!({"iat": NOW + 31.0}), "issued in the future"),
            (json!({"aud": ["other", "another"]}), "audience"),
            (json!({"aud": null}), "audience"),
        ];
        for (change, says) in cases {
            let mut token = good();
            for (k, v) in change.as_object().expect("object") {
                token[k] = v.clone();
            }
            let e = check(claims(token), &expected(&api)).expect_err(says);
            assert!(e.contains(says), "{change}: {e}");
        }
        let mut no_exp = good();
        no_exp.as_object_mut().expect("object").remove("exp");
        assert!(
            check(claims(no_exp), &expected(&api))
                .expect_err("no exp")
                .contains("no exp")
        );
    }

    #[test]
    fn the_leeway_forgives_small_clock_differences() {
        let api = ["api".to_owned()];
        let mut token = good();
        token["exp"] = json!(NOW - 29.0);
        token["nbf"] = json!(NOW + 29.0);
        assert!(check(claims(token), &expected(&api)).is_ok());
    }

    #[test]
    fn audience_arrays_scp_arrays_and_azp_are_read() {
        let audiences = ["other".to_owned(), "api".to_owned()];
        let mut token = good();
        token["aud"] = json!(["x", "api"]);
        token.as_object_mut().expect("object").remove("scope");
        token["scp"] = json!(["payments.read", "payments.write"]);
        token["azp"] = json!("client-7");
        let c = check(claims(token), &expected(&audiences)).expect("valid");
        assert_eq!(c.scopes, ["payments.read", "payments.write"]);
        assert_eq!(c.client_id.as_deref(), Some("client-7"));
        let mut token = good();
        token.as_object_mut().expect("object").remove("scope");
        token["scp"] = json!("a b");
        token["client_id"] = json!("client-9");
        let c = check(claims(token), &expected(&audiences)).expect("valid");
        assert_eq!(c.scopes, ["a", "b"]);
        assert_eq!(c.client_id.as_deref(), Some("client-9"));
    }
}
