//! Client authentication at the token endpoint: finds which method a request uses, refuses two at
//! once (RFC 6749 §2.3) and methods the server or the client does not allow, then checks the
//! credentials — the secret here, assertions in `client_assertion`, certificates in
//! `client_cert_auth`.

use aws_lc_rs::digest;
use axum::http::{HeaderMap, header};

use crate::auth_method::{CLIENT_SECRET_BASIC, CLIENT_SECRET_POST};
use crate::basic_auth::parse_basic;
use crate::client_assertion::{self, Assertion, JWT_BEARER};
use crate::client_cert_auth;
use crate::connection::{Connection, Endpoint};
use crate::form::{Params, truncate};
use crate::jwt::unix_now;
use crate::oauth_error::OAuthError;
use std::sync::Arc;

use crate::registered_client::RegisteredClient;
use crate::state::Shared;

/// The client id a request presents, before any check: from a well-formed Basic header, else the
/// `client_id` form field, else the `sub` of a client assertion. Used to count and record requests
/// per client.
pub(crate) fn presented_client_id(
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> Option<String> {
    if let Ok(Some(basic)) = parse_basic(headers) {
        return Some(basic.id);
    }
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(n, value)| n == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    };
    field("client_id")
        .map(str::to_owned)
        .or_else(|| field("client_assertion").and_then(client_assertion::unverified_subject))
}

/// Authenticates the client of a token or introspection request, returning its registration.
/// `also_audience` is one more `aud` a client assertion may name besides the token endpoint URL
/// of the port called and the issuer (the introspection endpoint's URL, when it is the one
/// called). `method_seen` gets the method as soon as it is known, so the caller can record it on
/// failures too.
pub(crate) fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    params: &Params,
    connection: &Connection,
    also_audience: Option<&str>,
    method_seen: &mut Option<&'static str>,
) -> Result<Arc<RegisteredClient>, OAuthError> {
    let header_present = headers.contains_key(header::AUTHORIZATION);
    let form_id = params.get("client_id");
    let form_secret = params.get("client_secret");
    let assertion_present =
        params.get("client_assertion").is_some() || params.get("client_assertion_type").is_some();
    // RFC 6749 §2.3: the client MUST NOT use more than one authentication method per request. A
    // certificate on the mTLS alias may accompany any method (it then only binds the token).
    let used: Vec<&str> = [
        (header_present, "Authorization header"),
        (form_secret.is_some(), "client_secret parameter"),
        (assertion_present, "client_assertion"),
    ]
    .iter()
    .filter(|(present, _)| *present)
    .map(|(_, name)| *name)
    .collect();
    if used.len() > 1 {
        return Err(OAuthError::invalid_request(format!(
            "more than one client authentication method used ({})",
            used.join(" and ")
        )));
    }

    if header_present {
        let basic = parse_basic(headers)?.ok_or_else(|| {
            OAuthError::invalid_client("the Authorization header does not use the Basic scheme")
        })?;
        *method_seen = Some(CLIENT_SECRET_BASIC);
        if form_id.is_some_and(|form_id| form_id != basic.id) {
            return Err(OAuthError::invalid_request(
                "the client_id parameter names a different client than the Authorization header",
            ));
        }
        return with_secret(shared, CLIENT_SECRET_BASIC, &basic.id, &basic.secret);
    }
    if assertion_present {
        return with_assertion(shared, params, connection, also_audience, method_seen);
    }
    match (form_id, form_secret) {
        (Some(id), Some(secret)) => {
            *method_seen = Some(CLIENT_SECRET_POST);
            with_secret(shared, CLIENT_SECRET_POST, id, secret)
        }
        (Some(id), None) => with_certificate(shared, id, connection, method_seen),
        (None, Some(_)) => Err(OAuthError::invalid_client(
            "client_secret given without client_id",
        )),
        (None, None) => Err(OAuthError::invalid_client(format!(
            "client authentication required (this server supports {})",
            shared.supported_methods().join(", ")
        ))),
    }
}

/// Refuses a method the server does not offer, whatever the client's registration says.
fn check_supported(shared: &Shared, method: &str) -> Result<(), OAuthError> {
    if shared.supports(method) {
        Ok(())
    } else {
        Err(OAuthError::invalid_client(format!(
            "{method} is not supported by this server (it supports {})",
            shared.supported_methods().join(", ")
        )))
    }
}

fn check_allowed(client: &RegisteredClient, method: &str) -> Result<(), OAuthError> {
    if client.allows_method(method) {
        Ok(())
    } else {
        Err(OAuthError::invalid_client(format!(
            "this client is not allowed to authenticate with {method}"
        )))
    }
}

/// `client_secret_basic` and `client_secret_post`.
fn with_secret(
    shared: &Shared,
    method: &'static str,
    id: &str,
    secret: &str,
) -> Result<Arc<RegisteredClient>, OAuthError> {
    check_supported(shared, method)?;
    let client = shared
        .find_client(id)
        .ok_or_else(|| OAuthError::invalid_client("unknown client"))?;
    check_allowed(&client, method)?;
    if client.client_secret.is_empty() || !secrets_match(secret, &client.client_secret) {
        return Err(OAuthError::invalid_client("client secret does not match"));
    }
    Ok(client)
}

/// `client_secret_jwt` and `private_key_jwt`.
fn with_assertion(
    shared: &Shared,
    params: &Params,
    connection: &Connection,
    also_audience: Option<&str>,
    method_seen: &mut Option<&'static str>,
) -> Result<Arc<RegisteredClient>, OAuthError> {
    let assertion_type = params.get("client_assertion_type").ok_or_else(|| {
        OAuthError::invalid_request("client_assertion given without client_assertion_type")
    })?;
    let jwt = params.get("client_assertion").ok_or_else(|| {
        OAuthError::invalid_request("client_assertion_type given without client_assertion")
    })?;
    if assertion_type != JWT_BEARER {
        return Err(OAuthError::invalid_client(format!(
            "unsupported client_assertion_type \"{}\" (expected {JWT_BEARER})",
            truncate(assertion_type, 100)
        )));
    }
    let assertion = Assertion::parse(jwt)?;
    let method = assertion.method()?;
    *method_seen = Some(method);
    check_supported(shared, method)?;
    let sub = assertion
        .subject()
        .ok_or_else(|| OAuthError::invalid_client("client_assertion has no sub claim"))?;
    if let Some(form_id) = params.get("client_id")
        && form_id != sub
    {
        return Err(OAuthError::invalid_client(
            "the client_id parameter names a different client than the client_assertion sub",
        ));
    }
    let client = shared
        .find_client(sub)
        .ok_or_else(|| OAuthError::invalid_client("unknown client"))?;
    check_allowed(&client, method)?;
    let endpoint_url = match connection.endpoint {
        Endpoint::Main => shared.token_url(),
        Endpoint::MtlsAlias => shared.mtls_token_url().unwrap_or_default(),
    };
    let mut audiences = vec![endpoint_url.as_str(), shared.issuer.as_str()];
    audiences.extend(also_audience);
    let now = unix_now().saturating_add(shared.config.assertion_clock_skew_secs);
    assertion.verify(&client, &audiences, now, shared.replay())?;
    Ok(client)
}

/// A `client_id` without a secret or assertion: `tls_client_auth` or `self_signed_tls_client_auth`
/// when the client is registered for them, else no authentication at all.
fn with_certificate(
    shared: &Shared,
    id: &str,
    connection: &Connection,
    method_seen: &mut Option<&'static str>,
) -> Result<Arc<RegisteredClient>, OAuthError> {
    let client = shared
        .find_client(id)
        .filter(|c| !client_cert_auth::registered_tls_methods(c).is_empty());
    let Some(client) = client else {
        let certificate_note = if connection.client_cert().is_some() {
            " (a client certificate authenticates only clients registered for tls_client_auth or self_signed_tls_client_auth)"
        } else {
            ""
        };
        return Err(OAuthError::invalid_client(format!(
            "client authentication required: client_id given without client_secret or Authorization header{certificate_note}"
        )));
    };
    *method_seen = Some(client_cert_auth::authenticate(shared, &client, connection)?);
    Ok(client)
}

/// Compares secrets in time independent of where they differ: both are hashed to fixed-length
/// digests, then every byte is compared without an early exit.
fn secrets_match(presented: &str, registered: &str) -> bool {
    let a = digest::digest(&digest::SHA256, presented.as_bytes());
    let b = digest::digest(&digest::SHA256, registered.as_bytes());
    let diff = a
        .as_ref()
        .iter()
        .zip(b.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_exactly() {
        assert!(secrets_match("s3cret", "s3cret"));
        assert!(!secrets_match("s3cret", "s3creT"));
        assert!(!secrets_match("", "x"));
    }
}
