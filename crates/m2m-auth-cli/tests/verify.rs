//! `m2m-auth verify` as a user runs it against the mock server: the claims as JSON, or the rejection with its
//! challenge and exit code; the token from an argument or standard input; opaque tokens introspected with the
//! flags' credentials.

use std::io::Write as _;
use std::process::Stdio;

use m2m_auth_mock::{MockConfig, MockServer};
use serde_json::{Value, json};

mod common;
use common::*;

async fn mock() -> MockServer {
    MockServer::start(MockConfig::default())
        .await
        .expect("mock")
}

fn mint(server: &MockServer, request: Value) -> String {
    server.mint_tokens(request).expect("minted").remove(0)
}

fn verify(
    server: &MockServer,
    token: &str,
    extra: &[&str],
) -> (std::process::Output, String, String) {
    let issuer = server.issuer();
    run(cli()
        .args(["verify", token, "--issuer", &issuer, "--audience", &issuer])
        .args(extra))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_token_prints_its_claims() {
    let server = mock().await;
    let token = mint(
        &server,
        json!({"claims": {"scope": "payments.read payments.write"}}),
    );
    let (out, stdout, stderr) = verify(&server, &token, &[]);
    assert!(out.status.success(), "stderr: {stderr}");
    let claims: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(claims["client_id"], "svc-vectors");
    assert_eq!(claims["scopes"], json!(["payments.read", "payments.write"]));
    assert_eq!(claims["claims"]["iss"], server.issuer());
    assert!(!stdout.contains(&token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_may_come_on_standard_input() {
    let server = mock().await;
    let token = mint(&server, json!({}));
    let issuer = server.issuer();
    let mut child = cli()
        .args(["verify", "-", "--issuer", &issuer, "--audience", &issuer])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{token}\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let claims: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(claims["subject"], "svc-vectors");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_exit_3_with_their_challenge_and_never_show_the_token() {
    let server = mock().await;
    let expired = mint(&server, json!({"exp_in": -120}));
    let (out, stdout, stderr) = verify(&server, &expired, &[]);
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("401: invalid_token: the token expired"),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"WWW-Authenticate: Bearer error="invalid_token""#),
        "{stderr}"
    );
    assert!(!stderr.contains(&expired));
    let token = mint(&server, json!({}));
    let (out, _, stderr) = verify(&server, &token, &["--required-scope", "admin"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr.contains(r#"scope="admin""#), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_issuer_exits_4_and_bad_flags_2() {
    let server = mock().await;
    let token = mint(&server, json!({}));
    let (out, _, stderr) = run(cli().args([
        "verify",
        &token,
        "--issuer",
        "http://127.0.0.1:1",
        "--audience",
        "api",
        "--timeout",
        "0.5",
    ]));
    assert_eq!(out.status.code(), Some(4), "stderr: {stderr}");
    assert!(stderr.contains("503"), "{stderr}");
    let (out, _, stderr) = verify(&server, &token, &["--leeway", "-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("--leeway must be a number of seconds"),
        "{stderr}"
    );
    let (out, _, stderr) = run(cli().args(["verify", &token, "--issuer", &server.issuer()]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("--audience is required"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tokens_are_introspected_with_the_flags_credentials() {
    let server = mock().await;
    let opaque = mint(&server, json!({"opaque": true}));
    // As the command line takes any token, one that starts with a dash too (base64url may).
    let dashed = format!("-{}", &opaque[1..]);
    let (out, _, stderr) = verify(&server, &dashed, &[]);
    assert_eq!(out.status.code(), Some(3), "a token, not a flag: {stderr}");
    let secret_file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(secret_file.path(), "demo-secret\n").expect("write");
    let secret_path = secret_file.path().to_string_lossy().into_owned();
    let (out, stdout, stderr) = verify(
        &server,
        &opaque,
        &[
            "--client-id",
            "demo-client",
            "--client-secret-file",
            &secret_path,
        ],
    );
    assert!(out.status.success(), "stderr: {stderr}");
    let claims: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(claims["client_id"], "svc-vectors");
    assert_eq!(server.introspection_requests(), 1);
    assert!(!stderr.contains("demo-secret") && !stdout.contains("demo-secret"));
    let (out, _, stderr) = verify(&server, &opaque, &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr.contains("opaque"), "{stderr}");
}
