//! `POST /mock/outage`: the JWKS, introspection or metadata down with a status, slow, or dropping
//! the connection, until `up` or reset; every request to them counted.

mod common;

use std::time::{Duration, Instant};

use common::*;
use m2m_auth_mock::{Fault, MockServer, OutageEndpoint};
use serde_json::{Value, json};

async fn outage(server: &MockServer, body: Value) -> Resp {
    post_json(&format!("{}/mock/outage", server.url()), &body.to_string()).await
}

fn metadata_urls(server: &MockServer) -> [String; 2] {
    [
        format!("{}/.well-known/openid-configuration", server.url()),
        format!("{}/.well-known/oauth-authorization-server", server.url()),
    ]
}

#[tokio::test]
async fn a_status_outage_answers_that_status_until_up() {
    let server = start_default().await;
    let resp = outage(&server, json!({"endpoint": "jwks", "status": 503})).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), json!({"endpoint": "jwks", "down": true}));
    for _ in 0..2 {
        let resp = get(&server.jwks_url()).await;
        assert_eq!(resp.status, 503);
        assert_eq!(resp.header("content-type"), Some("application/json"));
        assert_eq!(resp.json()["error"], "temporarily_unavailable");
    }
    // Only the JWKS is down.
    assert_eq!(get(&metadata_urls(&server)[0]).await.status, 200);

    let resp = outage(&server, json!({"endpoint": "jwks", "up": true})).await;
    assert_eq!(resp.json(), json!({"endpoint": "jwks", "down": false}));
    let resp = get(&server.jwks_url()).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), server.jwks());
    assert_eq!(server.jwks_requests(), 3, "outage answers count too");
    assert_eq!(server.metadata_requests(), 1);
}

#[tokio::test]
async fn a_metadata_outage_covers_both_paths_and_a_new_outage_replaces_the_old() {
    let server = start_default().await;
    outage(&server, json!({"endpoint": "metadata", "status": 500})).await;
    for url in metadata_urls(&server) {
        assert_eq!(get(&url).await.status, 500, "{url}");
    }
    outage(&server, json!({"endpoint": "metadata", "status": 429})).await;
    assert_eq!(get(&metadata_urls(&server)[1]).await.status, 429);
    assert_eq!(server.metadata_requests(), 3);
    assert_eq!(server.stats().metadata_requests, 3);
}

#[tokio::test]
async fn a_delay_outage_answers_normally_after_the_delay() {
    let server = start_default().await;
    outage(&server, json!({"endpoint": "metadata", "delay_ms": 300})).await;
    let started = Instant::now();
    let resp = get(&metadata_urls(&server)[0]).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), server.metadata());
}

#[tokio::test]
async fn a_drop_outage_breaks_the_answer_off() {
    let server = start_default().await;
    outage(
        &server,
        json!({"endpoint": "jwks", "drop_connection": true}),
    )
    .await;
    let response = http()
        .get(server.jwks_url())
        .send()
        .await
        .expect("the headers arrive");
    assert!(response.text().await.is_err(), "the body breaks off");

    outage(
        &server,
        json!({"endpoint": "introspection", "drop_connection": true}),
    )
    .await;
    let response = http()
        .post(server.introspection_url())
        .header("authorization", basic(DEMO_ID, DEMO_SECRET))
        .header("content-type", FORM)
        .body(form(&[("token", "x")]))
        .send()
        .await
        .expect("the headers arrive");
    assert!(response.text().await.is_err(), "the body breaks off");

    outage(&server, json!({"endpoint": "jwks", "up": true})).await;
    assert_eq!(get(&server.jwks_url()).await.status, 200);
    assert_eq!(server.jwks_requests(), 2);
    assert_eq!(server.introspection_requests(), 1);
}

#[tokio::test]
async fn an_introspection_outage_answers_before_authentication() {
    let server = start_default().await;
    outage(&server, json!({"endpoint": "introspection", "status": 503})).await;
    let resp = introspect(&server, None, &[]).await;
    assert_eq!(resp.status, 503);
    assert_eq!(server.requests().pop().expect("recorded").outcome, "fault");
    assert_eq!(server.introspection_requests(), 1);
}

#[tokio::test]
async fn reset_ends_outages_and_zeroes_the_counters() {
    let server = start_default().await;
    for endpoint in ["jwks", "introspection", "metadata"] {
        outage(&server, json!({"endpoint": endpoint, "status": 502})).await;
    }
    get(&server.jwks_url()).await;
    introspect(&server, None, &[]).await;
    get(&metadata_urls(&server)[0]).await;
    let stats = get(&format!("{}/mock/stats", server.url())).await.json();
    assert_eq!(
        (
            &stats["jwks_requests"],
            &stats["introspection_requests"],
            &stats["metadata_requests"]
        ),
        (&json!(1), &json!(1), &json!(1))
    );
    post_json(&format!("{}/mock/reset", server.url()), "").await;
    let stats = server.stats();
    assert_eq!(
        (
            stats.jwks_requests,
            stats.introspection_requests,
            stats.metadata_requests
        ),
        (0, 0, 0)
    );
    assert_eq!(get(&server.jwks_url()).await.status, 200);
    assert_eq!(get(&metadata_urls(&server)[1]).await.status, 200);
    let resp = introspect(
        &server,
        Some(&basic(DEMO_ID, DEMO_SECRET)),
        &[("token", "x")],
    )
    .await;
    assert_eq!(resp.status, 200);
}

#[tokio::test]
async fn set_outage_in_rust_takes_any_fault() {
    let server = start_default().await;
    server.set_outage(
        OutageEndpoint::Jwks,
        Some(Fault::status(429).with_header("Retry-After", "3")),
    );
    let resp = get(&server.jwks_url()).await;
    assert_eq!((resp.status, resp.header("retry-after")), (429, Some("3")));
    server.set_outage(OutageEndpoint::Jwks, None);
    assert_eq!(get(&server.jwks_url()).await.status, 200);
}

#[tokio::test]
async fn bad_outage_bodies_are_400_naming_the_problem() {
    let server = start_default().await;
    let cases = [
        (
            json!({"endpoint": "token", "up": true}),
            "unknown variant `token`",
        ),
        (
            json!({"endpoint": "jwks", "stauts": 503}),
            "unknown field `stauts`",
        ),
        (json!({"endpoint": "jwks"}), "exactly one of"),
        (
            json!({"endpoint": "jwks", "status": 503, "delay_ms": 5}),
            "exactly one of",
        ),
        (
            json!({"endpoint": "jwks", "drop_connection": false}),
            "can only be true",
        ),
        (json!({"endpoint": "jwks", "status": 42}), "status 42"),
        (json!({"status": 503}), "missing field `endpoint`"),
    ];
    for (body, expected) in cases {
        let resp = outage(&server, body.clone()).await;
        assert_eq!(resp.status, 400, "{body}");
        let answer = resp.json();
        assert_eq!(answer["error"], "invalid_request");
        let description = answer["error_description"].as_str().expect("description");
        assert!(description.contains(expected), "{body}: {description}");
    }
    assert_eq!(
        get(&server.jwks_url()).await.status,
        200,
        "nothing went down"
    );
}
