//! `m2m-auth token` with keys and certificates: private_key_jwt from a key file or the environment, mTLS
//! with a certificate, its key and a private CA, found by discovery; misconfigurations exit 2 naming the
//! variable and flag; key material never reaches the output.

use std::path::PathBuf;
use std::process::Command;

mod common;
use common::{cli, run};

use m2m_auth_mock::testkeys::{GeneratedKey, generate_signing_key};
use m2m_auth_mock::{MockConfig, MockServer, RegisteredClient};
use serde_json::json;

fn cli_token() -> Command {
    let mut cmd = cli();
    cmd.arg("token");
    cmd
}

/// A file in a directory of this test process, removed with it.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("m2m-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).expect("write");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A middle part of a PEM: if it shows up in output, key material leaked.
fn secret_part(pem: &str) -> &str {
    &pem[pem.len() / 2..pem.len() / 2 + 40]
}

async fn key_server(id: &str) -> (MockServer, GeneratedKey) {
    let server = MockServer::start(MockConfig::default())
        .await
        .expect("mock");
    let key = generate_signing_key("ES256").expect("key");
    server
        .register_client(
            RegisteredClient::without_secret(id)
                .with_auth_methods(["private_key_jwt"])
                .with_jwks(json!({"keys": [key.public_jwk]})),
        )
        .expect("register");
    (server, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_from_a_key_file_or_the_environment() {
    let (server, key) = key_server("svc-cli-key").await;
    let dir = TempDir::new("key");
    let key_file = dir.file("key.pem", &key.traditional_pem);

    let (out, stdout, stderr) = run(cli_token()
        .args([
            "--token-url",
            &server.token_url(),
            "--client-id",
            "svc-cli-key",
        ])
        .arg("--private-key-file")
        .arg(&key_file)
        // `=`: a kid (a base64url thumbprint) may start with '-'.
        .arg(format!("--private-key-id={}", key.kid)));
    assert!(out.status.success(), "{stderr}");
    let claims = server.verify_access_token(stdout.trim()).expect("a token");
    assert_eq!(claims["sub"], "svc-cli-key");
    let request = server.requests().pop().expect("request");
    assert_eq!(request.auth_method.as_deref(), Some("private_key_jwt"));

    let (out, stdout, stderr) = run(cli_token()
        .env("M2M_TOKEN_URL", server.token_url())
        .env("M2M_CLIENT_ID", "svc-cli-key")
        .env("M2M_PRIVATE_KEY", &key.pkcs8_pem)
        .arg("--json"));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("access_token"));
    for text in [&stdout, &stderr] {
        assert!(!text.contains(secret_part(&key.pkcs8_pem)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_an_oauth_error_and_a_bad_key_file_a_config_error() {
    let (server, _) = key_server("svc-cli-wrong").await;
    let other = generate_signing_key("ES256").expect("key");
    let dir = TempDir::new("wrong");
    let other_file = dir.file("other.pem", &other.pkcs8_pem);
    let (out, _, stderr) = run(cli_token()
        .args([
            "--token-url",
            &server.token_url(),
            "--client-id",
            "svc-cli-wrong",
        ])
        .arg("--private-key-file")
        .arg(&other_file));
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("invalid_client"), "{stderr}");
    assert!(!stderr.contains(secret_part(&other.pkcs8_pem)));

    let not_a_key = dir.file("not-a-key.pem", "hello");
    let (out, _, stderr) = run(cli_token()
        .args(["--token-url", &server.token_url(), "--client-id", "svc"])
        .arg("--private-key-file")
        .arg(&not_a_key));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("M2M_PRIVATE_KEY_FILE"), "{stderr}");
    assert!(stderr.contains("--private-key-file"), "{stderr}");

    let (out, _, stderr) = run(cli_token()
        .args(["--token-url", &server.token_url(), "--client-id", "svc"])
        .args(["--client-secret-file", "/dev/null"])
        .arg("--private-key-file")
        .arg(&other_file));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(server.token_requests(), 1, "no request for config errors");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_client_auth_with_certificate_files_and_a_private_ca() {
    let server = MockServer::start(MockConfig {
        tls: true,
        ..MockConfig::default()
    })
    .await
    .expect("mock");
    server
        .register_client(
            RegisteredClient::without_secret("svc-cli-mtls")
                .with_auth_methods(["tls_client_auth"])
                .with_subject_dn("CN=svc-cli-mtls"),
        )
        .expect("register");
    let (cert, key) = server
        .issue_client_certificate("CN=svc-cli-mtls")
        .expect("cert");
    let dir = TempDir::new("mtls");
    let (cert_file, key_file, ca_file) = (
        dir.file("svc.crt", &cert),
        dir.file("svc.key", &key),
        dir.file("ca.pem", &server.ca_pem().expect("ca")),
    );
    let (out, stdout, stderr) = run(cli_token()
        .args(["--issuer", &server.issuer(), "--client-id", "svc-cli-mtls"])
        .arg("--client-cert-file")
        .arg(&cert_file)
        .env("M2M_CLIENT_KEY_FILE", &key_file)
        .arg("--ca-bundle-file")
        .arg(&ca_file));
    assert!(out.status.success(), "{stderr}");
    let claims = server.verify_access_token(stdout.trim()).expect("a token");
    assert!(claims["cnf"]["x5t#S256"].is_string(), "bound: {claims}");
    assert!(!stdout.contains(secret_part(&key)) && !stderr.contains(secret_part(&key)));

    let (out, _, stderr) = run(cli_token()
        .args(["--issuer", &server.issuer(), "--client-id", "svc-cli-mtls"])
        .arg("--client-cert-file")
        .arg(&cert_file));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("M2M_CLIENT_KEY_FILE"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_jwt_signs_with_the_secret_and_never_sends_it() {
    let server = MockServer::start(MockConfig::default())
        .await
        .expect("mock");
    server
        .register_client(
            RegisteredClient::new("svc-cli-hs", "hs-cli-secret-value")
                .with_auth_methods(["client_secret_jwt"]),
        )
        .expect("register");
    let (out, stdout, stderr) = run(cli_token()
        .env("M2M_TOKEN_URL", server.token_url())
        .env("M2M_CLIENT_ID", "svc-cli-hs")
        .env("M2M_CLIENT_SECRET", "hs-cli-secret-value")
        .env("M2M_AUTH_METHOD", "client_secret_jwt"));
    assert!(out.status.success(), "{stderr}");
    server.verify_access_token(stdout.trim()).expect("a token");
    let request = server.requests().pop().expect("request");
    assert_eq!(request.auth_method.as_deref(), Some("client_secret_jwt"));
    assert!(
        request
            .form
            .iter()
            .all(|(_, v)| !v.contains("hs-cli-secret-value"))
    );
}
