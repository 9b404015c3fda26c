//! The admin API under `/mock/`, so a mock started by the CLI can be driven over HTTP from any
//! language. Errors use the OAuth error shape: `{"error": "invalid_request", "error_description"}`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::ApiRequest;
use crate::faults::Fault;
use crate::mint::{self, MintRequest};
use crate::outage::OutageBody;
use crate::registered_client::RegisteredClient;
use crate::state::{RecordedRequest, Shared};

/// Body of `POST /mock/token-lifetime`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LifetimeBody {
    secs: u64,
}

/// Body of `POST /mock/api/reject`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    count: u64,
}

fn bad_request(description: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_request", "error_description": description})),
    )
        .into_response()
}

/// Parses a JSON fault or array of faults, checking each.
pub(crate) fn parse_faults(body: &[u8]) -> Result<Vec<Fault>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not valid JSON: {e}"))?;
    let faults = match value {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                serde_json::from_value::<Fault>(item).map_err(|e| format!("fault [{i}]: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?,
        Value::Object(_) => {
            vec![serde_json::from_value::<Fault>(value).map_err(|e| format!("fault: {e}"))?]
        }
        _ => return Err("body must be a JSON fault object or an array of them".to_owned()),
    };
    for (i, fault) in faults.iter().enumerate() {
        fault.validate().map_err(|e| format!("fault [{i}]: {e}"))?;
    }
    Ok(faults)
}

/// `POST /mock/faults` → `{"pending": n}` (applications now queued).
pub(crate) async fn push_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse_faults(&body) {
        Ok(faults) => Json(json!({"pending": shared.push_faults(faults)})).into_response(),
        Err(message) => bad_request(message),
    }
}

/// `GET /mock/stats` → `{"token_requests", "tokens_issued", "by_client", "jwks_requests",
/// "introspection_requests", "metadata_requests"}`.
pub(crate) async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.stats()).into_response()
}

/// `GET /mock/requests` → the recorded token and introspection requests, oldest first.
pub(crate) async fn requests(State(shared): State<Arc<Shared>>) -> Json<Vec<RecordedRequest>> {
    Json(shared.requests())
}

/// `POST /mock/reset` → `{"reset": true}`: counters, records, faults, outages and opaque tokens
/// are cleared; the signing key stays.
pub(crate) async fn reset(State(shared): State<Arc<Shared>>) -> Json<Value> {
    shared.reset();
    Json(json!({"reset": true}))
}

/// `POST /mock/token-lifetime` with `{"secs": n}` → `{"token_lifetime_secs": n}`.
pub(crate) async fn token_lifetime(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<LifetimeBody>(&body) {
        Ok(LifetimeBody { secs }) => {
            shared.set_token_lifetime_secs(secs);
            Json(json!({"token_lifetime_secs": secs})).into_response()
        }
        Err(e) => bad_request(format!(
            "body must be {{\"secs\": <non-negative integer>}}: {e}"
        )),
    }
}

/// `POST /mock/clients` with a client registration (the config file's format) → `{"registered": id}`.
pub(crate) async fn register_client(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let client = match serde_json::from_slice::<RegisteredClient>(&body) {
        Ok(client) => client,
        Err(e) => return bad_request(format!("body is not a client registration: {e}")),
    };
    let id = client.client_id.clone();
    match shared.register_client(client) {
        Ok(()) => Json(json!({"registered": id})).into_response(),
        Err(message) => bad_request(message),
    }
}

/// `POST /mock/api/reject` with `{"count": n}`: the next n API requests with an otherwise valid
/// token are answered 401 `invalid_token` → `{"pending_rejections": n}`.
pub(crate) async fn reject_api_tokens(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<RejectBody>(&body) {
        Ok(RejectBody { count }) => {
            shared.api().set_rejections(count);
            Json(json!({"pending_rejections": count})).into_response()
        }
        Err(e) => bad_request(format!(
            "body must be {{\"count\": <non-negative integer>}}: {e}"
        )),
    }
}

/// `GET /mock/api/requests` → the recorded API requests, oldest first.
pub(crate) async fn api_requests(State(shared): State<Arc<Shared>>) -> Json<Vec<ApiRequest>> {
    Json(shared.api().requests())
}

/// `POST /mock/keys/rotate` (no body) → `{"kid": "<the new key's kid>"}`: a fresh ES256 key
/// signs from now on and is the only one in the JWKS.
pub(crate) async fn rotate_keys(State(shared): State<Arc<Shared>>) -> Response {
    match shared.rotate_key() {
        Ok(kid) => Json(json!({"kid": kid})).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "server_error", "error_description": e.to_string()})),
        )
            .into_response(),
    }
}

/// `POST /mock/tokens` with a mint request (an empty body is `{}`) → `{"token": first,
/// "tokens": [all]}`.
pub(crate) async fn mint_tokens(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        MintRequest::default()
    } else {
        match serde_json::from_slice::<MintRequest>(&body) {
            Ok(request) => request,
            Err(e) => return bad_request(format!("body is not a mint request: {e}")),
        }
    };
    match mint::mint(&shared, &request) {
        Ok(tokens) => Json(json!({"token": tokens.first(), "tokens": tokens})).into_response(),
        Err(message) => bad_request(message),
    }
}

/// `POST /mock/outage` with `{"endpoint": "jwks" | "introspection" | "metadata"}` and one of
/// `"status": n`, `"delay_ms": n`, `"drop_connection": true`, `"up": true` → `{"endpoint": …,
/// "down": bool}`. Lasts until `up` or `/mock/reset`.
pub(crate) async fn outage(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let parsed = serde_json::from_slice::<OutageBody>(&body)
        .map_err(|e| format!("body is not an outage: {e}"))
        .and_then(OutageBody::into_outage);
    match parsed {
        Ok((endpoint, fault)) => {
            let down = fault.is_some();
            shared.set_outage(endpoint, fault);
            Json(json!({"endpoint": endpoint, "down": down})).into_response()
        }
        Err(message) => bad_request(message),
    }
}
