//! `POST /mock/tokens`: access tokens made to order for testing a verifier — any claims, any
//! header, expired or not yet valid, signed wrongly or tampered with, in bulk, or opaque ones
//! remembered for introspection. The shared test vectors describe their tokens in this body, so
//! the Rust, Python and Node runners all get the same ones from the mock.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::forge::{SignMode, Signer, Tamper};
use crate::jwt::{random_b64url, unix_now};
use crate::state::Shared;

/// The most tokens one request mints (enough to flood a verifier's key cache with unknown kids).
pub(crate) const MAX_MINT_COUNT: u64 = 10_000;
/// `exp` is this many seconds ahead unless `exp_in` says otherwise.
const DEFAULT_EXP_IN: i64 = 300;
/// The `sub` and `client_id` of minted tokens: no registered client, as tokens of the vectors
/// are not issued to anyone.
const VECTOR_CLIENT: &str = "svc-vectors";
const DEFAULT_SCOPE: &str = "payments.read";

/// Body of `POST /mock/tokens`; every field is optional (see the crate documentation).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MintRequest {
    /// Merged over the default claims; `null` removes one.
    #[serde(default)]
    claims: Map<String, Value>,
    exp_in: Option<i64>,
    iat_in: Option<i64>,
    nbf_in: Option<i64>,
    /// Merged over the default JWS header; `null` removes a member.
    header: Option<Map<String, Value>>,
    sign: Option<String>,
    tamper: Option<String>,
    count: Option<u64>,
    #[serde(default)]
    distinct_kids: bool,
    #[serde(default)]
    opaque: bool,
    active: Option<bool>,
}

/// Mints the tokens `request` describes, in order.
pub(crate) fn mint(shared: &Shared, request: &MintRequest) -> Result<Vec<String>, String> {
    let count = request.count.unwrap_or(1);
    if !(1..=MAX_MINT_COUNT).contains(&count) {
        return Err(format!("count must be 1 to {MAX_MINT_COUNT}, not {count}"));
    }
    let sign = request
        .sign
        .as_deref()
        .map(SignMode::parse)
        .transpose()?
        .unwrap_or(SignMode::Server);
    let tamper = request.tamper.as_deref().map(Tamper::parse).transpose()?;
    if request.opaque {
        return mint_opaque(shared, request, count);
    }
    if request.active.is_some() {
        return Err("active applies only to opaque tokens (\"opaque\": true)".to_owned());
    }
    if tamper == Some(Tamper::Signature) && sign == SignMode::None {
        return Err("tamper \"signature\" needs a signature; sign \"none\" makes none".to_owned());
    }
    if request.distinct_kids
        && request
            .header
            .as_ref()
            .is_some_and(|h| h.contains_key("kid"))
    {
        return Err(
            "distinct_kids gives each token its own kid; do not give header.kid too".to_owned(),
        );
    }
    // One key for the whole request, even if a rotation comes in between.
    let key = shared.key();
    let mut header = Map::new();
    header.insert("alg".to_owned(), json!(sign.alg()));
    header.insert("typ".to_owned(), json!("at+jwt"));
    let kid = if sign == SignMode::OtherKey {
        random_b64url(16)?
    } else {
        key.kid().to_owned()
    };
    header.insert("kid".to_owned(), json!(kid));
    if let Some(overrides) = &request.header {
        merge(&mut header, overrides);
    }
    let signer = Signer::new(sign, key)?;
    let now = unix_now();
    (0..count)
        .map(|_| {
            let claims = claims(shared, request, now)?;
            if !request.distinct_kids {
                return signer.token(&header, &claims, tamper);
            }
            let mut own = header.clone();
            own.insert("kid".to_owned(), json!(random_b64url(16)?));
            signer.token(&own, &claims, tamper)
        })
        .collect()
}

/// Opaque tokens: 32 random bytes, base64url; the claims and `active` are remembered.
fn mint_opaque(shared: &Shared, request: &MintRequest, count: u64) -> Result<Vec<String>, String> {
    for (given, name) in [
        (request.header.is_some(), "header"),
        (request.sign.is_some(), "sign"),
        (request.tamper.is_some(), "tamper"),
        (request.distinct_kids, "distinct_kids"),
    ] {
        if given {
            return Err(format!("{name} does not apply to an opaque token"));
        }
    }
    let now = unix_now();
    let active = request.active.unwrap_or(true);
    (0..count)
        .map(|_| {
            let token = random_b64url(32)?;
            shared
                .opaque()
                .remember(token.clone(), claims(shared, request, now)?, active);
            Ok(token)
        })
        .collect()
}

/// The default claims of one token (each its own `jti`), with the request's merged over them.
fn claims(shared: &Shared, request: &MintRequest, now: i64) -> Result<Map<String, Value>, String> {
    let at = |offset: i64| json!(now.saturating_add(offset));
    let mut claims = Map::new();
    claims.insert("iss".to_owned(), json!(shared.issuer));
    claims.insert("aud".to_owned(), json!(shared.api_audience()));
    claims.insert("sub".to_owned(), json!(VECTOR_CLIENT));
    claims.insert("client_id".to_owned(), json!(VECTOR_CLIENT));
    claims.insert("scope".to_owned(), json!(DEFAULT_SCOPE));
    claims.insert("iat".to_owned(), at(request.iat_in.unwrap_or(0)));
    claims.insert(
        "exp".to_owned(),
        at(request.exp_in.unwrap_or(DEFAULT_EXP_IN)),
    );
    if let Some(nbf_in) = request.nbf_in {
        claims.insert("nbf".to_owned(), at(nbf_in));
    }
    claims.insert("jti".to_owned(), json!(random_b64url(16)?));
    merge(&mut claims, &request.claims);
    Ok(claims)
}

/// Sets each member of `overrides` in `target`, or removes it when its value is `null`.
fn merge(target: &mut Map<String, Value>, overrides: &Map<String, Value>) {
    for (name, value) in overrides {
        if value.is_null() {
            target.remove(name);
        } else {
            target.insert(name.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_removes_and_values_replace() {
        let mut target = json!({"a": 1, "b": 2})
            .as_object()
            .cloned()
            .expect("object");
        let overrides = json!({"a": null, "b": [3], "c": "x"});
        merge(&mut target, overrides.as_object().expect("object"));
        assert_eq!(Value::Object(target), json!({"b": [3], "c": "x"}));
    }
}
