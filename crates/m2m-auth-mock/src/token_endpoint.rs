//! `POST /oauth2/token`: the client credentials grant (RFC 6749 §4.4).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::client_auth;
use crate::connection::Connection;
use crate::fault_response;
use crate::faults::Fault;
use crate::form::{self, Params};
use crate::grant;
use crate::issue;
use crate::jwk::certificate_thumbprint;
use crate::oauth_error::OAuthError;
use crate::recorder::Recorder;
use crate::state::Shared;

/// The token endpoint. Every request counts and is recorded, whatever its method or outcome.
pub(crate) async fn token(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    shared.count_token_request();
    let (parts, body) = request.into_parts();
    let mut recorder = Recorder::new(Arc::clone(&shared), &parts);
    // A real identity provider's round trip (configured; 0 by default), before any answer.
    if shared.config.token_latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(shared.config.token_latency_ms)).await;
    }
    let connection = Connection::of(&parts);
    let thumbprint = connection
        .client_cert()
        .map(|cert| certificate_thumbprint(cert.as_ref()));
    recorder
        .request
        .client_cert_x5t_s256
        .clone_from(&thumbprint);

    // RFC 6749 §3.2: the token endpoint only takes POST. Not a token request, so no fault is used.
    if parts.method != Method::POST {
        let error = OAuthError::invalid_request("the token endpoint only accepts POST")
            .with_status(StatusCode::METHOD_NOT_ALLOWED);
        recorder.outcome(error.code);
        let mut response = error.into_response();
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }

    let fault = shared.take_fault();
    let pairs = match form::read_pairs(&parts.headers, body).await {
        Ok(pairs) => pairs,
        Err(error) => {
            recorder.outcome(error.code);
            return error.into_response();
        }
    };
    recorder.request.form.clone_from(&pairs);
    let presented = client_auth::presented_client_id(&parts.headers, &pairs);
    if let Some(id) = &presented {
        shared.count_client_request(id);
    }
    recorder.request.client_id = presented;

    if let Some(fault) = &fault {
        if fault.is_raw() {
            recorder.outcome("fault");
        }
        if fault.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
        }
        if fault.is_raw() {
            return fault_response::finish(fault_response::raw_response(fault), fault).await;
        }
    }

    let request = TokenRequest {
        headers: &parts.headers,
        pairs: &pairs,
        connection: &connection,
        cert_thumbprint: thumbprint.as_deref(),
    };
    let mut method_seen = None;
    let outcome = handle(&shared, &request, fault.as_ref(), &mut method_seen);
    recorder.request.auth_method = method_seen.map(str::to_owned);
    let mut response = match outcome {
        Ok(response) => {
            shared.count_token_issued();
            recorder.outcome("token");
            response
        }
        Err(error) => {
            recorder.outcome(error.code);
            error.into_response()
        }
    };
    if let Some(fault) = &fault {
        fault_response::add_headers(&mut response, fault);
        return fault_response::finish(response, fault).await;
    }
    response
}

/// What `handle` looks at.
struct TokenRequest<'r> {
    headers: &'r HeaderMap,
    pairs: &'r [(String, String)],
    connection: &'r Connection,
    /// `x5t#S256` of the presented client certificate: tokens issued get bound to it.
    cert_thumbprint: Option<&'r str>,
}

/// The checks of a real server, in order: content type, repeated parameters, grant type, client
/// authentication, scope, audience; then the token. `method_seen` gets the client authentication
/// method as soon as it is known.
fn handle(
    shared: &Shared,
    request: &TokenRequest<'_>,
    modifiers: Option<&Fault>,
    method_seen: &mut Option<&'static str>,
) -> Result<Response, OAuthError> {
    let (headers, pairs) = (request.headers, request.pairs);
    if !form::is_form_urlencoded(headers) {
        return Err(OAuthError::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let params = Params::from_pairs(pairs)?;
    match params.get("grant_type") {
        None => return Err(OAuthError::invalid_request("missing grant_type parameter")),
        Some("client_credentials") => {}
        Some(other) => {
            return Err(OAuthError::unsupported_grant_type(format!(
                "grant_type \"{}\" is not supported; only client_credentials is",
                form::truncate(other, 64)
            )));
        }
    }
    let client = client_auth::authenticate(
        shared,
        headers,
        &params,
        request.connection,
        None,
        method_seen,
    )?;
    let scopes = grant::granted_scopes(&client, &params)?;
    let audience = grant::audience(&client, &params, &shared.issuer)?;
    let grant = issue::Grant {
        client: &client,
        scopes: &scopes,
        audience,
        cert_thumbprint: request.cert_thumbprint,
    };
    issue::token_response(shared, &grant, modifiers)
}
