//! The protected resource: `/api/…`, any method, on the main port and the mTLS alias. It accepts
//! the access tokens this server issues exactly as a real API would — it checks them with the
//! core's `Verifier` (see [`check`]) — so that the HTTP integrations of the client packages can be
//! tested end to end: the 401 that makes a client invalidate its token and retry, the 403 of a
//! missing scope, certificate-bound tokens, and redirects that must not carry a token to another
//! origin. Every request is recorded.

mod bearer;
mod check;
mod error;
mod log;
mod redirect;

pub(crate) use check::{build_verifier, verifier_builder};

use std::sync::Arc;

use axum::Json;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(crate) use log::ApiLog;
pub use log::ApiRequest;

use crate::connection::Connection;
use crate::jwk::certificate_thumbprint;
use crate::state::{Shared, recorded_headers};
use check::{ApiCall, Authorized};
use error::ApiError;

/// The most of a request body the API reads (and records); larger bodies are answered 413.
pub const MAX_API_BODY_BYTES: usize = 1024 * 1024;

/// Records the request when dropped, so one whose client hangs up mid-body is still recorded, as
/// "aborted" (the handler future is then dropped).
struct Recorder {
    shared: Arc<Shared>,
    request: ApiRequest,
}

impl Recorder {
    fn new(shared: Arc<Shared>, parts: &Parts, connection: &Connection) -> Self {
        let headers = recorded_headers(&parts.headers);
        let request = ApiRequest {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers,
            body: String::new(),
            client_cert_x5t_s256: connection
                .client_cert()
                .map(|cert| certificate_thumbprint(cert.as_ref())),
            token_sub: None,
            outcome: "aborted".to_owned(),
        };
        Recorder { shared, request }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let request = std::mem::take(&mut self.request);
        self.shared.api().record(request);
    }
}

/// Every `/api/…` request: `/api/redirect` redirects, anything else is the protected resource.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let connection = Connection::of(&parts);
    let mut recorder = Recorder::new(Arc::clone(&shared), &parts, &connection);
    // The body is read whatever the outcome, so a test can see what a refused request carried.
    match to_bytes(body, MAX_API_BODY_BYTES).await {
        Ok(bytes) => recorder.request.body = String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => {
            let error = ApiError::BodyTooLarge(format!(
                "the request body is unreadable or larger than {MAX_API_BODY_BYTES} bytes"
            ));
            recorder.request.outcome = error.outcome().to_owned();
            return error.into_response();
        }
    }
    let query = recorder.request.query.clone();

    if parts.uri.path() == redirect::PATH {
        recorder.request.token_sub = check::token_subject(&shared, &parts.headers);
        return match redirect::answer(&query) {
            Ok(response) => {
                recorder.request.outcome = "redirect".to_owned();
                response
            }
            Err(error) => {
                recorder.request.outcome = error.outcome().to_owned();
                error.into_response()
            }
        };
    }

    let call = ApiCall {
        headers: &parts.headers,
        query: &query,
        connection: &connection,
    };
    let outcome = check::authorize(&shared, &call, &mut recorder.request.token_sub).await;
    match outcome {
        Ok(authorized) => {
            recorder.request.outcome = "ok".to_owned();
            success(&recorder.request, &authorized)
        }
        Err(error) => {
            recorder.request.outcome = error.outcome().to_owned();
            error.into_response()
        }
    }
}

/// 200 with what the API understood of the request, for tests to compare with what they sent.
fn success(request: &ApiRequest, authorized: &Authorized) -> Response {
    let claim = |name: &str| {
        authorized
            .claims
            .claims
            .get(name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    Json(json!({
        "ok": true,
        "sub": claim("sub"),
        "scope": claim("scope"),
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "body": request.body,
        "bound": authorized.bound,
    }))
    .into_response()
}
