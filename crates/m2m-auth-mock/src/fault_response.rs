//! Turning a fault into what goes on the wire: a raw response, or extra headers on a normal one.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

use crate::faults::Fault;

/// The raw response of a fault: its status (default 200), headers and body, nothing else — no
/// content type is added unless the fault names one.
pub(crate) fn raw_response(fault: &Fault) -> Response {
    let status = match fault.status {
        None => StatusCode::OK,
        Some(code) => match StatusCode::from_u16(code) {
            Ok(status) => status,
            // Only reachable for faults pushed from Rust (the admin API validates); say so plainly.
            Err(_) => {
                tracing::warn!(code, "fault has an invalid HTTP status; answering 500");
                let mut response = Response::new(Body::from(format!(
                    "m2m-auth-mock: invalid fault status {code}"
                )));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                return response;
            }
        },
    };
    let mut response = Response::new(Body::from(fault.body.clone().unwrap_or_default()));
    *response.status_mut() = status;
    add_headers(&mut response, fault);
    response
}

/// Adds the fault's headers, replacing any the server set; invalid ones are skipped with a warning.
pub(crate) fn add_headers(response: &mut Response, fault: &Fault) {
    for (name, value) in &fault.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().insert(name, value);
            }
            _ => tracing::warn!(header = %name, "skipping invalid fault header"),
        }
    }
}
