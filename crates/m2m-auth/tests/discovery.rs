//! Discovery (RFC 8414 / OIDC Discovery): the client reads the issuer's metadata once, checks it, and sends
//! token requests where it says. A small metadata server here serves documents that are right or wrong on
//! purpose; token requests go to the mock authorization server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use m2m_auth::{Error, RetryPolicy, TokenClient};
use m2m_auth_mock::{MockConfig, MockServer};
use serde_json::{Value, json};

/// What the metadata server answers at each well-known location.
#[derive(Clone)]
struct Answers {
    oidc: (StatusCode, Value),
    oauth: (StatusCode, Value),
    /// Answer this many requests with 503 first.
    unavailable: Arc<AtomicUsize>,
    hits: Arc<AtomicUsize>,
}

async fn oidc(State(a): State<Answers>) -> Response {
    answer(&a, &a.oidc)
}

async fn oauth(State(a): State<Answers>) -> Response {
    answer(&a, &a.oauth)
}

fn answer(a: &Answers, (status, body): &(StatusCode, Value)) -> Response {
    a.hits.fetch_add(1, Ordering::SeqCst);
    if a.unavailable
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    (*status, axum::Json(body.clone())).into_response()
}

struct Setup {
    mock: MockServer,
    issuer: String,
    hits: Arc<AtomicUsize>,
    unavailable: Arc<AtomicUsize>,
}

/// Starts the mock and a metadata server for issuer `http://127.0.0.1:PORT/tenant`; `doc` builds each
/// location's answer from (issuer, mock token URL).
async fn setup(doc: impl Fn(&str, &str) -> [(StatusCode, Value); 2]) -> Setup {
    let mock = MockServer::start(MockConfig::default())
        .await
        .expect("mock");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let issuer = format!("http://{addr}/tenant");
    let [oidc_answer, oauth_answer] = doc(&issuer, &mock.token_url());
    let answers = Answers {
        oidc: oidc_answer,
        oauth: oauth_answer,
        unavailable: Arc::default(),
        hits: Arc::default(),
    };
    let (hits, unavailable) = (Arc::clone(&answers.hits), Arc::clone(&answers.unavailable));
    let app = Router::new()
        .route("/tenant/.well-known/openid-configuration", get(oidc))
        .route("/.well-known/oauth-authorization-server/tenant", get(oauth))
        .with_state(answers);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Setup {
        mock,
        issuer,
        hits,
        unavailable,
    }
}

fn metadata(issuer: &str, token_url: &str) -> Value {
    json!({
        "issuer": issuer,
        "token_endpoint": token_url,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    })
}

fn not_found() -> (StatusCode, Value) {
    (StatusCode::NOT_FOUND, json!({}))
}

fn client(issuer: &str) -> m2m_auth::TokenClientBuilder {
    TokenClient::from_issuer(issuer)
        .client_id("demo-client")
        .client_secret("demo-secret")
}

fn config_field(e: Error) -> (String, String) {
    match e {
        Error::Config { field, message } => (field, message),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_is_discovered_once_for_every_caller_and_every_scope_set() {
    let s = setup(|i, t| [(StatusCode::OK, metadata(i, t)), not_found()]).await;
    let client = client(&s.issuer).build().expect("client");
    assert_eq!(
        client.token_url(),
        None,
        "nothing is fetched before first use"
    );
    assert!(client.describe().contains(&s.issuer));

    let callers: Vec<_> = (0..100)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.token().await })
        })
        .collect();
    for caller in callers {
        caller.await.expect("join").expect("token");
    }
    let params = client
        .params(Some(vec!["payments.read".into()]), None, None)
        .expect("params");
    client.token_for(&params).await.expect("token");
    client.invalidate();
    client.token().await.expect("token");

    assert_eq!(s.hits.load(Ordering::SeqCst), 1, "metadata read once");
    assert_eq!(s.mock.token_requests(), 3);
    assert_eq!(client.token_url(), Some(s.mock.token_url().as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_oidc_metadata_the_rfc_8414_location_is_used() {
    let s = setup(|i, t| [not_found(), (StatusCode::OK, metadata(i, t))]).await;
    let client = client(&s.issuer).build().expect("client");
    client.token().await.expect("token");
    assert_eq!(s.hits.load(Ordering::SeqCst), 2);
    assert_eq!(s.mock.token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_for_another_issuer_is_refused_before_any_token_request() {
    let s = setup(|_, t| {
        [
            (StatusCode::OK, metadata("https://evil.example/tenant", t)),
            not_found(),
        ]
    })
    .await;
    let client = client(&s.issuer).build().expect("client");
    let (field, message) = config_field(client.token().await.expect_err("mismatch"));
    assert_eq!(field, "issuer");
    assert!(message.contains("evil.example"), "{message}");
    assert_eq!(s.mock.token_requests(), 0);
    assert!(!message.contains("demo-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_the_server_does_not_support_is_a_config_error_listing_what_it_does() {
    let s = setup(|i, t| {
        let mut doc = metadata(i, t);
        doc["token_endpoint_auth_methods_supported"] =
            json!(["private_key_jwt", "tls_client_auth"]);
        [(StatusCode::OK, doc), not_found()]
    })
    .await;
    let client = client(&s.issuer).build().expect("client");
    let (field, message) = config_field(client.token().await.expect_err("unsupported"));
    assert_eq!(field, "auth_method");
    assert!(message.contains("client_secret_post"), "{message}");
    assert!(
        message.contains("private_key_jwt, tls_client_auth"),
        "{message}"
    );
    assert_eq!(s.mock.token_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_metadata_at_either_location_names_both() {
    let s = setup(|_, _| [not_found(), not_found()]).await;
    let client = client(&s.issuer).build().expect("client");
    let (field, message) = config_field(client.token().await.expect_err("no metadata"));
    assert_eq!(field, "issuer");
    assert!(message.contains("openid-configuration"), "{message}");
    assert!(message.contains("oauth-authorization-server"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_metadata_server_is_retried_like_the_token_endpoint() {
    let s = setup(|i, t| [(StatusCode::OK, metadata(i, t)), not_found()]).await;
    s.unavailable.store(2, Ordering::SeqCst);
    let client = client(&s.issuer)
        .retry(RetryPolicy {
            max_attempts: 3,
            initial_backoff: std::time::Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .build()
        .expect("client");
    client.token().await.expect("token after two 503s");
    assert_eq!(s.hits.load(Ordering::SeqCst), 3);
    assert_eq!(s.mock.token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_token_endpoint_elsewhere_is_refused() {
    let s = setup(|i, _| {
        [
            (
                StatusCode::OK,
                metadata(i, "http://idp.example/oauth2/token"),
            ),
            not_found(),
        ]
    })
    .await;
    let client = client(&s.issuer).build().expect("client");
    let (field, _) = config_field(client.token().await.expect_err("plain http"));
    assert_eq!(field, "token_endpoint");
}
