//! Fault injection: raw responses, delays, counts, and modifiers of a successful token response.

mod common;

use std::time::{Duration, Instant};

use common::*;
use m2m_auth_mock::Fault;
use serde_json::{Value, json};

fn outcomes(server: &m2m_auth_mock::MockServer) -> Vec<String> {
    server.requests().into_iter().map(|r| r.outcome).collect()
}

#[tokio::test]
async fn a_raw_fault_answers_exactly_its_status_headers_and_body() {
    let server = start_default().await;
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    server.push_faults(vec![
        Fault::status(502)
            .with_header("Content-Type", "text/html")
            .with_header("X-Upstream", "down")
            .with_body(html),
    ]);
    let resp = demo_post(&server, &[]).await;
    assert_eq!(resp.status, 502);
    assert_eq!(resp.body, html);
    assert_eq!(resp.header("content-type"), Some("text/html"));
    assert_eq!(resp.header("x-upstream"), Some("down"));
    assert_eq!(resp.header("cache-control"), None);

    // Consumed: the next request is normal.
    let resp = demo_post(&server, &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(server.token_requests(), 2);
    assert_eq!(server.token_requests_for(DEMO_ID), 2);
    assert_eq!(server.tokens_issued(), 1);
    assert_eq!(outcomes(&server), ["fault", "token"]);
}

#[tokio::test]
async fn a_raw_fault_skips_authentication() {
    let server = start_default().await;
    server.push_faults(vec![Fault::status(429).with_header("Retry-After", "2")]);
    // Wrong secret and no grant_type: the fault answers anyway.
    let resp = post_form(
        &server,
        None,
        &[("client_id", DEMO_ID), ("client_secret", "wrong")],
    )
    .await;
    assert_eq!(resp.status, 429);
    assert_eq!(resp.header("retry-after"), Some("2"));
    assert_eq!(resp.body, "");
    assert_eq!(resp.header("content-type"), None);
    assert_eq!(server.requests()[0].client_id.as_deref(), Some(DEMO_ID));
}

#[tokio::test]
async fn a_body_without_status_is_a_200_raw_response() {
    let server = start_default().await;
    server.push_faults(vec![Fault {
        body: Some("{not json".into()),
        ..Fault::default()
    }]);
    let resp = demo_post(&server, &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, "{not json");
    assert_eq!(server.tokens_issued(), 0);
}

#[tokio::test]
async fn counts_are_consumed_in_order_and_zero_means_one() {
    let server = start_default().await;
    server.push_faults(vec![
        Fault::status(500).times(2),
        Fault::status(503).times(0),
    ]);
    server.push_faults(vec![Fault::status(504)]);
    assert_eq!(server.pending_faults(), 4);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(demo_post(&server, &[]).await.status);
    }
    assert_eq!(statuses, [500, 500, 503, 504, 200]);
    assert_eq!(server.pending_faults(), 0);
    assert_eq!(
        outcomes(&server),
        ["fault", "fault", "fault", "fault", "token"]
    );
}

#[tokio::test]
async fn a_delay_holds_the_response() {
    let server = start_default().await;
    server.push_faults(vec![Fault::delay(300)]);
    let started = Instant::now();
    let resp = demo_post(&server, &[]).await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(resp.status, 200, "a delay alone still issues a token");
    assert_eq!(demo_post(&server, &[]).await.status, 200);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_body_delay_sends_the_head_at_once_and_stalls_the_rest_of_the_body() {
    let server = start_default().await;
    server.push_faults(vec![Fault {
        body_delay_ms: 400,
        ..Fault::default()
    }]);
    let mut resp = http()
        .post(server.token_url())
        .header("content-type", FORM)
        .body(form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_ID),
            ("client_secret", DEMO_SECRET),
        ]))
        .send()
        .await
        .expect("the status and headers arrive");
    assert_eq!(resp.status(), 200);
    let headers_at = Instant::now();
    let first = resp.chunk().await.expect("read").expect("a first chunk");
    assert_eq!(&first[..], b"{");
    let mut rest = Vec::new();
    while let Some(chunk) = resp.chunk().await.expect("read") {
        rest.extend_from_slice(&chunk);
    }
    assert!(headers_at.elapsed() >= Duration::from_millis(400));
    let body: Value =
        serde_json::from_slice(&[&first[..], &rest].concat()).expect("a whole token answer");
    assert!(body["access_token"].is_string());
}

#[tokio::test]
async fn a_client_that_gives_up_during_a_delay_is_still_counted() {
    let server = start_default().await;
    server.push_faults(vec![Fault::delay(2_000).times(1)]);
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let result = client
        .post(server.token_url())
        .header("content-type", FORM)
        .body(form(&[("grant_type", "client_credentials")]))
        .send()
        .await;
    assert!(result.is_err(), "timed out");
    assert_eq!(server.token_requests(), 1);
    // The server notices the hang-up and drops the handler, which records the request as aborted.
    let mut recorded = server.requests();
    for _ in 0..50 {
        if !recorded.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        recorded = server.requests();
    }
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].outcome, "aborted");
    let resp = demo_post(&server, &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(server.token_requests(), 2);
}

fn body_and_claims(resp: &Resp) -> (Value, Value) {
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json();
    let (_, claims) = decode_jwt(body["access_token"].as_str().expect("token"));
    (body, claims)
}

#[tokio::test]
async fn expires_in_is_replaced_as_is() {
    let server = start_default().await;
    server.push_faults(vec![
        Fault {
            expires_in: Some(json!("3600")),
            ..Fault::default()
        },
        Fault {
            expires_in: Some(json!(0.5)),
            ..Fault::default()
        },
        Fault {
            expires_in: Some(json!(-10)),
            ..Fault::default()
        },
        Fault {
            expires_in: Some(json!(60)),
            ..Fault::default()
        },
    ]);
    // A string: the JWT keeps the configured lifetime.
    let (body, claims) = body_and_claims(&demo_post(&server, &[]).await);
    assert_eq!(body["expires_in"], json!("3600"));
    assert_eq!(
        claims["exp"].as_i64(),
        claims["iat"].as_i64().map(|i| i + 3600)
    );
    // A fraction.
    let (body, claims) = body_and_claims(&demo_post(&server, &[]).await);
    assert_eq!(body["expires_in"], json!(0.5));
    assert_eq!(
        claims["exp"].as_i64(),
        claims["iat"].as_i64().map(|i| i + 3600)
    );
    // A negative integer: exp moves into the past with it.
    let (body, claims) = body_and_claims(&demo_post(&server, &[]).await);
    assert_eq!(body["expires_in"], json!(-10));
    assert_eq!(
        claims["exp"].as_i64(),
        claims["iat"].as_i64().map(|i| i - 10)
    );
    // A positive integer.
    let (body, claims) = body_and_claims(&demo_post(&server, &[]).await);
    assert_eq!(body["expires_in"], json!(60));
    assert_eq!(
        claims["exp"].as_i64(),
        claims["iat"].as_i64().map(|i| i + 60)
    );
    // And back to normal.
    let (body, _) = body_and_claims(&demo_post(&server, &[]).await);
    assert_eq!(body["expires_in"], json!(3600));
}

#[tokio::test]
async fn omit_expires_in_token_type_and_extra() {
    let server = start_default().await;
    server.push_faults(vec![
        Fault {
            omit_expires_in: true,
            ..Fault::default()
        },
        Fault {
            token_type: Some("mac".into()),
            ..Fault::default()
        },
        Fault {
            extra: json!({"access_token": "", "refresh_token": "r1", "scope": null})
                .as_object()
                .cloned()
                .expect("object"),
            ..Fault::default()
        },
    ]);
    let (body, claims) = body_and_claims(&demo_post(&server, &[]).await);
    assert_eq!(body.get("expires_in"), None);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        claims["exp"].as_i64(),
        claims["iat"].as_i64().map(|i| i + 3600)
    );

    let (body, _) = body_and_claims(&demo_post(&server, &[]).await);
    assert_eq!(body["token_type"], "mac");
    assert_eq!(body["expires_in"], 3600);

    let resp = demo_post(&server, &[]).await;
    assert_eq!(resp.status, 200);
    let body = resp.json();
    assert_eq!(
        body,
        json!({
            "access_token": "",
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": null,
            "refresh_token": "r1",
        })
    );
    assert_eq!(server.tokens_issued(), 3);
}

#[tokio::test]
async fn modifiers_are_consumed_even_when_the_request_fails() {
    let server = start_default().await;
    server.push_faults(vec![Fault {
        token_type: Some("mac".into()),
        ..Fault::default()
    }]);
    let resp = post_form(&server, None, &[("grant_type", "client_credentials")]).await;
    resp.assert_oauth_error(401, "invalid_client");
    let (body, _) = body_and_claims(&demo_post(&server, &[]).await);
    assert_eq!(body["token_type"], "Bearer");
}

#[tokio::test]
async fn headers_without_status_are_added_to_the_normal_response() {
    let server = start_default().await;
    server.push_faults(vec![Fault::default().with_header("X-Trace", "t-1")]);
    let resp = demo_post(&server, &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-trace"), Some("t-1"));
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(outcomes(&server), ["token"]);
}

#[tokio::test]
async fn reset_clears_pending_faults() {
    let server = start_default().await;
    server.push_faults(vec![Fault::status(500).times(3)]);
    assert_eq!(demo_post(&server, &[]).await.status, 500);
    server.reset();
    assert_eq!(server.pending_faults(), 0);
    assert_eq!(demo_post(&server, &[]).await.status, 200);
}

#[test]
fn faults_deserialize_with_defaults_and_reject_unknown_fields() {
    let fault: Fault = serde_json::from_str(r#"{"status": 503, "headers": {"Retry-After": "1"}}"#)
        .expect("valid fault");
    assert_eq!(fault, Fault::status(503).with_header("Retry-After", "1"));
    assert_eq!(fault.applications(), 1);
    let err = serde_json::from_str::<Fault>(r#"{"stauts": 503}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `stauts`"), "{err}");
}

#[tokio::test]
async fn random_faults_strike_while_no_queued_fault_is_pending() {
    use m2m_auth_mock::{MockConfig, MockServer, RandomFault};
    let always = MockConfig {
        random_faults: vec![RandomFault {
            one_in: 1,
            fault: Fault::status(503),
        }],
        ..MockConfig::default()
    };
    let server = MockServer::start(always).await.expect("mock");
    server.push_faults(vec![Fault::status(429)]);
    let statuses = [
        demo_post(&server, &[]).await.status,
        demo_post(&server, &[]).await.status,
        demo_post(&server, &[]).await.status,
    ];
    assert_eq!(
        statuses,
        [429, 503, 503],
        "the queue first, then the random fault"
    );

    let rare = MockConfig {
        random_faults: vec![RandomFault {
            one_in: u32::MAX,
            fault: Fault::status(503),
        }],
        ..MockConfig::default()
    };
    let server = MockServer::start(rare).await.expect("mock");
    assert_eq!(demo_post(&server, &[]).await.status, 200);

    let bad = r#"{"random_faults": [{"one_in": 0, "fault": {"status": 503}}]}"#;
    assert!(MockConfig::from_json(bad).is_err());
}

#[tokio::test]
async fn a_dropped_connection_breaks_the_answer_off_after_the_headers() {
    let server = start_default().await;
    server.push_faults(vec![Fault {
        drop_connection: true,
        ..Fault::default()
    }]);
    let response = http()
        .post(server.token_url())
        .header("content-type", FORM)
        .body(form(&[
            CC,
            ("client_id", DEMO_ID),
            ("client_secret", DEMO_SECRET),
        ]))
        .send()
        .await
        .expect("the headers arrive");
    assert_eq!(response.status(), 200);
    assert!(response.text().await.is_err(), "the body breaks off");
    assert_eq!(
        demo_post(&server, &[]).await.status,
        200,
        "the next is normal"
    );
}
