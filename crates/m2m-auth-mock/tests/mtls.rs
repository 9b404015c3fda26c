//! HTTPS and mutual TLS (RFC 8705): the server's CA and URLs, `tls_client_auth` and
//! `self_signed_tls_client_auth` on the mTLS alias, certificate-bound tokens, and every way a
//! certificate can fail to authenticate.

mod common;

use common::tls::{cert_der, https, start_tls, x5t_s256};
use common::*;
use m2m_auth_mock::testkeys::self_signed_certificate;
use m2m_auth_mock::{
    CLIENT_SECRET_POST, MockConfig, MockError, MockServer, RegisteredClient,
    SELF_SIGNED_TLS_CLIENT_AUTH, TLS_CLIENT_AUTH,
};
use serde_json::json;

const MTLS_ID: &str = "svc-mtls";
const SUBJECT: &str = "CN=svc-mtls,O=Acme";
const SELF_ID: &str = "svc-self";

fn mtls_client(subject_dn: &str) -> RegisteredClient {
    RegisteredClient::without_secret(MTLS_ID)
        .with_auth_methods([TLS_CLIENT_AUTH])
        .with_subject_dn(subject_dn)
        .with_scopes(["payments.read"])
}

fn self_signed_client(jwk: &serde_json::Value) -> RegisteredClient {
    RegisteredClient::without_secret(SELF_ID)
        .with_auth_methods([SELF_SIGNED_TLS_CLIENT_AUTH])
        .with_jwks(json!({"keys": [jwk]}))
}

fn alias(server: &MockServer) -> String {
    server
        .mtls_token_url()
        .expect("a TLS server has an mTLS alias")
}

/// POSTs `client_id` alone (certificate authentication) to the alias.
async fn post_cert_auth(server: &MockServer, client: &reqwest::Client, id: &str) -> Resp {
    post_form_with(client, &alias(server), None, &[CC, ("client_id", id)]).await
}

#[tokio::test]
async fn a_tls_server_has_https_urls_a_ca_and_an_mtls_alias() {
    let server = start_tls(vec![RegisteredClient::demo()]).await;
    let port = server.local_addr().port();
    assert_eq!(server.url(), format!("https://127.0.0.1:{port}"));
    assert_eq!(server.issuer(), server.url());
    assert_eq!(
        server.token_url(),
        format!("https://127.0.0.1:{port}/oauth2/token")
    );
    let alias = alias(&server);
    assert!(alias.starts_with("https://127.0.0.1:") && alias.ends_with("/oauth2/token"));
    assert_ne!(alias, server.token_url(), "a port of its own");
    let ca = server.ca_pem().expect("CA");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");

    // The demo client over HTTPS, trusting only the CA; the certificate is also valid for localhost.
    let client = https(&server, None);
    let pairs = [CC, ("client_id", DEMO_ID), ("client_secret", DEMO_SECRET)];
    let resp = post_form_with(&client, &server.token_url(), None, &pairs).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let localhost = server.token_url().replace("127.0.0.1", "localhost");
    let resp = post_form_with(&client, &localhost, None, &pairs).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    // The alias serves the same endpoint.
    let resp = post_form_with(&client, &alias, None, &pairs).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let token = resp.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let claims = server.verify_access_token(&token).expect("valid");
    assert_eq!(
        claims.get("cnf"),
        None,
        "no certificate presented, nothing to bind"
    );

    // A client that does not trust the CA cannot connect, nor can plain HTTP.
    let untrusting = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([])
        .build()
        .expect("client");
    assert!(untrusting.get(server.jwks_url()).send().await.is_err());
    let plain = server.token_url().replace("https://", "http://");
    assert!(http().post(plain).send().await.is_err());
}

#[tokio::test]
async fn tls_client_auth_gets_a_token_bound_to_the_certificate() {
    let server = start_tls(vec![mtls_client(SUBJECT)]).await;
    let (cert, key) = server.issue_client_certificate(SUBJECT).expect("issued");
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    let resp = post_cert_auth(&server, &https(&server, Some((&cert, &key))), MTLS_ID).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json();
    assert_eq!(body["token_type"], "Bearer");
    let claims = server
        .verify_access_token(body["access_token"].as_str().expect("token"))
        .expect("valid");
    let thumbprint = x5t_s256(&cert_der(&cert));
    assert_eq!(claims["cnf"], json!({"x5t#S256": thumbprint}));
    assert_eq!(claims["sub"], MTLS_ID);
    assert_eq!(claims["scope"], "payments.read");

    let recorded = server.requests().pop().expect("recorded");
    assert_eq!(recorded.auth_method.as_deref(), Some(TLS_CLIENT_AUTH));
    assert_eq!(
        recorded.client_cert_x5t_s256.as_deref(),
        Some(thumbprint.as_str())
    );
    assert_eq!(recorded.client_id.as_deref(), Some(MTLS_ID));
}

#[tokio::test]
async fn the_subject_dn_is_compared_in_canonical_form() {
    let server = start_tls(vec![mtls_client("cn = svc-mtls , o=Acme")]).await;
    let (cert, key) = server.issue_client_certificate(SUBJECT).expect("issued");
    let resp = post_cert_auth(&server, &https(&server, Some((&cert, &key))), MTLS_ID).await;
    assert_eq!(resp.status, 200, "{}", resp.body);

    // A bare common name is a subject of just CN.
    let server = start_tls(vec![mtls_client("CN=svc-mtls")]).await;
    let (cert, key) = server.issue_client_certificate("svc-mtls").expect("issued");
    let resp = post_cert_auth(&server, &https(&server, Some((&cert, &key))), MTLS_ID).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
}

#[tokio::test]
async fn a_wrong_subject_dn_is_refused() {
    let server = start_tls(vec![mtls_client(SUBJECT)]).await;
    for subject in ["CN=svc-other,O=Acme", "CN=svc-mtls,O=acme", "CN=svc-mtls"] {
        let (cert, key) = server.issue_client_certificate(subject).expect("issued");
        let resp = post_cert_auth(&server, &https(&server, Some((&cert, &key))), MTLS_ID).await;
        let d = resp.assert_oauth_error(401, "invalid_client");
        assert_eq!(
            d,
            format!(
                "tls_client_auth: wrong subject DN: the client certificate's subject is \"{subject}\", the registered one \"{SUBJECT}\""
            )
        );
    }
    assert_eq!(server.tokens_issued(), 0);
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let server = start_tls(vec![mtls_client(SUBJECT)]).await;
    let other = start_tls(vec![]).await;
    let (cert, key) = other.issue_client_certificate(SUBJECT).expect("issued");
    let resp = post_cert_auth(&server, &https(&server, Some((&cert, &key))), MTLS_ID).await;
    let d = resp.assert_oauth_error(401, "invalid_client");
    assert!(
        d.starts_with(
            "tls_client_auth: the client certificate does not chain to the mock's client CA"
        ),
        "{d}"
    );
    // A self-signed certificate with the right subject does not chain either.
    let selfie = self_signed_certificate(SUBJECT).expect("cert");
    let resp = post_cert_auth(
        &server,
        &https(&server, Some((&selfie.cert_pem, &selfie.key_pem))),
        MTLS_ID,
    )
    .await;
    let d = resp.assert_oauth_error(401, "invalid_client");
    assert!(d.contains("does not chain to the mock's client CA"), "{d}");
}

#[tokio::test]
async fn no_certificate_is_refused_and_the_main_port_points_to_the_alias() {
    let server = start_tls(vec![mtls_client(SUBJECT)]).await;
    let client = https(&server, None);
    let resp = post_cert_auth(&server, &client, MTLS_ID).await;
    assert_eq!(
        resp.assert_oauth_error(401, "invalid_client"),
        "a client certificate is required (tls_client_auth), but none was presented"
    );
    // The main port never asks for a certificate, even when the client has one.
    let (cert, key) = server.issue_client_certificate(SUBJECT).expect("issued");
    let with_cert = https(&server, Some((&cert, &key)));
    let resp = post_form_with(
        &with_cert,
        &server.token_url(),
        None,
        &[CC, ("client_id", MTLS_ID)],
    )
    .await;
    assert_eq!(
        resp.assert_oauth_error(401, "invalid_client"),
        format!(
            "a client certificate is required (tls_client_auth), but none was presented: send the request to the mTLS endpoint alias {}",
            alias(&server)
        )
    );
    assert_eq!(
        server
            .requests()
            .pop()
            .expect("recorded")
            .client_cert_x5t_s256,
        None
    );
}

#[tokio::test]
async fn self_signed_tls_client_auth_accepts_the_registered_certificate_only() {
    let registered = self_signed_certificate("svc-self").expect("cert");
    let server = start_tls(vec![self_signed_client(&registered.jwk)]).await;
    let client = https(&server, Some((&registered.cert_pem, &registered.key_pem)));
    let resp = post_cert_auth(&server, &client, SELF_ID).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let claims = server
        .verify_access_token(resp.json()["access_token"].as_str().expect("token"))
        .expect("valid");
    assert_eq!(claims["cnf"]["x5t#S256"], registered.x5t_s256);
    assert_eq!(
        registered.x5t_s256,
        x5t_s256(&cert_der(&registered.cert_pem))
    );
    assert_eq!(
        server
            .requests()
            .pop()
            .expect("recorded")
            .auth_method
            .as_deref(),
        Some(SELF_SIGNED_TLS_CLIENT_AUTH)
    );

    // Another self-signed certificate, even with the same subject, is not the registered one.
    let stranger = self_signed_certificate("svc-self").expect("cert");
    let client = https(&server, Some((&stranger.cert_pem, &stranger.key_pem)));
    let d = post_cert_auth(&server, &client, SELF_ID)
        .await
        .assert_oauth_error(401, "invalid_client");
    assert!(
        d.starts_with("self_signed_tls_client_auth: the client certificate is not registered"),
        "{d}"
    );
    // Nor is one the mock's CA issued.
    let (cert, key) = server.issue_client_certificate("svc-self").expect("issued");
    let d = post_cert_auth(&server, &https(&server, Some((&cert, &key))), SELF_ID)
        .await
        .assert_oauth_error(401, "invalid_client");
    assert!(d.contains("is not registered"), "{d}");
}

#[tokio::test]
async fn a_client_registered_for_both_certificate_methods_may_use_either() {
    let selfie = self_signed_certificate("svc-both").expect("cert");
    let both = RegisteredClient::without_secret("svc-both")
        .with_auth_methods([TLS_CLIENT_AUTH, SELF_SIGNED_TLS_CLIENT_AUTH])
        .with_subject_dn("CN=svc-both")
        .with_jwks(json!({"keys": [selfie.jwk]}));
    let server = start_tls(vec![both]).await;
    let (cert, key) = server
        .issue_client_certificate("CN=svc-both")
        .expect("issued");
    let resp = post_cert_auth(&server, &https(&server, Some((&cert, &key))), "svc-both").await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let resp = post_cert_auth(
        &server,
        &https(&server, Some((&selfie.cert_pem, &selfie.key_pem))),
        "svc-both",
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let methods: Vec<Option<String>> = server
        .requests()
        .into_iter()
        .map(|r| r.auth_method)
        .collect();
    assert_eq!(
        methods,
        [
            Some(TLS_CLIENT_AUTH.to_owned()),
            Some(SELF_SIGNED_TLS_CLIENT_AUTH.to_owned())
        ]
    );
    // A certificate that fits neither says why for each.
    let stranger = self_signed_certificate("svc-both").expect("cert");
    let d = post_cert_auth(
        &server,
        &https(&server, Some((&stranger.cert_pem, &stranger.key_pem))),
        "svc-both",
    )
    .await
    .assert_oauth_error(401, "invalid_client");
    assert!(
        d.starts_with("tls_client_auth: the client certificate does not chain")
            && d.contains(
                "; self_signed_tls_client_auth: the client certificate is not registered"
            ),
        "{d}"
    );
}

#[tokio::test]
async fn any_method_on_the_alias_with_a_certificate_gets_a_bound_token() {
    let server = start_tls(vec![RegisteredClient::demo()]).await;
    let selfie = self_signed_certificate("anything").expect("cert");
    let client = https(&server, Some((&selfie.cert_pem, &selfie.key_pem)));
    let resp = post_form_with(
        &client,
        &alias(&server),
        Some(&basic(DEMO_ID, DEMO_SECRET)),
        &[CC],
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let claims = server
        .verify_access_token(resp.json()["access_token"].as_str().expect("token"))
        .expect("valid");
    assert_eq!(claims["cnf"]["x5t#S256"], selfie.x5t_s256);
    let recorded = server.requests().pop().expect("recorded");
    assert_eq!(recorded.auth_method.as_deref(), Some("client_secret_basic"));
    assert_eq!(
        recorded.client_cert_x5t_s256.as_deref(),
        Some(selfie.x5t_s256.as_str())
    );

    // A certificate does not stand in for a secret the client is registered to use.
    let d = post_cert_auth(&server, &client, DEMO_ID)
        .await
        .assert_oauth_error(401, "invalid_client");
    assert!(d.starts_with("client authentication required"), "{d}");
    assert!(
        d.contains("a client certificate authenticates only clients registered for"),
        "{d}"
    );
}

#[tokio::test]
async fn a_certificate_method_the_server_does_not_offer_is_refused() {
    let server = MockServer::start(MockConfig {
        clients: vec![mtls_client(SUBJECT), RegisteredClient::demo()],
        tls: true,
        auth_methods_supported: Some(vec![
            CLIENT_SECRET_POST.into(),
            SELF_SIGNED_TLS_CLIENT_AUTH.into(),
        ]),
        ..MockConfig::default()
    })
    .await
    .expect("starts");
    let (cert, key) = server.issue_client_certificate(SUBJECT).expect("issued");
    let resp = post_cert_auth(&server, &https(&server, Some((&cert, &key))), MTLS_ID).await;
    assert_eq!(
        resp.assert_oauth_error(401, "invalid_client"),
        "tls_client_auth is not supported by this server"
    );
    let resp = post_form_with(
        &https(&server, None),
        &server.token_url(),
        Some(&basic(DEMO_ID, DEMO_SECRET)),
        &[CC],
    )
    .await;
    assert!(
        resp.assert_oauth_error(401, "invalid_client")
            .starts_with("client_secret_basic is not supported by this server"),
    );
}

#[tokio::test]
async fn without_tls_certificate_clients_cannot_authenticate() {
    let server = start_with(vec![mtls_client(SUBJECT)]).await;
    assert!(server.url().starts_with("http://"));
    assert_eq!(server.mtls_token_url(), None);
    assert_eq!(server.ca_pem(), None);
    assert!(matches!(
        server.issue_client_certificate(SUBJECT),
        Err(MockError::Generate(_))
    ));
    let resp = post_form(&server, None, &[CC, ("client_id", MTLS_ID)]).await;
    assert_eq!(
        resp.assert_oauth_error(401, "invalid_client"),
        "a client certificate is required (tls_client_auth), but this server does not serve TLS (start it with tls: true)"
    );
}

#[tokio::test]
async fn subjects_that_cannot_be_issued_are_errors() {
    let server = start_tls(vec![]).await;
    for subject in ["", "CN=a+O=b", "DC=a,DC=b", "FOO=bar"] {
        assert!(
            matches!(
                server.issue_client_certificate(subject),
                Err(MockError::Generate(_))
            ),
            "{subject:?}"
        );
    }
}

/// Whether nothing listens on `addr` any more.
async fn closed(addr: &str) -> bool {
    tokio::net::TcpStream::connect(addr).await.is_err()
}

#[tokio::test]
async fn shutdown_closes_both_ports() {
    let server = start_tls(vec![]).await;
    let main = server.local_addr().to_string();
    let alias = alias(&server)
        .trim_start_matches("https://")
        .trim_end_matches("/oauth2/token")
        .to_owned();
    assert!(!closed(&main).await && !closed(&alias).await);
    server.shutdown();
    for addr in [main, alias] {
        let mut stopped = false;
        for _ in 0..50 {
            if closed(&addr).await {
                stopped = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(stopped, "{addr} closed after shutdown");
    }
}
