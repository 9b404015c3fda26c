//! Outages of the endpoints a token verifier depends on — the JWKS, introspection and the
//! metadata — so its caching, last-good-keys and `VerifierUnavailable` paths can be tested. An
//! outage is a [`Fault`] that stays on one endpoint until it is restored or the server is reset,
//! answered by the same code as the token endpoint's faults.

use std::future::Future;
use std::time::Duration;

use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::fault_response;
use crate::faults::Fault;

/// An endpoint that [`MockServer::set_outage`](crate::MockServer::set_outage) can take down, and
/// whose requests are counted in [`MockStats`](crate::MockStats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutageEndpoint {
    /// `GET /jwks`.
    Jwks,
    /// `POST /oauth2/introspect`, on the main port and the mTLS alias.
    Introspection,
    /// `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`.
    Metadata,
}

/// The JSON body a `status` outage answers with: small, in the OAuth error shape, so a client
/// that reads it sees why.
const OUTAGE_BODY: &str = r#"{"error":"temporarily_unavailable","error_description":"outage injected by POST /mock/outage"}"#;

/// Body of `POST /mock/outage`: the endpoint and exactly one of the other fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutageBody {
    endpoint: OutageEndpoint,
    status: Option<u16>,
    delay_ms: Option<u64>,
    drop_connection: Option<bool>,
    up: Option<bool>,
}

impl OutageBody {
    /// The endpoint, and the fault it should suffer from now on (`None`: restored).
    pub(crate) fn into_outage(self) -> Result<(OutageEndpoint, Option<Fault>), String> {
        let given = [
            self.status.is_some(),
            self.delay_ms.is_some(),
            self.drop_connection.is_some(),
            self.up.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(
                "give exactly one of \"status\", \"delay_ms\", \"drop_connection\": true, \"up\": true"
                    .to_owned(),
            );
        }
        let fault = if let Some(status) = self.status {
            let fault = Fault::status(status)
                .with_header("Content-Type", "application/json")
                .with_body(OUTAGE_BODY);
            fault.validate()?;
            Some(fault)
        } else if let Some(delay_ms) = self.delay_ms {
            Some(Fault::delay(delay_ms))
        } else if self.drop_connection == Some(true) {
            Some(Fault {
                drop_connection: true,
                ..Fault::default()
            })
        } else if self.up == Some(true) {
            None
        } else {
            return Err("\"drop_connection\" and \"up\" can only be true".to_owned());
        };
        Ok((self.endpoint, fault))
    }
}

/// Answers a request to an endpoint under `outage`, if any: after its delay, the fault's raw
/// response (the normal answer is then never computed) or the normal answer with the fault's
/// headers, broken off or stalled as the fault says. Without an outage, the normal answer.
pub(crate) async fn answer(
    outage: Option<&Fault>,
    normal: impl Future<Output = Response>,
) -> Response {
    let Some(fault) = outage else {
        return normal.await;
    };
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    let response = if fault.is_raw() {
        fault_response::raw_response(fault)
    } else {
        let mut response = normal.await;
        fault_response::add_headers(&mut response, fault);
        response
    };
    fault_response::finish(response, fault).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<(OutageEndpoint, Option<Fault>), String> {
        serde_json::from_str::<OutageBody>(body)
            .map_err(|e| e.to_string())?
            .into_outage()
    }

    #[test]
    fn each_form_becomes_its_fault() {
        let (endpoint, fault) = parse(r#"{"endpoint": "jwks", "status": 503}"#).expect("ok");
        assert_eq!(endpoint, OutageEndpoint::Jwks);
        assert_eq!(fault.and_then(|f| f.status), Some(503));
        let (_, fault) = parse(r#"{"endpoint": "metadata", "delay_ms": 50}"#).expect("ok");
        assert_eq!(fault.map(|f| (f.delay_ms, f.is_raw())), Some((50, false)));
        let (_, fault) =
            parse(r#"{"endpoint": "introspection", "drop_connection": true}"#).expect("ok");
        assert!(fault.is_some_and(|f| f.drop_connection));
        assert_eq!(
            parse(r#"{"endpoint": "jwks", "up": true}"#).expect("ok").1,
            None
        );
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        for (body, expected) in [
            (r#"{"endpoint": "jwks"}"#, "exactly one"),
            (
                r#"{"endpoint": "jwks", "status": 503, "up": true}"#,
                "exactly one",
            ),
            (r#"{"endpoint": "jwks", "up": false}"#, "only be true"),
            (r#"{"endpoint": "jwks", "status": 42}"#, "status 42"),
            (
                r#"{"endpoint": "token", "up": true}"#,
                "unknown variant `token`",
            ),
            (
                r#"{"endpoint": "jwks", "stauts": 503}"#,
                "unknown field `stauts`",
            ),
        ] {
            let error = parse(body).expect_err(body);
            assert!(error.contains(expected), "{body}: {error}");
        }
    }
}
