//! Request counters, per-client counts, the request record, and reset.

mod common;

use std::sync::Arc;

use common::*;
use m2m_auth_mock::{MockStats, RecordedRequest, RegisteredClient};

#[tokio::test]
async fn counts_every_request_per_presented_client_whatever_the_outcome() {
    let server = start_with(vec![
        RegisteredClient::new("one", "s1"),
        RegisteredClient::new("two", "s2"),
    ])
    .await;
    let cc = ("grant_type", "client_credentials");
    assert_eq!(
        post_form(&server, Some(&basic("one", "s1")), &[cc])
            .await
            .status,
        200
    );
    assert_eq!(
        post_form(&server, Some(&basic("one", "bad")), &[cc])
            .await
            .status,
        401
    );
    assert_eq!(
        post_form(
            &server,
            None,
            &[cc, ("client_id", "two"), ("client_secret", "s2")]
        )
        .await
        .status,
        200
    );
    assert_eq!(
        post_form(
            &server,
            None,
            &[cc, ("client_id", "ghost"), ("client_secret", "x")]
        )
        .await
        .status,
        401
    );
    assert_eq!(post_form(&server, None, &[cc]).await.status, 401);

    assert_eq!(server.token_requests(), 5);
    assert_eq!(server.tokens_issued(), 2);
    assert_eq!(server.token_requests_for("one"), 2);
    assert_eq!(server.token_requests_for("two"), 1);
    assert_eq!(server.token_requests_for("ghost"), 1);
    assert_eq!(server.token_requests_for("nobody"), 0);
    let stats = server.stats();
    assert_eq!(
        stats,
        MockStats {
            token_requests: 5,
            tokens_issued: 2,
            by_client: [
                ("ghost".to_owned(), 1),
                ("one".to_owned(), 2),
                ("two".to_owned(), 1)
            ]
            .into_iter()
            .collect(),
            ..MockStats::default()
        }
    );
}

#[tokio::test]
async fn requests_are_recorded_in_order_with_form_headers_client_and_outcome() {
    let server = start_default().await;
    demo_post(&server, &[("scope", "payments.read")]).await;
    post_form(
        &server,
        Some(&basic(DEMO_ID, DEMO_SECRET)),
        &[("grant_type", "password")],
    )
    .await;

    let recorded = server.requests();
    assert_eq!(recorded.len(), 2);
    let first = &recorded[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/oauth2/token");
    assert_eq!(
        first.form,
        [
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_id".to_owned(), DEMO_ID.to_owned()),
            ("client_secret".to_owned(), DEMO_SECRET.to_owned()),
            ("scope".to_owned(), "payments.read".to_owned()),
        ]
    );
    assert_eq!(first.client_id.as_deref(), Some(DEMO_ID));
    assert_eq!(first.outcome, "token");
    assert!(
        first
            .headers
            .iter()
            .any(|(n, v)| n == "content-type" && v == FORM)
    );
    assert!(first.headers.iter().all(|(n, _)| *n == n.to_lowercase()));

    let second = &recorded[1];
    assert_eq!(second.client_id.as_deref(), Some(DEMO_ID));
    assert_eq!(second.outcome, "unsupported_grant_type");
    assert!(
        second
            .headers
            .iter()
            .any(|(n, v)| n == "authorization" && *v == basic(DEMO_ID, DEMO_SECRET))
    );
    assert_eq!(
        second.form,
        [("grant_type".to_owned(), "password".to_owned())]
    );
}

#[tokio::test]
async fn a_non_form_body_is_recorded_without_form_pairs() {
    let server = start_default().await;
    post_raw(
        &server,
        Some("application/json"),
        None,
        r#"{"grant_type":"client_credentials"}"#,
    )
    .await;
    let recorded: Vec<RecordedRequest> = server.requests();
    assert_eq!(recorded[0].form, Vec::<(String, String)>::new());
    assert_eq!(recorded[0].outcome, "invalid_request");
    assert_eq!(recorded[0].client_id, None);
}

#[tokio::test]
async fn reset_clears_counters_and_records_and_restores_the_lifetime() {
    let server = start_default().await;
    server.set_token_lifetime(5);
    assert_eq!(demo_post(&server, &[]).await.json()["expires_in"], 5);
    assert_eq!(server.token_requests(), 1);
    server.reset();
    assert_eq!(server.token_requests(), 0);
    assert_eq!(server.tokens_issued(), 0);
    assert_eq!(server.token_requests_for(DEMO_ID), 0);
    assert!(server.requests().is_empty());
    assert_eq!(server.stats(), MockStats::default());
    assert_eq!(demo_post(&server, &[]).await.json()["expires_in"], 3600);
    assert_eq!(server.token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_are_all_counted() {
    let server = Arc::new(start_default().await);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let server = Arc::clone(&server);
        tasks.push(tokio::spawn(
            async move { demo_post(&server, &[]).await.status },
        ));
    }
    for task in tasks {
        assert_eq!(task.await.expect("task"), 200);
    }
    // Read from a plain OS thread, as the Python and Node bindings do.
    let reader = Arc::clone(&server);
    let (requests, issued) =
        std::thread::spawn(move || (reader.token_requests(), reader.tokens_issued()))
            .join()
            .expect("thread");
    assert_eq!((requests, issued), (32, 32));
    assert_eq!(server.requests().len(), 32);
}
