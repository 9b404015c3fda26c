//! Tokens of a 2-second lifetime under continuous calls: refresh-ahead keeps every caller supplied through
//! several rotations, with no error, no expired token, and about one request per rotation.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use m2m_auth::TokenClient;
use m2m_auth_mock::{MockConfig, MockServer};

const LIFETIME_SECS: u64 = 2;
const RUN: Duration = Duration::from_millis(7_500);
const CALLERS: usize = 32;

/// The JWT `exp` claim, in Unix seconds.
fn jwt_exp(token: &str) -> f64 {
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json");
    claims["exp"].as_f64().expect("exp")
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_never_see_an_error_or_an_expired_token_across_rotations() {
    let server = Arc::new(
        MockServer::start(MockConfig::default())
            .await
            .expect("mock"),
    );
    server.set_token_lifetime(LIFETIME_SECS);
    let client = TokenClient::builder()
        .token_url(server.token_url())
        .client_id("demo-client")
        .client_secret("demo-secret")
        .build()
        .expect("client");

    let end = Instant::now() + RUN;
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let client = client.clone();
            let server = Arc::clone(&server);
            tokio::spawn(async move {
                // access token -> the last wall-clock time this caller was handed it
                let mut last_seen: HashMap<String, f64> = HashMap::new();
                let mut calls = 0u64;
                while Instant::now() < end {
                    let token = client.token().await.expect("no caller ever gets an error");
                    assert!(
                        Instant::now() < token.expires_at(),
                        "a caller got a token past its expiry"
                    );
                    let at = unix_now();
                    if last_seen
                        .insert(token.access_token().to_owned(), at)
                        .is_none()
                    {
                        // First sight, moments after it was issued: signature and `exp` must check out.
                        server
                            .verify_access_token(token.access_token())
                            .expect("the server's own token verifies");
                    }
                    calls += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                (last_seen, calls)
            })
        })
        .collect();

    let mut last_seen: HashMap<String, f64> = HashMap::new();
    let mut calls = 0;
    for caller in callers {
        let (seen, n) = caller.await.expect("caller finished");
        calls += n;
        for (token, at) in seen {
            let entry = last_seen.entry(token).or_insert(at);
            *entry = entry.max(at);
        }
    }

    for (token, at) in &last_seen {
        // JWT `exp` has whole-second resolution and the server truncates `iat`, so its `exp` can fall up to
        // one second before the `expires_in` the client goes by.
        assert!(
            *at < jwt_exp(token) + 1.0,
            "a token was handed out {:.3}s after its exp",
            at - jwt_exp(token)
        );
    }
    let rotations = last_seen.len() as u64;
    let requests = server.token_requests();
    let stats = client.stats();
    eprintln!("{calls} calls, {rotations} tokens, {requests} requests, {stats:?}");
    assert!(rotations >= 3, "only {rotations} tokens in {RUN:?}");
    assert!(
        requests <= rotations + 1,
        "{requests} token requests for {rotations} tokens"
    );
    assert_eq!(stats.failures, 0);
    assert!(stats.refreshes >= rotations - 1, "{stats:?}");
    assert!(calls > 1_000, "only {calls} calls");
}
