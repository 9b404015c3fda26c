//! Recording a request to the token or introspection endpoint in the log of `GET /mock/requests`.

use std::sync::Arc;

use axum::http::request::Parts;

use crate::state::{RecordedRequest, Shared, recorded_headers};

/// Records the request when dropped, so a request whose client hangs up mid-delay (the handler
/// future is then dropped) is still recorded, as "aborted".
pub(crate) struct Recorder {
    shared: Arc<Shared>,
    pub(crate) request: RecordedRequest,
}

impl Recorder {
    pub(crate) fn new(shared: Arc<Shared>, parts: &Parts) -> Self {
        let headers = recorded_headers(&parts.headers);
        let request = RecordedRequest {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            headers,
            form: Vec::new(),
            client_id: None,
            auth_method: None,
            client_cert_x5t_s256: None,
            outcome: "aborted".to_owned(),
        };
        Recorder { shared, request }
    }

    pub(crate) fn outcome(&mut self, outcome: &str) {
        outcome.clone_into(&mut self.request.outcome);
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let request = std::mem::take(&mut self.request);
        self.shared.record(request);
    }
}
