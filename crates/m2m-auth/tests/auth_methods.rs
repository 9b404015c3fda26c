//! Every client authentication method against the mock server, end to end: the token arrives, the wire
//! carries what the method says and nothing else, and each misconfiguration is a clear typed error. Keys and
//! certificates are generated here, per run.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use m2m_auth::{
    AuthMethod, CaBundle, ClientCertificate, Error, SigningAlg, SigningKey, Token, TokenClient,
    TokenClientBuilder,
};
use m2m_auth_mock::testkeys::{self, GeneratedKey};
use m2m_auth_mock::{MockConfig, MockServer, RecordedRequest, RegisteredClient};
use serde_json::{Value, json};

const SECRET: &str = "the-shared-secret";

async fn server(tls: bool) -> MockServer {
    MockServer::start(MockConfig {
        tls,
        ..MockConfig::default()
    })
    .await
    .expect("mock")
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json")
}

fn header(jwt: &str) -> Value {
    let head = jwt.split('.').next().expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).expect("base64url")).expect("json")
}

fn form<'a>(request: &'a RecordedRequest, name: &str) -> Option<&'a str> {
    request
        .form
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn last_request(server: &MockServer) -> RecordedRequest {
    server.requests().pop().expect("a recorded request")
}

fn key_client(id: &str, key: &GeneratedKey) -> RegisteredClient {
    RegisteredClient::without_secret(id)
        .with_auth_methods(["private_key_jwt"])
        .with_jwks(json!({"keys": [key.public_jwk]}))
}

fn oauth_error(e: Error) -> (String, String) {
    match e {
        Error::OAuth(o) => (o.error, o.error_description.unwrap_or_default()),
        other => panic!("expected an OAuth error, got {other:?}"),
    }
}

async fn token(builder: TokenClientBuilder) -> Result<std::sync::Arc<Token>, Error> {
    builder.build().expect("client").token().await
}

/// The assertion of the last request was made for this client and endpoint, and no secret travelled.
fn assert_assertion_wire(server: &MockServer, id: &str, alg: &str) -> Value {
    let request = last_request(server);
    assert_eq!(
        form(&request, "client_assertion_type"),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert_eq!(form(&request, "client_secret"), None);
    assert!(
        request.headers.iter().all(|(n, _)| n != "authorization"),
        "no Authorization header"
    );
    let jwt = form(&request, "client_assertion").expect("client_assertion");
    assert!(!jwt.contains(SECRET));
    assert_eq!(header(jwt)["alg"], alg);
    let c = claims(jwt);
    assert_eq!(c["iss"], id);
    assert_eq!(c["sub"], id);
    assert_eq!(c["aud"], server.token_url());
    let (iat, exp) = (
        c["iat"].as_u64().expect("iat"),
        c["exp"].as_u64().expect("exp"),
    );
    assert!(exp > iat && exp - iat <= 300, "short-lived: {c}");
    assert!(c["jti"].as_str().is_some_and(|j| j.len() >= 16));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_with_every_algorithm_and_key_format() {
    let server = server(false).await;
    for alg in ["RS256", "PS256", "ES256"] {
        let key = testkeys::generate_signing_key(alg).expect("key");
        let id = format!("svc-{}", alg.to_lowercase());
        server
            .register_client(key_client(&id, &key))
            .expect("register");
        let jwk_text = key.private_jwk.to_string();
        for (format, text) in [
            ("pkcs8", key.pkcs8_pem.as_str()),
            ("traditional", key.traditional_pem.as_str()),
            ("jwk", jwk_text.as_str()),
        ] {
            let signing = SigningKey::from_text(text.as_bytes())
                .unwrap_or_else(|e| panic!("{alg} {format}: {e}"))
                .with_alg(SigningAlg::parse(alg, "signing_alg").expect("alg"))
                .expect("fits");
            let t = token(
                TokenClient::builder()
                    .token_url(server.token_url())
                    .client_id(&id)
                    .private_key(signing),
            )
            .await
            .unwrap_or_else(|e| panic!("{alg} {format}: {e}"));
            assert_eq!(claims(t.access_token())["sub"], id);
            assert_assertion_wire(&server, &id, alg);
            assert_eq!(
                last_request(&server).auth_method.as_deref(),
                Some("private_key_jwt")
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwk_kid_is_sent_and_selects_the_key() {
    let server = server(false).await;
    let (a, b) = (
        testkeys::generate_signing_key("ES256").expect("key"),
        testkeys::generate_signing_key("ES256").expect("key"),
    );
    server
        .register_client(
            RegisteredClient::without_secret("svc-kid")
                .with_auth_methods(["private_key_jwt"])
                .with_jwks(json!({"keys": [a.public_jwk, b.public_jwk]})),
        )
        .expect("register");
    let key = SigningKey::from_jwk(&b.private_jwk.to_string()).expect("jwk");
    assert_eq!(key.kid(), Some(b.kid.as_str()));
    token(
        TokenClient::builder()
            .token_url(server.token_url())
            .client_id("svc-kid")
            .private_key(key),
    )
    .await
    .expect("token");
    let request = last_request(&server);
    let jwt = form(&request, "client_assertion").expect("assertion");
    assert_eq!(header(jwt)["kid"], b.kid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assertion_for_another_audience_is_invalid_client() {
    let server = server(false).await;
    let key = testkeys::generate_signing_key("ES256").expect("key");
    server
        .register_client(key_client("svc-aud", &key))
        .expect("register");
    let e = token(
        TokenClient::builder()
            .token_url(server.token_url())
            .client_id("svc-aud")
            .assertion_audience("https://someone-else.example")
            .private_key(SigningKey::from_pem(key.pkcs8_pem.as_bytes()).expect("pem")),
    )
    .await
    .expect_err("bad aud");
    let (error, description) = oauth_error(e);
    assert_eq!(error, "invalid_client");
    assert!(description.contains("aud"), "{description}");

    // The issuer is an accepted audience too.
    token(
        TokenClient::builder()
            .token_url(server.token_url())
            .client_id("svc-aud")
            .assertion_audience(server.issuer())
            .private_key(SigningKey::from_pem(key.pkcs8_pem.as_bytes()).expect("pem")),
    )
    .await
    .expect("issuer as aud");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_jwt_signs_with_the_secret_and_never_sends_it() {
    let server = server(false).await;
    server
        .register_client(
            RegisteredClient::new("svc-hs", SECRET).with_auth_methods(["client_secret_jwt"]),
        )
        .expect("register");
    let builder = TokenClient::builder()
        .token_url(server.token_url())
        .client_id("svc-hs")
        .auth_method(AuthMethod::ClientSecretJwt);
    token(builder.clone().client_secret(SECRET))
        .await
        .expect("token");
    assert_assertion_wire(&server, "svc-hs", "HS256");

    let (error, _) = oauth_error(
        token(builder.client_secret("not-the-secret"))
            .await
            .expect_err("wrong secret"),
    );
    assert_eq!(error, "invalid_client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_the_client_is_not_registered_for_is_invalid_client() {
    let server = server(false).await;
    let e = token(
        TokenClient::builder()
            .token_url(server.token_url())
            .client_id("demo-client")
            .client_secret("demo-secret")
            .auth_method(AuthMethod::ClientSecretJwt),
    )
    .await
    .expect_err("not allowed");
    let (error, description) = oauth_error(e);
    assert_eq!(error, "invalid_client");
    assert!(description.contains("client_secret_jwt"), "{description}");
}

/// A TLS mock, its CA as the client's bundle, and a certificate it issued for `subject`.
async fn mtls_setup(subject: &str) -> (MockServer, CaBundle, ClientCertificate) {
    let server = server(true).await;
    let ca = CaBundle::from_pem(server.ca_pem().expect("ca").as_bytes()).expect("bundle");
    let (cert, key) = server.issue_client_certificate(subject).expect("cert");
    let cert = ClientCertificate::from_pem(cert.as_bytes(), key.as_bytes()).expect("identity");
    (server, ca, cert)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_client_auth_goes_to_the_mtls_alias_and_binds_the_token() {
    let (server, ca, cert) = mtls_setup("CN=svc-mtls,O=Acme").await;
    server
        .register_client(
            RegisteredClient::without_secret("svc-mtls")
                .with_auth_methods(["tls_client_auth"])
                .with_subject_dn("CN=svc-mtls,O=Acme"),
        )
        .expect("register");
    let client = TokenClient::from_issuer(server.issuer())
        .client_id("svc-mtls")
        .client_certificate(cert.clone())
        .ca_bundle(ca)
        .build()
        .expect("client");
    assert_eq!(client.auth_method(), AuthMethod::TlsClientAuth);
    let t = client.token().await.expect("token");
    assert_eq!(
        client.token_url(),
        server.mtls_token_url().as_deref(),
        "the alias"
    );
    assert_eq!(
        claims(t.access_token())["cnf"]["x5t#S256"],
        cert.thumbprint()
    );
    let request = last_request(&server);
    assert_eq!(request.auth_method.as_deref(), Some("tls_client_auth"));
    assert_eq!(
        request.client_cert_x5t_s256.as_deref(),
        Some(cert.thumbprint())
    );
    assert_eq!(form(&request, "client_id"), Some("svc-mtls"));
    assert_eq!(form(&request, "client_secret"), None);
    assert_eq!(form(&request, "client_assertion"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_private_ca_the_server_is_not_trusted() {
    let (server, _, cert) = mtls_setup("CN=svc-mtls").await;
    let e = token(
        TokenClient::from_issuer(server.issuer())
            .client_id("svc-mtls")
            .client_certificate(cert),
    )
    .await
    .expect_err("untrusted server");
    match e {
        Error::Transport { message, .. } => {
            assert!(message.contains("certificate"), "{message}")
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[test]
fn credentials_that_do_not_fit_the_method_are_config_errors_naming_them() {
    let key = testkeys::generate_signing_key("ES256").expect("key");
    let signing = || SigningKey::from_pem(key.pkcs8_pem.as_bytes()).expect("pem");
    let base = || {
        TokenClient::builder()
            .token_url("https://idp.example/token")
            .client_id("svc")
    };
    let field = |b: TokenClientBuilder| match b.build() {
        Err(Error::Config { field, .. }) => field,
        other => panic!("expected a config error, got {other:?}"),
    };
    assert_eq!(
        field(base().auth_method(AuthMethod::PrivateKeyJwt)),
        "private_key"
    );
    assert_eq!(
        field(base().auth_method(AuthMethod::TlsClientAuth)),
        "client_cert"
    );
    assert_eq!(
        field(base().client_secret("s").private_key(signing())),
        "client_secret"
    );
    assert_eq!(
        field(
            base()
                .private_key(signing())
                .auth_method(AuthMethod::ClientSecretPost)
        ),
        "client_secret"
    );
    assert_eq!(
        field(
            base()
                .client_secret("s")
                .auth_method(AuthMethod::PrivateKeyJwt)
        ),
        "private_key"
    );
    assert!(base().private_key(signing()).build().is_ok());
    assert!(SigningKey::from_pem(b"not a key").is_err());
    assert!(
        SigningKey::from_pem(key.pkcs8_pem.as_bytes())
            .expect("pem")
            .with_alg(SigningAlg::RS256)
            .is_err()
    );
    let debug = format!("{:?}", signing());
    assert!(
        !debug.contains(&key.pkcs8_pem[40..80]),
        "no key material: {debug}"
    );
}
