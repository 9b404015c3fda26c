//! The `m2m-auth` binary as a user runs it: against the mock server, with flags and environment variables.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};

use m2m_auth_mock::testkeys::self_signed_certificate;
use m2m_auth_mock::{MockConfig, MockServer, RegisteredClient, SELF_SIGNED_TLS_CLIENT_AUTH};
use serde_json::{Value, json};

mod common;
use common::*;

const SECRET: &str = "demo-secret";

async fn mock() -> MockServer {
    MockServer::start(MockConfig::default())
        .await
        .expect("mock")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_a_valid_token_from_environment_variables() {
    let server = mock().await;
    let (out, stdout, stderr) = run(cli()
        .arg("token")
        .env("M2M_TOKEN_URL", server.token_url())
        .env("M2M_CLIENT_ID", "demo-client")
        .env("M2M_CLIENT_SECRET", SECRET)
        .env("M2M_SCOPE", "payments.read"));
    assert!(out.status.success(), "stderr: {stderr}");
    let claims = server
        .verify_access_token(stdout.trim())
        .expect("a token the server signed");
    assert_eq!(claims["sub"], "demo-client");
    assert_eq!(claims["scope"], "payments.read");
    assert_eq!(server.token_requests(), 1);
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_header_output_with_flags_and_basic_auth() {
    let server = mock().await;
    let secret_file = std::env::temp_dir().join(format!("m2m-cli-secret-{}", std::process::id()));
    std::fs::write(&secret_file, format!("{SECRET}\n")).expect("write");
    let (out, stdout, stderr) = run(cli()
        .args([
            "token",
            "--json",
            "--auth-method",
            "client_secret_basic",
            "--client-id",
            "demo-client",
        ])
        .args(["--token-url", &server.token_url()])
        .arg("--client-secret-file")
        .arg(&secret_file));
    assert!(out.status.success(), "stderr: {stderr}");
    let v: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_u64().expect("expires_in") > 3500);
    assert_eq!(v["scope"], "payments.read payments.write");
    let last = server.requests().pop().expect("a request");
    assert!(
        last.headers
            .iter()
            .any(|(k, v)| k == "authorization" && v.starts_with("Basic "))
    );
    assert!(!last.form.iter().any(|(k, _)| k == "client_secret"));

    let (out, stdout, _) = run(cli()
        .args([
            "token",
            "--header",
            "--client-id",
            "demo-client",
            "--client-secret",
            SECRET,
        ])
        .args(["--token-url", &server.token_url()]));
    assert!(out.status.success());
    assert!(stdout.starts_with("Authorization: Bearer ey"), "{stdout}");
    let _ = std::fs::remove_file(secret_file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_exit_codes_and_never_print_the_secret() {
    let server = mock().await;
    let wrong = "wrong-secret-4711";
    let (out, stdout, stderr) = run(cli()
        .args([
            "token",
            "--client-id",
            "demo-client",
            "--token-url",
            &server.token_url(),
        ])
        .env("M2M_CLIENT_SECRET", wrong));
    assert_eq!(out.status.code(), Some(3), "OAuth errors exit with 3");
    assert!(stderr.contains("invalid_client"), "{stderr}");
    assert!(!stderr.contains(wrong) && !stdout.contains(wrong));

    let (out, _, stderr) = run(cli().args(["token", "--client-id", "demo-client"]));
    assert_eq!(out.status.code(), Some(2), "config errors exit with 2");
    assert!(
        stderr.contains("M2M_TOKEN_URL") && stderr.contains("--token-url"),
        "{stderr}"
    );

    let (out, _, stderr) = run(cli()
        .args([
            "token",
            "--client-id",
            "demo-client",
            "--token-url",
            "http://127.0.0.1:9/oauth2/token",
        ])
        .env("M2M_CLIENT_SECRET", wrong));
    assert_eq!(out.status.code(), Some(4), "transport errors exit with 4");
    assert!(!stderr.contains(wrong));
}

#[test]
fn mock_subcommand_serves_tokens_until_stopped() {
    let mut child = cli()
        .args(["mock", "--json", "--token-lifetime", "120"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn mock");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("banner");
    let banner: Value = serde_json::from_str(&line).expect("JSON banner");
    let token_url = banner["token_url"].as_str().expect("token_url").to_owned();
    assert!(token_url.starts_with("http://127.0.0.1:"), "{token_url}");

    let (out, stdout, stderr) = run(cli()
        .args([
            "token",
            "--json",
            "--client-id",
            "demo-client",
            "--token-url",
            &token_url,
        ])
        .env("M2M_CLIENT_SECRET", SECRET));
    let _ = child.kill();
    let _ = child.wait();
    assert!(out.status.success(), "stderr: {stderr}");
    let v: Value = serde_json::from_str(&stdout).expect("JSON");
    let expires_in = v["expires_in"].as_u64().expect("expires_in");
    assert!((110..=120).contains(&expires_in), "{expires_in}");
}

/// A `m2m-auth mock` child process, killed when dropped (also when a test fails).
struct MockProcess {
    child: Child,
    banner: Value,
}

impl MockProcess {
    /// Starts `m2m-auth mock --json` with `args` and reads its JSON banner.
    fn start(args: &[&str]) -> MockProcess {
        let mut child = cli()
            .args(["mock", "--json"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn mock");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("banner");
        let banner = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        MockProcess { child, banner }
    }

    fn get(&self, key: &str) -> String {
        self.banner[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in {}", self.banner))
            .to_owned()
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A path in the temp directory for this test process, removed by the caller.
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("m2m-cli-{}-{name}", std::process::id()))
}

#[test]
fn mock_with_tls_serves_https_and_prints_the_alias_and_the_ca() {
    let ca_file = temp_path("ca.pem");
    let ca_arg = ca_file.to_str().expect("utf-8 path");
    let mock = MockProcess::start(&["--tls", "--ca-out", ca_arg]);
    let token_url = mock.get("token_url");
    assert!(token_url.starts_with("https://127.0.0.1:"), "{token_url}");
    assert!(mock.get("url").starts_with("https://"));
    let alias = mock.get("mtls_token_url");
    assert!(alias.starts_with("https://127.0.0.1:") && alias.ends_with("/oauth2/token"));
    assert_ne!(alias, token_url);
    let ca = std::fs::read_to_string(&ca_file).expect("CA written");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    assert_eq!(mock.get("ca_pem"), ca);
    assert_eq!(mock.get("ca_file"), ca_arg);

    // The token command reaches it over HTTPS when it trusts that CA, and not otherwise.
    let token = |extra: &[&str]| {
        run(cli()
            .args([
                "token",
                "--client-id",
                "demo-client",
                "--token-url",
                &token_url,
            ])
            .args(extra)
            .env("M2M_CLIENT_SECRET", SECRET))
    };
    let (out, stdout, stderr) = token(&["--ca-bundle-file", ca_arg]);
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(stdout.starts_with("ey"), "{stdout}");
    let (out, _, _) = token(&[]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "an untrusted certificate is a transport error"
    );
    drop(mock);
    let _ = std::fs::remove_file(ca_file);
}

#[test]
fn mock_with_tls_authenticates_a_self_signed_certificate_on_the_alias() {
    let cert = self_signed_certificate("svc-self").expect("certificate");
    let client = RegisteredClient::without_secret("svc-self")
        .with_auth_methods([SELF_SIGNED_TLS_CLIENT_AUTH])
        .with_jwks(json!({"keys": [cert.jwk]}));
    let config = MockConfig {
        clients: vec![client],
        tls: true,
        ..MockConfig::default()
    };
    let files = ["config.json", "ca2.pem", "cert.pem", "key.pem"].map(temp_path);
    let [config_file, ca_file, cert_file, key_file] = &files;
    std::fs::write(config_file, serde_json::to_string(&config).expect("JSON")).expect("write");
    std::fs::write(cert_file, &cert.cert_pem).expect("write");
    std::fs::write(key_file, &cert.key_pem).expect("write");
    // "tls": true in the file is enough for --ca-out.
    let mock = MockProcess::start(&[
        "--config",
        config_file.to_str().expect("path"),
        "--ca-out",
        ca_file.to_str().expect("path"),
    ]);
    let (out, stdout, stderr) = run(cli()
        .args(["token", "--json", "--client-id", "svc-self"])
        .args(["--token-url", &mock.get("mtls_token_url")])
        .args(["--auth-method", SELF_SIGNED_TLS_CLIENT_AUTH])
        .arg("--client-cert-file")
        .arg(cert_file)
        .arg("--client-key-file")
        .arg(key_file)
        .arg("--ca-bundle-file")
        .arg(ca_file));
    drop(mock);
    for file in &files {
        let _ = std::fs::remove_file(file);
    }
    assert!(out.status.success(), "stderr: {stderr}");
    let v: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(v["token_type"], "Bearer");
}

#[test]
fn mock_tls_options_need_tls() {
    let (out, _, stderr) = run(cli().args(["mock", "--ca-out", "/nonexistent/ca.pem"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("--ca-out and --mtls-port need --tls"),
        "{stderr}"
    );
}
