//! What the API saw: every request to `/api/…` with its outcome, a count that recording's cap does
//! not limit, and the pending "reject the next valid tokens" budget. One mutex, so that `reset` and
//! the sync getters of the bindings see a consistent picture.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;

use crate::state::MAX_RECORDED_REQUESTS;

/// One request to the protected resource (`/api/…`), as the server saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApiRequest {
    /// HTTP method, e.g. "GET".
    pub method: String,
    /// Request path, e.g. "/api/payments/7".
    pub path: String,
    /// The raw query string without the `?`; empty when there was none.
    pub query: String,
    /// Request headers in arrival order, names lower-cased, values as sent (the `authorization`
    /// header too: tests check which token a client sent, and whether it sent one at all).
    pub headers: Vec<(String, String)>,
    /// The request body as UTF-8 text (invalid sequences become U+FFFD).
    pub body: String,
    /// base64url SHA-256 of the client certificate the connection presented (mTLS alias only).
    pub client_cert_x5t_s256: Option<String>,
    /// The `sub` of the Bearer token when it is one this server signed and has not expired, whatever
    /// the outcome (a token for another audience, or bound to another certificate, still names its
    /// client).
    pub token_sub: Option<String>,
    /// "ok", "no_token", "invalid_request", "invalid_token", "rejected" (a valid token refused by
    /// [`crate::MockServer::reject_next_api_tokens`]), "insufficient_scope", "unavailable" (the
    /// token could not be checked: no keys, the JWKS unreachable), "redirect", "body_too_large",
    /// or "aborted" when the client went away mid-request.
    pub outcome: String,
}

#[derive(Debug, Default)]
struct Inner {
    requests: VecDeque<ApiRequest>,
    count: u64,
    pending_rejections: u64,
}

#[derive(Debug, Default)]
pub(crate) struct ApiLog {
    inner: Mutex<Inner>,
}

impl ApiLog {
    // As in `Shared::lock`: a poisoned lock can at worst leave a count slightly off.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn record(&self, request: ApiRequest) {
        let mut inner = self.lock();
        inner.count = inner.count.saturating_add(1);
        if inner.requests.len() >= MAX_RECORDED_REQUESTS {
            inner.requests.pop_front();
        }
        inner.requests.push_back(request);
    }

    pub(crate) fn requests(&self) -> Vec<ApiRequest> {
        self.lock().requests.iter().cloned().collect()
    }

    pub(crate) fn count(&self) -> u64 {
        self.lock().count
    }

    /// Replaces the budget: after this, exactly the next `n` valid tokens are refused.
    pub(crate) fn set_rejections(&self, n: u64) {
        self.lock().pending_rejections = n;
    }

    pub(crate) fn pending_rejections(&self) -> u64 {
        self.lock().pending_rejections
    }

    /// Uses one unit of the budget; `true` when the request at hand is to be refused.
    pub(crate) fn take_rejection(&self) -> bool {
        let mut inner = self.lock();
        if inner.pending_rejections == 0 {
            return false;
        }
        inner.pending_rejections -= 1;
        true
    }

    pub(crate) fn reset(&self) {
        *self.lock() = Inner::default();
    }
}
