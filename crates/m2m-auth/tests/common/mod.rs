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
