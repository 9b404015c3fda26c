//! Verifiers of a fleet sharing the issuer's keys and introspection answers through a real redis-server: a
//! fleet fetches the JWKS once, waits out one cooldown together on unknown kids, asks the introspection
//! endpoint once per active token, and trusts nothing it cannot open with its key.

use std::time::Duration;

use m2m_auth::{Verifier, VerifierBuilder};
use m2m_auth_mock::{MockConfig, MockServer, RedisServer};
use serde_json::{Value, json};

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const OTHER_KEY: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

fn redis() -> RedisServer {
    RedisServer::start()
        .expect("redis-server is needed by these tests (Debian: apt-get install redis-server)")
}

fn verifier(mock: &MockServer, cache_url: &str, key: &str) -> VerifierBuilder {
    Verifier::builder()
        .issuer(mock.issuer())
        .audience(mock.issuer())
        .cache_url(cache_url)
        .cache_encryption_key(key)
}

fn mint(mock: &MockServer, request: Value) -> Vec<String> {
    mock.mint_tokens(request).expect("minted")
}

async fn stats(mock: &MockServer) -> Value {
    let text = reqwest::get(format!("{}/mock/stats", mock.url()))
        .await
        .expect("stats")
        .text()
        .await
        .expect("stats body");
    serde_json::from_str(&text).expect("stats JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_fetches_the_keys_once_and_waits_out_one_cooldown() {
    let mock = MockServer::start(MockConfig::default())
        .await
        .expect("mock");
    let redis = redis();
    let fleet: Vec<Verifier> = (0..4)
        .map(|_| {
            verifier(&mock, &redis.url(), KEY)
                .jwks_cooldown(Duration::from_secs(2))
                .build()
                .expect("verifier")
        })
        .collect();
    for (verifier, token) in fleet.iter().zip(mint(&mock, json!({"count": 4}))) {
        verifier.verify(&token, None).await.expect("valid");
    }
    assert_eq!(
        stats(&mock).await["jwks_requests"],
        1,
        "one fetch for the fleet"
    );
    // Unknown kids at every member within the cooldown of that fetch: nobody fetches.
    let early = mint(
        &mock,
        json!({"count": 4, "sign": "other_key", "distinct_kids": true}),
    );
    for (verifier, token) in fleet.iter().zip(&early) {
        assert!(verifier.verify(token, None).await.is_err());
    }
    assert_eq!(stats(&mock).await["jwks_requests"], 1);
    // After it: one member tries, the others wait out its cooldown.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let storm = mint(
        &mock,
        json!({"count": 40, "sign": "other_key", "distinct_kids": true}),
    );
    for (i, token) in storm.iter().enumerate() {
        let e = fleet[i % fleet.len()]
            .verify(token, None)
            .await
            .expect_err("unknown kid");
        assert_eq!(e.status(), 401);
    }
    assert_eq!(stats(&mock).await["jwks_requests"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_introspects_an_active_token_once_and_shares_no_inactive_answer() {
    let mock = MockServer::start(MockConfig::default())
        .await
        .expect("mock");
    let redis = redis();
    let member = || {
        let client = m2m_auth::TokenClient::builder()
            .issuer(mock.issuer())
            .client_id("demo-client")
            .client_secret("demo-secret")
            .build()
            .expect("introspection client");
        verifier(&mock, &redis.url(), KEY)
            .introspection(client)
            .build()
            .expect("verifier")
    };
    let (a, b) = (member(), member());
    let active = mint(&mock, json!({"opaque": true})).remove(0);
    let inactive = mint(&mock, json!({"opaque": true, "active": false})).remove(0);
    assert_eq!(
        a.verify(&active, None)
            .await
            .expect("active")
            .client_id
            .as_deref(),
        Some("svc-vectors")
    );
    assert_eq!(
        b.verify(&active, None)
            .await
            .expect("shared answer")
            .client_id
            .as_deref(),
        Some("svc-vectors")
    );
    assert!(a.verify(&inactive, None).await.is_err());
    assert!(b.verify(&inactive, None).await.is_err());
    // The active token once for the fleet; an inactive one is asked by each (made-up tokens must not fill
    // the shared cache).
    assert_eq!(mock.introspection_requests(), 3);
    // Nothing in Redis holds a token.
    let mut conn = redis::Client::open(redis.url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connection");
    let names: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert!(!names.is_empty());
    for name in names {
        let value: Vec<u8> = redis::cmd("GET")
            .arg(&name)
            .query_async(&mut conn)
            .await
            .expect("get");
        let text = String::from_utf8_lossy(&value);
        assert!(
            !name.contains(&active) && !text.contains(&active) && !text.contains("svc-vectors"),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_sealed_with_another_key_are_not_trusted() {
    let mock = MockServer::start(MockConfig::default())
        .await
        .expect("mock");
    let redis = redis();
    let ours = verifier(&mock, &redis.url(), KEY)
        .build()
        .expect("verifier");
    let theirs = verifier(&mock, &redis.url(), OTHER_KEY)
        .build()
        .expect("verifier");
    let tokens = mint(&mock, json!({"count": 2}));
    ours.verify(&tokens[0], None).await.expect("valid");
    theirs.verify(&tokens[1], None).await.expect("valid");
    assert_eq!(
        stats(&mock).await["jwks_requests"],
        2,
        "the other key's verifier fetched for itself"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_cache_needs_a_key_and_a_dead_one_is_a_miss() {
    let mock = MockServer::start(MockConfig::default())
        .await
        .expect("mock");
    let e = Verifier::builder()
        .issuer(mock.issuer())
        .audience(mock.issuer())
        .cache_url("redis://127.0.0.1:1")
        .build()
        .expect_err("no key");
    assert!(
        matches!(&e, m2m_auth::Error::Config { field, .. } if field == "cache_encryption_key"),
        "{e}"
    );
    // Nothing listens there: the verifier works without the fleet.
    let alone = verifier(&mock, "redis://127.0.0.1:1", KEY)
        .build()
        .expect("verifier");
    let token = mint(&mock, json!({})).remove(0);
    alone
        .verify(&token, None)
        .await
        .expect("valid without the shared cache");
}
