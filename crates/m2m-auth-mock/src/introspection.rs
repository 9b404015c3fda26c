//! `POST /oauth2/introspect`: token introspection (RFC 7662), the check a verifier makes of an
//! opaque token. The caller authenticates exactly as at the token endpoint, with any method the
//! server offers (on the mTLS alias with a certificate too). Every request counts and is
//! recorded with the token requests, whatever its outcome.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::client_auth;
use crate::connection::{Connection, Endpoint};
use crate::form::{self, Params};
use crate::jwt::unix_now;
use crate::oauth_error::OAuthError;
use crate::outage::{self, OutageEndpoint};
use crate::recorder::Recorder;
use crate::state::Shared;

/// The endpoint, any method (all but POST are answered 405). Counted and subject to outages
/// before anything else, as a verifier must live through its failures.
pub(crate) async fn introspect(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    shared.count_request(OutageEndpoint::Introspection);
    let (parts, body) = request.into_parts();
    let mut recorder = Recorder::new(Arc::clone(&shared), &parts);
    let outage = shared.outage(OutageEndpoint::Introspection);
    if outage.as_ref().is_some_and(crate::faults::Fault::is_raw) {
        recorder.outcome("fault");
    }
    outage::answer(outage.as_ref(), async {
        if parts.method != Method::POST {
            let error = OAuthError::invalid_request("the introspection endpoint only accepts POST")
                .with_status(StatusCode::METHOD_NOT_ALLOWED);
            recorder.outcome(error.code);
            let mut response = error.into_response();
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        let pairs = match form::read_pairs(&parts.headers, body).await {
            Ok(pairs) => pairs,
            Err(error) => {
                recorder.outcome(error.code);
                return error.into_response();
            }
        };
        recorder.request.form.clone_from(&pairs);
        recorder.request.client_id = client_auth::presented_client_id(&parts.headers, &pairs);
        let connection = Connection::of(&parts);
        recorder.request.client_cert_x5t_s256 = connection
            .client_cert()
            .map(|cert| crate::jwk::certificate_thumbprint(cert.as_ref()));
        let mut method_seen = None;
        let outcome = handle(
            &shared,
            &parts.headers,
            &pairs,
            &connection,
            &mut method_seen,
        );
        recorder.request.auth_method = method_seen.map(str::to_owned);
        match outcome {
            Ok(answer) => {
                let active = answer.get("active") == Some(&Value::Bool(true));
                recorder.outcome(if active { "active" } else { "inactive" });
                let mut response = Json(Value::Object(answer)).into_response();
                let headers = response.headers_mut();
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
                response
            }
            Err(error) => {
                recorder.outcome(error.code);
                error.into_response()
            }
        }
    })
    .await
}

/// Content type, parameters, client authentication, then the token.
fn handle(
    shared: &Shared,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    connection: &Connection,
    method_seen: &mut Option<&'static str>,
) -> Result<Map<String, Value>, OAuthError> {
    if !form::is_form_urlencoded(headers) {
        return Err(OAuthError::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let params = Params::from_pairs(pairs)?;
    // An assertion may name the endpoint it was sent to (RFC 7523 §3), as well as the token
    // endpoint or the issuer.
    let endpoint_url = match connection.endpoint {
        Endpoint::Main => shared.introspection_url(),
        Endpoint::MtlsAlias => shared.mtls_introspection_url().unwrap_or_default(),
    };
    client_auth::authenticate(
        shared,
        headers,
        &params,
        connection,
        Some(&endpoint_url),
        method_seen,
    )?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("missing token parameter"))?;
    Ok(introspect_token(shared, token))
}

/// RFC 7662 §2.2: the token's claims with `active: true` and `token_type`, for an active opaque
/// token minted here or a JWT that this server's current key signed, unexpired and started;
/// anything else is just `active: false` (saying why would help an attacker, so the RFC says not).
fn introspect_token(shared: &Shared, token: &str) -> Map<String, Value> {
    let claims = shared
        .opaque()
        .active_claims(token, unix_now())
        .or_else(|| {
            shared
                .key()
                .verify(token)
                .ok()
                .and_then(|claims| claims.as_object().cloned())
        });
    let Some(mut answer) = claims else {
        let mut inactive = Map::new();
        inactive.insert("active".to_owned(), json!(false));
        return inactive;
    };
    answer.insert("active".to_owned(), json!(true));
    answer.insert("token_type".to_owned(), json!("Bearer"));
    answer
}
