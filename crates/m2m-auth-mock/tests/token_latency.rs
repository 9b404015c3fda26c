//! `token_latency_ms`: a fixed wait before every token endpoint answer, as a real server's round trip.

mod common;

use std::time::{Duration, Instant};

use common::*;
use m2m_auth_mock::{MockConfig, MockServer};

#[test]
fn token_latency_defaults_to_zero_and_reads_from_json() {
    assert_eq!(MockConfig::default().token_latency_ms, 0);
    let config = MockConfig::from_json(r#"{"token_latency_ms": 20}"#).expect("valid");
    assert_eq!(config.token_latency_ms, 20);
    assert!(MockConfig::from_json(r#"{"token_latency_ms": -1}"#).is_err());
}

#[tokio::test]
async fn every_token_answer_waits_for_the_latency() {
    let server = MockServer::start(MockConfig {
        token_latency_ms: 150,
        ..MockConfig::default()
    })
    .await
    .expect("mock server starts");

    // A token, and an error: both wait (only lower bounds: a loaded machine may be slower).
    let started = Instant::now();
    let ok = demo_post(&server, &[]).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(started.elapsed() >= Duration::from_millis(150));

    let started = Instant::now();
    let refused = post_form(&server, None, &[("grant_type", "password")]).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(server.token_requests(), 2);

    let stats = get(&format!("{}/mock/stats", server.url())).await;
    assert_eq!(stats.json()["token_requests"], 2);
}
