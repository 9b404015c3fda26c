//! Behaviour of the Rust client beyond the shared vectors: concurrency, secrecy, SecureAuth and environment
//! configuration.

use std::sync::Arc;

use m2m_auth::{Error, TokenClient};
use m2m_auth_mock::{Fault, MockConfig, MockServer};

const SECRET: &str = "demo-secret";

async fn mock() -> MockServer {
    MockServer::start(MockConfig::default())
        .await
        .expect("mock")
}

fn client(server: &MockServer, secret: &str) -> TokenClient {
    TokenClient::builder()
        .token_url(server.token_url())
        .client_id("demo-client")
        .client_secret(secret)
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_callers_share_one_request() {
    let server = mock().await;
    let client = client(&server, SECRET);
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.token().await })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.expect("join").expect("token"));
    }
    assert_eq!(server.token_requests(), 1);
    assert!(tokens.iter().all(|t| Arc::ptr_eq(t, &tokens[0])));
    let stats = client.stats();
    assert_eq!(stats.fetches, 1);
    assert_eq!(stats.hits + stats.misses, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_all_get_the_one_error_then_a_new_call_tries_again() {
    let server = mock().await;
    server.push_faults(vec![
        Fault::delay(200)
            .with_body(r#"{"error":"temporarily_unavailable"}"#)
            .with_header("content-type", "application/json"),
    ]);
    let client = client(&server, SECRET);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.token().await })
        })
        .collect();
    for t in tasks {
        match t.await.expect("join") {
            Err(Error::OAuth(e)) => assert_eq!(e.error, "temporarily_unavailable"),
            other => panic!("expected the OAuth error, got {other:?}"),
        }
    }
    assert_eq!(server.token_requests(), 1);
    // The failure is not cached: the next caller fetches again, and succeeds.
    client.token().await.expect("token after the fault");
    assert_eq!(server.token_requests(), 2);
    let stats = client.stats();
    assert_eq!(stats.failures, 1);
    assert!(
        stats
            .last_error
            .expect("last error")
            .contains("temporarily_unavailable")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_is_in_no_debug_output_or_error() {
    let server = mock().await;
    let secret = "very-secret-value-8431";
    let builder = TokenClient::builder()
        .token_url(server.token_url())
        .client_id("demo-client")
        .client_secret(secret);
    assert!(!format!("{builder:?}").contains(secret));
    let client = builder.build().expect("client");
    assert!(!format!("{client:?}").contains(secret));
    assert!(!client.describe().contains(secret));
    let err = client.token().await.expect_err("wrong secret");
    assert!(!err.to_string().contains(secret) && !format!("{err:?}").contains(secret));

    // A server that echoes the secret back in its error description does not leak it either.
    server.push_faults(vec![
        Fault::status(400)
            .with_header("content-type", "application/json")
            .with_body(format!(
                r#"{{"error":"invalid_request","error_description":"bad secret {secret}"}}"#
            )),
    ]);
    let err = client.token().await.expect_err("fault");
    assert!(!format!("{err} {err:?}").contains(secret), "{err:?}");
    assert!(err.to_string().contains("[redacted]"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_redacted_in_debug_output() {
    let server = mock().await;
    let token = client(&server, SECRET).token().await.expect("token");
    let shown = format!("{token:?}");
    assert!(!shown.contains(token.access_token()), "{shown}");
    assert!(shown.contains("redacted"));
}

#[test]
fn secureauth_builder_uses_the_workspace_token_url() {
    let client = TokenClient::secureauth("acme", "us", "payments")
        .expect("builder")
        .client_id("svc")
        .client_secret("s3cret-value")
        .build()
        .expect("client");
    assert_eq!(
        client.token_url(),
        Some("https://acme.us.connect.secureauth.com/acme/payments/oauth2/token")
    );
    assert_eq!(
        client.issuer(),
        Some("https://acme.us.connect.secureauth.com/acme/payments")
    );
}

#[test]
fn a_token_outside_a_runtime_is_an_error_not_a_panic() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let server = rt.block_on(mock());
    let client = client(&server, SECRET);
    // Polled by a bare executor, with no tokio runtime around it.
    let result = futures::executor::block_on(client.token());
    match result {
        Err(Error::Internal(message)) => assert!(message.contains("tokio runtime"), "{message}"),
        other => panic!("expected an internal error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_watcher_sees_every_change_of_the_default_token_in_order() {
    use std::sync::Mutex;
    use std::time::Duration;

    let server = mock().await;
    let seen: Arc<Mutex<Vec<m2m_auth::TokenUpdate>>> = Arc::default();
    let client = TokenClient::builder()
        .token_url(server.token_url())
        .client_id("demo-client")
        .client_secret(SECRET)
        .watch_token(m2m_auth::TokenWatcher::new({
            let seen = Arc::clone(&seen);
            move |u| seen.lock().expect("lock").push(u)
        }))
        .build()
        .expect("client");
    let first = client.token().await.expect("token");
    // Other scopes are another cache entry: not the default token.
    let params = client
        .params(Some(vec!["payments.read".into()]), None, None)
        .expect("params");
    client.token_for(&params).await.expect("token");
    assert!(!client.invalidate_token("not-the-current-token"));
    assert!(client.invalidate_token(first.access_token()));
    let second = client.token().await.expect("token");
    client.invalidate();

    let seen = seen.lock().expect("lock");
    let summary: Vec<(u64, Option<String>)> = seen
        .iter()
        .map(|u| (u.seq, u.token.as_ref().map(|t| t.access_token().to_owned())))
        .collect();
    assert_eq!(
        summary,
        [
            (1, Some(first.access_token().to_owned())),
            (2, None),
            (3, Some(second.access_token().to_owned())),
            (4, None),
        ]
    );
    assert_eq!(client.token_seq(), 4);
    // An hour-long token may be served from a mirror until 80% of its life (refresh-ahead).
    let serve = seen[0].serve_for();
    assert!(
        serve > Duration::from_secs(2_800) && serve <= Duration::from_secs(2_880),
        "{serve:?}"
    );
}
