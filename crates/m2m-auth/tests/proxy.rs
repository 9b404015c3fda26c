//! Proxies from the environment, with a recording proxy on loopback: honoured for other hosts, never used for
//! loopback (where the secret would reach the proxy in clear text). Its own test binary: it sets variables of
//! the process environment, which no other test may see change.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use m2m_auth::TokenClient;
use m2m_auth_mock::{MockConfig, MockServer};

/// A proxy that records the request line of every request and answers 502.
fn recording_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 8192];
            let n = stream.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            log.lock()
                .expect("lock")
                .push(head.lines().next().unwrap_or_default().to_owned());
            let _ = stream.write_all(
                b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_never_goes_through_the_proxy_other_hosts_do() {
    let (proxy, seen) = recording_proxy();
    // SAFETY: this binary's only test; no other thread reads the environment while it is changed.
    unsafe {
        for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"] {
            std::env::set_var(name, &proxy);
        }
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    let server = MockServer::start(MockConfig::default())
        .await
        .expect("mock");
    for token_url in [
        server.token_url(),
        server.token_url().replace("127.0.0.1", "localhost"),
    ] {
        let client = TokenClient::builder()
            .token_url(&token_url)
            .client_id("demo-client")
            .client_secret("demo-secret")
            .build()
            .expect("client");
        client
            .token()
            .await
            .expect("a token, straight from the mock");
    }
    assert_eq!(server.token_requests(), 2);
    assert!(
        seen.lock().expect("lock").is_empty(),
        "the proxy saw {:?}",
        seen.lock()
    );

    // Another host goes through the proxy, as the environment says.
    let remote = TokenClient::builder()
        .token_url("http://idp.example/oauth2/token")
        .client_id("demo-client")
        .client_secret("demo-secret")
        .allow_insecure_http(true)
        .retry(m2m_auth::RetryPolicy {
            max_attempts: 1,
            ..m2m_auth::RetryPolicy::default()
        })
        .build()
        .expect("client");
    let e = remote.token().await.expect_err("the proxy answers 502");
    assert_eq!(e.status(), Some(502), "{e}");
    assert_eq!(
        *seen.lock().expect("lock"),
        ["POST http://idp.example/oauth2/token HTTP/1.1"]
    );
}
