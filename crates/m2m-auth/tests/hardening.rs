//! The client survives what callers do to it: a runtime shut down mid-fetch, absurd settings, parameters made
//! per request, and API calls that would send the token where it must not go.

use std::time::Duration;

mod common;

use common::{demo, demo_builder, mock};
use m2m_auth::{ApiRequest, Error, TokenClient};
use m2m_auth_mock::Fault;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn config_field(e: Error) -> String {
    match e {
        Error::Config { field, .. } => field,
        other => panic!("expected a ConfigError, got {other:?}"),
    }
}

#[test]
fn a_fetch_dropped_with_its_runtime_leaves_the_slot_usable() {
    let server_rt = runtime();
    let server = server_rt.block_on(mock(false));
    server.push_faults(vec![Fault::delay(2_000)]);
    let client = demo(&server);

    // The fetch starts on a runtime that is shut down while the token endpoint is still answering.
    let doomed = runtime();
    let caller = client.clone();
    doomed.spawn(async move {
        let _ = caller.token().await;
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.token_requests(), 1, "the first fetch is in flight");
    doomed.shutdown_background();

    // Another runtime gets a token: the slot does not keep the fetch that nobody will finish.
    let token = runtime()
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), client.token()).await })
        .expect("no hang")
        .expect("a token on another runtime");
    assert!(!token.access_token().is_empty());
    assert_eq!(server.token_requests(), 2);
}

#[test]
fn huge_durations_are_config_errors_not_panics() {
    let b = || {
        TokenClient::builder()
            .token_url("https://idp.example/t")
            .client_id("svc")
            .client_secret("secret")
    };
    assert_eq!(
        config_field(b().timeout(Duration::MAX).build().expect_err("refused")),
        "timeout"
    );
    assert_eq!(
        config_field(b().expiry_skew(Duration::MAX).build().expect_err("refused")),
        "expiry_skew"
    );
    assert_eq!(
        config_field(
            b().default_lifetime(Duration::MAX)
                .build()
                .expect_err("refused")
        ),
        "default_lifetime"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_call_parameter_sets_are_bounded() {
    let server = mock(false).await;
    let client = demo(&server);
    for i in 0..(m2m_auth::MAX_OTHER_SLOTS + 100) {
        let params = client
            .params(None, Some(format!("https://api-{i}.example")), None)
            .expect("params");
        assert!(client.cached(Some(&params)).is_none());
    }
    assert_eq!(client.cached_param_sets(), m2m_auth::MAX_OTHER_SLOTS);
    assert_eq!(server.token_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_calls_refuse_what_would_leak_the_token_before_connecting() {
    let server = mock(false).await;
    let client = demo(&server);
    // Plain http to a host that is not loopback: refused before any token or connection.
    let e = client
        .call(&ApiRequest::get("http://api.example/payments"))
        .await
        .expect_err("refused");
    assert_eq!(config_field(e.clone()), "url");
    assert!(e.to_string().contains("clear text"), "{e}");
    assert_eq!(server.token_requests(), 0, "no token was even fetched");
    // A caller's own Authorization header would be a second one.
    let mut with_auth = ApiRequest::get(format!("{}/payments", server.api_url()));
    with_auth
        .headers
        .push(("Authorization".into(), "Basic eDp5".into()));
    assert_eq!(
        config_field(client.call(&with_auth).await.expect_err("refused")),
        "headers"
    );
    // An unbounded timeout.
    let mut forever = ApiRequest::get(format!("{}/payments", server.api_url()));
    forever.timeout = Duration::MAX;
    assert_eq!(
        config_field(client.call(&forever).await.expect_err("refused")),
        "timeout"
    );
    assert!(server.api_requests().is_empty());
    // Loopback over plain http is fine, and allow_insecure_http opens other hosts.
    assert!(client.check_api_url(&server.api_url()).is_ok());
    let open = demo_builder(&server)
        .allow_insecure_http(true)
        .build()
        .expect("client");
    assert!(open.check_api_url("http://api.example/payments").is_ok());
}

#[test]
fn a_refresh_on_a_runtime_that_is_gone_neither_hangs_nor_sticks() {
    let server_rt = runtime();
    let server = server_rt.block_on(mock(false));
    server.set_token_lifetime(2);
    let remembered = runtime();
    let client = demo_builder(&server)
        .refresh_ratio(0.01)
        .runtime(remembered.handle().clone())
        .build()
        .expect("client");
    remembered.block_on(client.token()).expect("a token");
    drop(remembered); // the runtime the client remembered for background refreshes is gone
    std::thread::sleep(Duration::from_millis(100)); // the refresh is due

    // From a thread with no runtime, a cache hit starts the refresh on the remembered runtime, which drops
    // the new task at once, on this very thread.
    let (done, returned) = std::sync::mpsc::channel();
    let caller = client.clone();
    std::thread::spawn(move || {
        let _ = caller.cached(None);
        let _ = done.send(());
    });
    returned
        .recv_timeout(Duration::from_secs(5))
        .expect("cached() returned: no deadlock");
    // The slot is not stuck with the dead fetch: a live runtime gets tokens.
    let token = runtime()
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(10), async {
                client.invalidate();
                client.token().await
            })
            .await
        })
        .expect("no hang")
        .expect("a token");
    assert!(!token.access_token().is_empty());
}
