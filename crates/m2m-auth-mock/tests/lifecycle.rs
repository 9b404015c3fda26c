//! Configuration, start-up, runtimes, Debug output and shutdown.

mod common;

use std::time::Duration;

use common::*;
use m2m_auth_mock::{MockConfig, MockError, MockServer, RegisteredClient};

#[test]
fn default_config_registers_the_demo_client() {
    let config = MockConfig::default();
    assert_eq!(config.port, 0);
    assert_eq!(config.token_lifetime_secs, 3600);
    assert_eq!(config.issuer, None);
    assert_eq!(config.clients.len(), 1);
    let demo = &config.clients[0];
    assert_eq!(demo.client_id, "demo-client");
    assert_eq!(demo.client_secret, "demo-secret");
    assert_eq!(demo.scopes, ["payments.read", "payments.write"]);
    assert_eq!(
        demo.auth_methods,
        ["client_secret_basic", "client_secret_post"]
    );
    assert_eq!(demo.default_audience, None);
    assert_eq!(MockConfig::from_json("{}").expect("empty object"), config);
}

#[test]
fn from_json_fills_defaults_and_names_problems() {
    let config = MockConfig::from_json(
        r#"{"token_lifetime_secs": 60, "clients": [{"client_id": "a", "client_secret": "b"}]}"#,
    )
    .expect("valid");
    assert_eq!(config.token_lifetime_secs, 60);
    assert_eq!(
        config.clients[0].auth_methods,
        ["client_secret_basic", "client_secret_post"]
    );
    assert!(config.clients[0].scopes.is_empty());

    let cases = [
        (r#"{"prot": 1}"#, "unknown field `prot`"),
        (
            r#"{"clients": [{"client_id": "a"}]}"#,
            "missing field `client_secret`",
        ),
        (r#"{"port": "x"}"#, "invalid type"),
        ("[", "config JSON"),
        (
            r#"{"clients": [{"client_id": "a", "client_secret": "b", "auth_methods": ["client_secret_magic"]}]}"#,
            "unsupported method \"client_secret_magic\"",
        ),
        (
            r#"{"clients": [{"client_id": "a", "client_secret": "b"}, {"client_id": "a", "client_secret": "c"}]}"#,
            "registered twice",
        ),
        (
            r#"{"clients": [{"client_id": "", "client_secret": "b"}]}"#,
            "client_id must not be empty",
        ),
        (
            r#"{"clients": [{"client_id": "a", "client_secret": "b", "scopes": ["two words"]}]}"#,
            "not a valid scope token",
        ),
        (r#"{"issuer": ""}"#, "`issuer` must not be empty"),
        (
            r#"{"issuer": "urn:example:idp"}"#,
            "`issuer` must be an http(s) URL",
        ),
        (
            r#"{"issuer": "https://idp.example/#x"}"#,
            "`issuer` must be an http(s) URL",
        ),
    ];
    for (json, expected) in cases {
        let err = MockConfig::from_json(json).unwrap_err();
        assert!(matches!(err, MockError::Config(_)), "{json}");
        let message = err.to_string();
        assert!(message.contains(expected), "{json}: {message}");
        assert!(!message.contains("\"c\""), "no secret in {message}");
    }
}

#[tokio::test]
async fn urls_and_a_fixed_port() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe");
    let port = probe.local_addr().expect("addr").port();
    drop(probe);
    let server = MockServer::start(MockConfig {
        port,
        ..MockConfig::default()
    })
    .await
    .expect("start on the free port");
    assert_eq!(server.url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(server.issuer(), server.url());
    assert_eq!(
        server.token_url(),
        format!("http://127.0.0.1:{port}/oauth2/token")
    );
    assert_eq!(server.local_addr().port(), port);

    // The port is now taken.
    let err = MockServer::start(MockConfig {
        port,
        ..MockConfig::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(err, MockError::Bind { port: p, .. } if p == port),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("could not bind 127.0.0.1:{port}"))
    );
}

#[tokio::test]
async fn start_validates_the_config() {
    let err = MockServer::start(MockConfig {
        clients: vec![RegisteredClient {
            auth_methods: vec![],
            ..RegisteredClient::new("a", "b")
        }],
        ..MockConfig::default()
    })
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("auth_methods must name at least one method"),
        "{err}"
    );
}

#[tokio::test]
async fn debug_output_has_no_secrets() {
    let server = start_with(vec![RegisteredClient::new("dbg", "top-secret-value")]).await;
    let debug = format!("{server:?}");
    assert!(debug.starts_with("MockServer {"), "{debug}");
    assert!(debug.contains(&server.url()));
    assert!(!debug.contains("top-secret-value"));
    let client_debug = format!("{:?}", server.config().clients[0]);
    assert!(client_debug.contains("dbg") && client_debug.contains("<redacted>"));
    assert!(!client_debug.contains("top-secret-value"));
}

async fn refused(url: &str) -> bool {
    // A fresh client, so no pooled connection hides the closed listener.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    client.get(url).send().await.is_err()
}

#[tokio::test]
async fn shutdown_stops_serving_and_is_idempotent() {
    let server = start_default().await;
    let jwks = server.jwks_url();
    assert!(!refused(&jwks).await);
    assert!(!server.is_shut_down());
    server.shutdown();
    server.shutdown();
    assert!(server.is_shut_down());
    let mut stopped = false;
    for _ in 0..50 {
        if refused(&jwks).await {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(stopped, "listener closed after shutdown");
    // The handle still answers its getters.
    assert_eq!(server.token_requests(), 0);
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let server = start_default().await;
    let jwks = server.jwks_url();
    drop(server);
    let mut stopped = false;
    for _ in 0..50 {
        if refused(&jwks).await {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(stopped);
}

/// The bindings keep the server on a background runtime and call it from other threads.
#[test]
fn works_on_a_background_runtime_used_from_other_threads() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime
        .block_on(MockServer::start(MockConfig::default()))
        .expect("start");
    let token_url = server.token_url();
    // A request from another thread with its own runtime, while the server's runtime idles.
    let status = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        rt.block_on(async {
            http()
                .post(token_url)
                .header("content-type", FORM)
                .header("authorization", basic(DEMO_ID, DEMO_SECRET))
                .body("grant_type=client_credentials")
                .send()
                .await
                .expect("sent")
                .status()
                .as_u16()
        })
    })
    .join()
    .expect("thread");
    assert_eq!(status, 200);
    assert_eq!(server.tokens_issued(), 1);
    server.shutdown();
    drop(server);
    drop(runtime);
}
