//! `m2m-auth token --cache-url file:DIR`, as a cron job runs it: twenty at once send one token request; run
//! again within the token's lifetime, none; the directory is private (0700) and its files 0600; a truncated
//! file is ignored.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Stdio;

use m2m_auth_mock::{MockConfig, MockServer};

mod common;
use common::*;

fn token_command(server: &MockServer, dir: &Path) -> std::process::Command {
    let mut cmd = cli();
    cmd.arg("token")
        .args([
            "--token-url",
            &server.token_url(),
            "--client-id",
            "demo-client",
        ])
        .arg("--cache-url")
        .arg(format!("file:{}", dir.display()))
        .env("M2M_CLIENT_SECRET", "demo-secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_cli_runs_at_once_send_one_token_request_and_later_runs_none() {
    let server = MockServer::start(MockConfig::default())
        .await
        .expect("mock");
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("m2m-tokens");

    let children: Vec<_> = (0..20)
        .map(|_| {
            token_command(&server, &dir)
                .spawn()
                .expect("spawn m2m-auth")
        })
        .collect();
    let mut tokens = Vec::new();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "stderr: {stderr}");
        tokens.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    }
    assert_eq!(server.token_requests(), 1, "twenty runs, one token request");
    assert!(tokens.iter().all(|t| *t == tokens[0] && !t.is_empty()));

    let (out, stdout, stderr) = run(&mut token_command(&server, &dir));
    assert!(out.status.success(), "stderr: {stderr}");
    assert_eq!(stdout.trim(), tokens[0], "a later run reuses the token");
    assert_eq!(server.token_requests(), 1, "and sends no request");

    assert_eq!(mode(&dir), 0o700, "the directory is private");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    let entries: Vec<_> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "token"))
        .collect();
    assert_eq!(entries.len(), 1, "{files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
        let bytes = std::fs::read(file).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&tokens[0]) && !text.contains("demo-secret"),
            "{} is sealed",
            file.display()
        );
    }

    // A truncated file (a crash mid-write of some other tool, a full disk) is ignored and replaced.
    let bytes = std::fs::read(entries[0]).expect("read");
    std::fs::write(entries[0], &bytes[..bytes.len() / 2]).expect("truncate");
    let (out, stdout, stderr) = run(&mut token_command(&server, &dir));
    assert!(
        out.status.success(),
        "a truncated file is no error: {stderr}"
    );
    assert_eq!(server.token_requests(), 2);
    let (out, again, _) = run(&mut token_command(&server, &dir));
    assert!(out.status.success());
    assert_eq!(again.trim(), stdout.trim(), "the replaced entry is read");
    assert_eq!(server.token_requests(), 2);
}
