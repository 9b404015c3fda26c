//! What a token request is granted: its scopes (RFC 6749 §3.3) and audience (`audience`, or RFC 8707
//! `resource`).

use serde_json::Value;

use crate::form::{Params, truncate};
use crate::oauth_error::OAuthError;
use crate::registered_client::RegisteredClient;

/// Scopes granted to `client`: those requested (each must be registered for it, duplicates folded,
/// request order kept), or all its scopes when the request names none.
pub(crate) fn granted_scopes(
    client: &RegisteredClient,
    params: &Params,
) -> Result<Vec<String>, OAuthError> {
    let Some(requested) = params.get("scope") else {
        return Ok(client.scopes.clone());
    };
    let mut granted: Vec<String> = Vec::new();
    // Scope tokens are separated by single spaces; extra spaces are tolerated, any other character
    // (tab, newline) is part of a token and so cannot match a registered scope.
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        if !client.scopes.iter().any(|s| s == scope) {
            return Err(OAuthError::invalid_scope(format!(
                "scope \"{}\" is not allowed for this client",
                truncate(scope, 64)
            )));
        }
        if !granted.iter().any(|s| s == scope) {
            granted.push(scope.to_owned());
        }
    }
    Ok(granted)
}

/// The `aud` claim: the `audience` parameter and every `resource`, as a string when there is one
/// and an array when there are several; else the client's default audience, else the issuer.
pub(crate) fn audience(
    client: &RegisteredClient,
    params: &Params,
    issuer: &str,
) -> Result<Value, OAuthError> {
    let mut audiences: Vec<String> = Vec::new();
    if let Some(audience) = params.get("audience") {
        audiences.push(audience.to_owned());
    }
    for resource in params.get_all("resource") {
        check_resource(resource)?;
        if !audiences.iter().any(|a| a == resource) {
            audiences.push(resource.to_owned());
        }
    }
    Ok(match audiences.len() {
        0 => Value::String(
            client
                .default_audience
                .clone()
                .unwrap_or_else(|| issuer.to_owned()),
        ),
        1 => Value::String(audiences.remove(0)),
        _ => Value::Array(audiences.into_iter().map(Value::String).collect()),
    })
}

/// RFC 8707 §2: a resource indicator is an absolute URI and must not contain a fragment.
fn check_resource(resource: &str) -> Result<(), OAuthError> {
    match url::Url::parse(resource) {
        Ok(url) if url.fragment().is_none() => Ok(()),
        Ok(_) => Err(OAuthError::invalid_target(
            "resource must not contain a fragment",
        )),
        Err(_) => Err(OAuthError::invalid_target(format!(
            "resource \"{}\" is not an absolute URI",
            truncate(resource, 64)
        ))),
    }
}
