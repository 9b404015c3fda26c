//! Turning a fault into what goes on the wire: a raw response, or extra headers on a normal one.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

use futures::StreamExt as _;

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

/// The last step of answering under a fault: the answer breaks off after its headers
/// (`drop_connection`), stalls after its first byte (`body_delay_ms`), or goes out as it is.
pub(crate) async fn finish(response: Response, fault: &Fault) -> Response {
    if fault.drop_connection {
        return drop_after_headers(response);
    }
    if fault.body_delay_ms == 0 {
        return response;
    }
    stall_body(response, Duration::from_millis(fault.body_delay_ms)).await
}

/// The status and headers of `response` and the first byte of a body, then the body fails: hyper drops the
/// connection, and the client sees an answer that breaks off.
fn drop_after_headers(response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    // The failure comes a moment later, so that hyper has flushed what came before it.
    let broken =
        futures::stream::iter([Ok(Bytes::from_static(b"{"))]).chain(futures::stream::once(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Err(std::io::Error::other("fault: connection dropped"))
        }));
    Response::from_parts(parts, Body::from_stream(broken))
}

/// Splits the body so that its first byte goes out with the status and headers and the rest only after
/// `delay`; the content length is dropped, so the answer is chunked like a streaming server's.
async fn stall_body(response: Response, delay: Duration) -> Response {
    let (mut parts, body) = response.into_parts();
    // Bodies built by this server are in memory, so this read cannot fail or block.
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let first = bytes.slice(..bytes.len().min(1));
    let rest = bytes.slice(first.len()..);
    let chunks = futures::stream::iter([first]).chain(futures::stream::once(async move {
        tokio::time::sleep(delay).await;
        rest
    }));
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(
        parts,
        Body::from_stream(chunks.map(Ok::<Bytes, Infallible>)),
    )
}
