//! What the core's test files share: a mock server and a client of its demo client.
// Each test binary uses a part of it.
#![allow(dead_code)]

use m2m_auth::{TokenClient, TokenClientBuilder};
use m2m_auth_mock::{MockConfig, MockServer};

/// A mock authorization server with the demo client; with `tls`, HTTPS and the mTLS alias.
pub async fn mock(tls: bool) -> MockServer {
    MockServer::start(MockConfig {
        tls,
        ..MockConfig::default()
    })
    .await
    .expect("mock")
}

/// A builder for the demo client of `server` (demo-client / demo-secret).
pub fn demo_builder(server: &MockServer) -> TokenClientBuilder {
    TokenClient::builder()
        .token_url(server.token_url())
        .client_id("demo-client")
        .client_secret("demo-secret")
}

/// The demo client of `server`.
pub fn demo(server: &MockServer) -> TokenClient {
    demo_builder(server).build().expect("client")
}

/// `tests/vectors/` of the repository: the cases every language runs.
pub fn vectors_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// The mock server configuration of the shared vectors (`mock-server.json`).
pub fn vectors_mock_config() -> MockConfig {
    let text =
        std::fs::read_to_string(vectors_dir().join("mock-server.json")).expect("mock-server.json");
    MockConfig::from_json(&text).expect("mock config")
}

/// A runtime for a harness-less test binary (libtest-mimic), with the vectors' mock server started on it.
pub fn vectors_runtime_and_mock() -> (
    std::sync::Arc<tokio::runtime::Runtime>,
    std::sync::Arc<MockServer>,
) {
    let runtime = std::sync::Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime"),
    );
    let mock = std::sync::Arc::new(
        runtime
            .block_on(MockServer::start(vectors_mock_config()))
            .expect("mock server"),
    );
    (runtime, mock)
}
