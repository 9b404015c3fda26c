//! Opaque tokens introspected (RFC 7662) with every kind of client credential the token client has — the
//! verifier authenticates with the same code: a key (private_key_jwt) and a certificate (tls_client_auth, on
//! the server's mutual-TLS alias, named by its metadata). Secrets are the shared vectors'.

use m2m_auth::{CaBundle, ClientCertificate, SigningKey, TokenClient, Verifier};
use m2m_auth_mock::testkeys::generate_signing_key;
use m2m_auth_mock::{MockConfig, MockServer, RecordedRequest, RegisteredClient};
use serde_json::json;

fn introspections(server: &MockServer) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/oauth2/introspect")
        .collect()
}

fn field<'a>(request: &'a RecordedRequest, name: &str) -> Option<&'a str> {
    request
        .form
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_introspects_with_a_private_key() {
    let server = MockServer::start(MockConfig::default())
        .await
        .expect("mock");
    let key = generate_signing_key("ES256").expect("key");
    server
        .register_client(
            RegisteredClient::without_secret("svc-verifier")
                .with_auth_methods(["private_key_jwt"])
                .with_jwks(json!({"keys": [key.public_jwk]})),
        )
        .expect("register");
    let client = TokenClient::from_issuer(server.issuer())
        .client_id("svc-verifier")
        .private_key(SigningKey::from_pem(key.pkcs8_pem.as_bytes()).expect("key"))
        .build()
        .expect("client");
    let verifier = Verifier::builder()
        .issuer(server.issuer())
        .audience(server.issuer())
        .introspection(client)
        .build()
        .expect("verifier");
    let opaque = server
        .mint_tokens(json!({"opaque": true}))
        .expect("minted")
        .remove(0);
    let claims = verifier.verify(&opaque, None).await.expect("active");
    assert_eq!(claims.client_id.as_deref(), Some("svc-vectors"));
    let requests = introspections(&server);
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.auth_method.as_deref(), Some("private_key_jwt"));
    assert_eq!(field(request, "token"), Some(opaque.as_str()));
    assert_eq!(field(request, "token_type_hint"), Some("access_token"));
    assert!(field(request, "client_assertion").is_some());
    assert_eq!(field(request, "client_secret"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_introspects_with_a_certificate_on_the_mtls_alias() {
    let server = MockServer::start(MockConfig {
        tls: true,
        ..MockConfig::default()
    })
    .await
    .expect("mock");
    let ca_pem = server.ca_pem().expect("ca");
    let (cert, key) = server
        .issue_client_certificate("CN=svc-verifier,O=Acme")
        .expect("cert");
    let cert = ClientCertificate::from_pem(cert.as_bytes(), key.as_bytes()).expect("identity");
    server
        .register_client(
            RegisteredClient::without_secret("svc-verifier")
                .with_auth_methods(["tls_client_auth"])
                .with_subject_dn("CN=svc-verifier,O=Acme"),
        )
        .expect("register");
    let ca = || CaBundle::from_pem(ca_pem.as_bytes()).expect("bundle");
    let client = TokenClient::from_issuer(server.issuer())
        .client_id("svc-verifier")
        .client_certificate(cert.clone())
        .ca_bundle(ca())
        .build()
        .expect("client");
    let verifier = Verifier::builder()
        .issuer(server.issuer())
        .audience(server.issuer())
        .ca_bundle(ca())
        .introspection(client)
        .build()
        .expect("verifier");
    let opaque = server
        .mint_tokens(json!({"opaque": true}))
        .expect("minted")
        .remove(0);
    verifier.verify(&opaque, None).await.expect("active");
    // A JWT too, its keys fetched over https trusting the server's CA.
    let jwt = server.mint_tokens(json!({})).expect("minted").remove(0);
    verifier.verify(&jwt, None).await.expect("valid");
    let requests = introspections(&server);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].auth_method.as_deref(), Some("tls_client_auth"));
    assert_eq!(
        requests[0].client_cert_x5t_s256.as_deref(),
        Some(cert.thumbprint()),
        "asked on the alias, with the certificate"
    );
}
