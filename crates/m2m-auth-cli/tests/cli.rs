//! The `m2m-auth` binary as a user runs it: against the mock server, with flags and environment variables.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use m2m_auth_mock::{MockConfig, MockServer};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_m2m-auth");
const SECRET: &str = "demo-secret";

/// A command with a clean environment: no M2M_* variable of the machine leaks into a test.
fn cli() -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("M2M_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn run(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().expect("run m2m-auth");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

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
