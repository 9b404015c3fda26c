//! `m2m-auth call URL` against the mock's protected API.

use std::process::Command;

mod common;
use common::{cli, run};

use m2m_auth_mock::{MockConfig, MockServer};
use serde_json::Value;

fn call(server: &MockServer) -> Command {
    let mut cmd = cli();
    cmd.arg("call")
        .env("M2M_TOKEN_URL", server.token_url())
        .env("M2M_CLIENT_ID", "demo-client")
        .env("M2M_CLIENT_SECRET", "demo-secret");
    cmd
}

async fn mock() -> MockServer {
    MockServer::start(MockConfig::default())
        .await
        .expect("mock")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_the_api_with_the_token_and_replaces_a_rejected_one() {
    let server = mock().await;
    let (out, stdout, stderr) = run(call(&server).arg(format!("{}/payments", server.api_url())));
    assert!(out.status.success(), "{stderr}");
    let body: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(body["sub"], "demo-client");

    server.reject_next_api_tokens(1);
    let (out, stdout, stderr) = run(call(&server)
        .args([
            "-X",
            "PUT",
            "-d",
            r#"{"amount":2}"#,
            "-H",
            "Content-Type: application/json",
            "-i",
        ])
        .arg(format!("{}/payments", server.api_url())));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.starts_with("HTTP 200\n"), "{stdout}");
    assert!(stdout.contains(r#""method":"PUT""#), "{stdout}");
    assert_eq!(
        server.token_requests(),
        3,
        "one per run, and one more for the retry"
    );
    assert!(!stdout.contains("demo-secret") && !stderr.contains("demo-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_error_exits_22_and_a_bad_header_2() {
    let server = mock().await;
    let (out, _, stderr) = run(call(&server).arg(format!(
        "{}/admin?require_scope=admin.write",
        server.api_url()
    )));
    assert_eq!(out.status.code(), Some(22), "{stderr}");
    assert!(stderr.contains("HTTP 403"), "{stderr}");

    let (out, _, stderr) = run(call(&server)
        .args(["-H", "no colon here"])
        .arg(server.api_url()));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
}
