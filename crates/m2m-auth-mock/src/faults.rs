//! Fault injection: what the next token requests should suffer, and the FIFO that hands faults out.

use std::collections::{BTreeMap, VecDeque};

use axum::http::{HeaderName, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};

/// A fault applied to the next `count` token requests.
///
/// When `status` or `body` is set the server answers exactly that raw response (default status 200,
/// body "") and neither authenticates nor issues a token. Otherwise the request is handled normally
/// and the modifiers (`expires_in`, `omit_expires_in`, `token_type`, `extra`) reshape a successful
/// token response. `delay_ms`, `body_delay_ms` and `headers` apply in both cases.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    /// How many of the next token requests this applies to; 0 means 1.
    pub count: u32,
    /// Sleep this long before answering.
    pub delay_ms: u64,
    /// Send the status, the headers and the body's first byte at once, then stall this long before the
    /// rest of the body: a server that starts answering and then hangs, which only a timeout covering
    /// the whole read catches.
    pub body_delay_ms: u64,
    /// Raw response status (makes the fault a raw response).
    pub status: Option<u16>,
    /// Headers added to the response (raw or normal).
    pub headers: BTreeMap<String, String>,
    /// Raw response body (makes the fault a raw response).
    pub body: Option<String>,
    /// Replaces `expires_in` as-is; the JWT `exp` follows when it is an integer.
    pub expires_in: Option<serde_json::Value>,
    /// Leaves `expires_in` out of the token response.
    pub omit_expires_in: bool,
    /// Replaces `token_type`.
    pub token_type: Option<String>,
    /// Top-level fields merged into (and overriding) the token response JSON.
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Send the status line and headers, then drop the connection instead of the body: a server or
    /// proxy that fails mid-answer. The client sees a broken answer (a transport error).
    pub drop_connection: bool,
}

/// A fault that strikes token requests at random, for soak tests: when no queued fault is pending, it
/// applies to one request in `one_in` (on average).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RandomFault {
    /// 20 strikes one request in twenty (5 %); at least 1.
    pub one_in: u32,
    pub fault: Fault,
}

impl RandomFault {
    pub fn validate(&self) -> Result<(), String> {
        if self.one_in == 0 {
            return Err("random fault one_in must be at least 1".to_owned());
        }
        self.fault.validate()
    }

    /// Whether it strikes this time.
    pub(crate) fn strikes(&self) -> bool {
        let mut bytes = [0u8; 4];
        // The system's random source; should it fail, no fault is the safe outcome.
        aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut bytes)
            .is_ok()
            && u32::from_le_bytes(bytes) % self.one_in == 0
    }
}

impl Fault {
    /// A raw response with this status and an empty body.
    pub fn status(status: u16) -> Self {
        Fault {
            status: Some(status),
            ..Fault::default()
        }
    }

    /// Only a delay; the request is then handled normally.
    pub fn delay(delay_ms: u64) -> Self {
        Fault {
            delay_ms,
            ..Fault::default()
        }
    }

    /// Applies this fault to the next `count` requests.
    #[must_use]
    pub fn times(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// Adds a response header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sets the raw response body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Whether the server answers this fault's raw response instead of handling the request.
    pub fn is_raw(&self) -> bool {
        self.status.is_some() || self.body.is_some()
    }

    /// The number of requests this fault applies to (`count`, with 0 read as 1).
    pub fn applications(&self) -> u32 {
        self.count.max(1)
    }

    /// Checks that the status and headers can be put on the wire; the admin API rejects faults that
    /// fail this. Faults pushed from Rust are not checked: bad parts are skipped when answering.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(status) = self.status
            && StatusCode::from_u16(status).is_err()
        {
            return Err(format!(
                "status {status} is not a valid HTTP status (100-999)"
            ));
        }
        for (name, value) in &self.headers {
            if HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(format!(
                    "header name {name:?} is not a valid HTTP header name"
                ));
            }
            if HeaderValue::from_str(value).is_err() {
                return Err(format!(
                    "value of header {name:?} is not a valid HTTP header value"
                ));
            }
        }
        Ok(())
    }
}

/// Pending faults, oldest first, each with the number of applications it has left.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    pending: VecDeque<(Fault, u32)>,
}

impl FaultQueue {
    pub(crate) fn push(&mut self, faults: Vec<Fault>) {
        for fault in faults {
            let left = fault.applications();
            self.pending.push_back((fault, left));
        }
    }

    /// Consumes one application of the oldest fault.
    pub(crate) fn take(&mut self) -> Option<Fault> {
        let (fault, left) = self.pending.front_mut()?;
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.pending.pop_front().map(|(fault, _)| fault)
        } else {
            Some(fault.clone())
        }
    }

    /// Total applications still pending.
    pub(crate) fn remaining(&self) -> u64 {
        self.pending.iter().map(|(_, left)| u64::from(*left)).sum()
    }

    pub(crate) fn clear(&mut self) {
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_zero_means_one_and_counts_are_consumed_in_order() {
        let mut q = FaultQueue::default();
        q.push(vec![Fault::status(500), Fault::status(502).times(2)]);
        assert_eq!(q.remaining(), 3);
        assert_eq!(q.take().and_then(|f| f.status), Some(500));
        assert_eq!(q.take().and_then(|f| f.status), Some(502));
        assert_eq!(q.take().and_then(|f| f.status), Some(502));
        assert_eq!(q.take(), None);
    }

    #[test]
    fn validate_rejects_bad_status_and_headers() {
        assert!(Fault::status(99).validate().is_err());
        assert!(Fault::status(503).validate().is_ok());
        assert!(
            Fault::default()
                .with_header("bad name", "x")
                .validate()
                .is_err()
        );
        assert!(
            Fault::default()
                .with_header("x-ok", "a\nb")
                .validate()
                .is_err()
        );
    }
}
