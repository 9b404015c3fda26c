//! `TokenClient::call` against the mock's protected API: the token goes on, a rejected one is replaced once,
//! and a certificate-bound token travels with its certificate (redirects: `redirects.rs`).

mod common;

use common::{demo, mock};
use m2m_auth::{ApiRequest, CaBundle, ClientCertificate, TokenClient};
use m2m_auth_mock::RegisteredClient;
use serde_json::Value;

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_goes_on_and_a_rejected_one_is_replaced_once() {
    let server = mock(false).await;
    let client = demo(&server);
    let ok = client
        .call(&ApiRequest::get(format!("{}/payments", server.api_url())))
        .await
        .expect("call");
    assert_eq!(ok.status, 200);
    assert_eq!(json(&ok.body)["sub"], "demo-client");
    assert!(!ok.retried);

    server.reject_next_api_tokens(1);
    let mut post = ApiRequest::get(format!("{}/payments", server.api_url()));
    post.method = "post".into();
    post.body = Some(b"{\"amount\":1}".to_vec());
    post.headers
        .push(("content-type".into(), "application/json".into()));
    let retried = client.call(&post).await.expect("call");
    assert_eq!(retried.status, 200);
    assert!(retried.retried);
    assert_eq!(json(&retried.body)["body"], "{\"amount\":1}");
    assert_eq!(server.token_requests(), 2, "one extra token request");

    server.reject_next_api_tokens(5);
    let refused = client
        .call(&ApiRequest::get(format!("{}/payments", server.api_url())))
        .await
        .expect("call");
    assert_eq!(refused.status, 401, "one retry, then the answer");
    assert_eq!(server.token_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_bound_token_travels_with_its_certificate() {
    let server = mock(true).await;
    server
        .register_client(
            RegisteredClient::without_secret("svc-bound")
                .with_auth_methods(["tls_client_auth"])
                .with_subject_dn("CN=svc-bound"),
        )
        .expect("register");
    let (cert, key) = server
        .issue_client_certificate("CN=svc-bound")
        .expect("cert");
    let client = TokenClient::from_issuer(server.issuer())
        .client_id("svc-bound")
        .client_certificate(
            ClientCertificate::from_pem(cert.as_bytes(), key.as_bytes()).expect("cert"),
        )
        .ca_bundle(CaBundle::from_pem(server.ca_pem().expect("ca").as_bytes()).expect("ca"))
        .build()
        .expect("client");
    let alias = server.mtls_api_url().expect("alias");
    let bound = client
        .call(&ApiRequest::get(format!("{alias}/payments")))
        .await
        .expect("call");
    assert_eq!(
        bound.status,
        200,
        "{}",
        String::from_utf8_lossy(&bound.body)
    );
    assert_eq!(json(&bound.body)["bound"], true);

    // The main port asks for no certificate: there the bound token is refused, as it must be.
    let main = client
        .call(&ApiRequest::get(format!("{}/payments", server.api_url())))
        .await
        .expect("call");
    assert_eq!(main.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_config_errors() {
    let server = mock(false).await;
    let client = demo(&server);
    let mut bad_method = ApiRequest::get(server.api_url());
    bad_method.method = "GE T".into();
    for (request, field) in [
        (ApiRequest::get("not a url"), "url"),
        (ApiRequest::get("ftp://127.0.0.1/x"), "url"),
        (bad_method, "method"),
    ] {
        match client.call(&request).await {
            Err(m2m_auth::Error::Config { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected a config error for {field}, got {other:?}"),
        }
    }
    assert_eq!(server.token_requests(), 0);
}
