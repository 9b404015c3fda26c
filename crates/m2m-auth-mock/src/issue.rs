//! Issuing an access token: the JWT claims and the JSON token response (RFC 6749 §5.1), with any
//! fault modifiers applied.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::faults::Fault;
use crate::jwt::unix_now;
use crate::oauth_error::OAuthError;
use crate::registered_client::RegisteredClient;
use crate::state::Shared;

/// What a token is issued for.
#[derive(Debug)]
pub(crate) struct Grant<'a> {
    pub(crate) client: &'a RegisteredClient,
    pub(crate) scopes: &'a [String],
    /// The `aud` claim.
    pub(crate) audience: Value,
    /// `x5t#S256` of the client certificate the request presented: the token is bound to it with
    /// the `cnf` claim (RFC 8705 §3.1).
    pub(crate) cert_thumbprint: Option<&'a str>,
}

/// Signs a token for the grant and builds the 200 response.
pub(crate) fn token_response(
    shared: &Shared,
    grant: &Grant<'_>,
    modifiers: Option<&Fault>,
) -> Result<Response, OAuthError> {
    let client = grant.client;
    let lifetime = i64::try_from(shared.token_lifetime_secs()).unwrap_or(i64::MAX);
    // An integer `expires_in` override moves `exp` with it, so a client reading either sees the
    // same (possibly past) expiry; a non-integer override leaves `exp` at the configured lifetime.
    let exp_offset = modifiers
        .and_then(|f| f.expires_in.as_ref())
        .and_then(Value::as_i64)
        .unwrap_or(lifetime);
    let iat = unix_now();
    let scope = grant.scopes.join(" ");
    // One key throughout, even if a rotation comes in between.
    let key = shared.key();
    let jti = key
        .random_id()
        .map_err(|e| OAuthError::server_error(format!("could not create token id: {e}")))?;
    let mut claims = json!({
        "iss": shared.issuer,
        "sub": client.client_id,
        "client_id": client.client_id,
        "aud": grant.audience,
        "iat": iat,
        "nbf": iat,
        "exp": iat.saturating_add(exp_offset),
        "jti": jti,
    });
    if let Some(obj) = claims.as_object_mut() {
        if !scope.is_empty() {
            obj.insert("scope".to_owned(), Value::String(scope.clone()));
        }
        if let Some(thumbprint) = grant.cert_thumbprint {
            obj.insert("cnf".to_owned(), json!({"x5t#S256": thumbprint}));
        }
    }
    let access_token = key
        .sign(&claims)
        .map_err(|e| OAuthError::server_error(format!("could not sign token: {e}")))?;

    let mut body = Map::new();
    body.insert("access_token".to_owned(), Value::String(access_token));
    body.insert("token_type".to_owned(), Value::String("Bearer".to_owned()));
    body.insert("expires_in".to_owned(), Value::from(lifetime));
    // RFC 6749 §5.1 makes `scope` optional when granted as requested; it is always sent when
    // non-empty so clients can see what they got.
    if !scope.is_empty() {
        body.insert("scope".to_owned(), Value::String(scope));
    }
    if let Some(fault) = modifiers {
        apply_modifiers(&mut body, fault);
    }

    let mut response = (StatusCode::OK, axum::Json(Value::Object(body))).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

fn apply_modifiers(body: &mut Map<String, Value>, fault: &Fault) {
    if let Some(expires_in) = &fault.expires_in {
        body.insert("expires_in".to_owned(), expires_in.clone());
    }
    if fault.omit_expires_in {
        body.remove("expires_in");
    }
    if let Some(token_type) = &fault.token_type {
        body.insert("token_type".to_owned(), Value::String(token_type.clone()));
    }
    for (name, value) in &fault.extra {
        body.insert(name.clone(), value.clone());
    }
}
