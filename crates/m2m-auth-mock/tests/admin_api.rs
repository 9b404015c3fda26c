//! The admin API under /mock/, driven over HTTP as the CLI's users would.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn faults_are_pushed_over_http_as_an_object_or_an_array() {
    let server = start_default().await;
    let url = format!("{}/mock/faults", server.url());
    let resp = post_json(&url, r#"{"status": 503, "headers": {"Retry-After": "7"}}"#).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), json!({"pending": 1}));
    let resp = post_json(
        &url,
        r#"[{"status": 500, "count": 2}, {"body": "oops"}, {"token_type": "mac"}]"#,
    )
    .await;
    assert_eq!(resp.json(), json!({"pending": 5}));
    assert_eq!(server.pending_faults(), 5);

    let first = demo_post(&server, &[]).await;
    assert_eq!(
        (first.status, first.header("retry-after")),
        (503, Some("7"))
    );
    assert_eq!(demo_post(&server, &[]).await.status, 500);
    assert_eq!(demo_post(&server, &[]).await.status, 500);
    let raw = demo_post(&server, &[]).await;
    assert_eq!((raw.status, raw.body.as_str()), (200, "oops"));
    assert_eq!(demo_post(&server, &[]).await.json()["token_type"], "mac");
    assert_eq!(demo_post(&server, &[]).await.json()["token_type"], "Bearer");
}

#[tokio::test]
async fn bad_fault_bodies_are_400_with_a_clear_message() {
    let server = start_default().await;
    let url = format!("{}/mock/faults", server.url());
    let cases = [
        ("{not json", "body is not valid JSON"),
        (r#"{"stauts": 503}"#, "unknown field `stauts`"),
        (r#"[{"status": 500}, {"count": -1}]"#, "fault [1]"),
        (r#"{"status": 42}"#, "status 42 is not a valid HTTP status"),
        (
            r#"{"headers": {"bad name": "x"}}"#,
            "not a valid HTTP header name",
        ),
        ("17", "body must be a JSON fault object or an array of them"),
        ("", "body is not valid JSON"),
    ];
    for (body, expected) in cases {
        let resp = post_json(&url, body).await;
        assert_eq!(resp.status, 400, "{body}");
        let json = resp.json();
        assert_eq!(json["error"], "invalid_request");
        let description = json["error_description"].as_str().expect("description");
        assert!(description.contains(expected), "{body}: {description}");
    }
    assert_eq!(
        server.pending_faults(),
        0,
        "nothing queued from a rejected body"
    );
}

#[tokio::test]
async fn stats_and_requests_over_http() {
    let server = start_default().await;
    let base = server.url();
    assert_eq!(
        get(&format!("{base}/mock/stats")).await.json(),
        json!({"token_requests": 0, "tokens_issued": 0, "by_client": {}, "jwks_requests": 0, "introspection_requests": 0, "metadata_requests": 0})
    );
    demo_post(&server, &[]).await;
    post_form(
        &server,
        None,
        &[("grant_type", "client_credentials"), ("client_id", "x")],
    )
    .await;
    assert_eq!(
        get(&format!("{base}/mock/stats")).await.json(),
        json!({"token_requests": 2, "tokens_issued": 1, "by_client": {"demo-client": 1, "x": 1}, "jwks_requests": 0, "introspection_requests": 0, "metadata_requests": 0})
    );

    let requests = get(&format!("{base}/mock/requests")).await.json();
    let list = requests.as_array().expect("array");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["method"], "POST");
    assert_eq!(list[0]["path"], "/oauth2/token");
    assert_eq!(list[0]["client_id"], "demo-client");
    assert_eq!(list[0]["outcome"], "token");
    assert_eq!(
        list[0]["form"],
        json!([
            ["grant_type", "client_credentials"],
            ["client_id", "demo-client"],
            ["client_secret", "demo-secret"]
        ])
    );
    assert_eq!(list[1]["client_id"], "x");
    assert_eq!(list[1]["outcome"], "invalid_client");
    assert!(
        list[1]["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .any(|h| h == &json!(["content-type", FORM]))
    );
    // Admin calls are not token requests.
    assert_eq!(server.token_requests(), 2);
}

#[tokio::test]
async fn reset_and_token_lifetime_over_http() {
    let server = start_default().await;
    let base = server.url();
    let resp = post_json(&format!("{base}/mock/token-lifetime"), r#"{"secs": 5}"#).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), json!({"token_lifetime_secs": 5}));
    let token = demo_post(&server, &[]).await.json();
    assert_eq!(token["expires_in"], 5);
    let (_, claims) = decode_jwt(token["access_token"].as_str().expect("token"));
    assert_eq!(
        claims["exp"].as_i64(),
        claims["iat"].as_i64().map(|i| i + 5)
    );

    for bad in [
        r#"{"secs": -1}"#,
        r#"{"secs": "5"}"#,
        r#"{"seconds": 5}"#,
        "nope",
    ] {
        let resp = post_json(&format!("{base}/mock/token-lifetime"), bad).await;
        assert_eq!(resp.status, 400, "{bad}");
        assert_eq!(resp.json()["error"], "invalid_request");
    }

    post_json(&format!("{base}/mock/faults"), r#"{"status": 500}"#).await;
    let resp = read(
        http()
            .post(format!("{base}/mock/reset"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), json!({"reset": true}));
    assert_eq!(
        get(&format!("{base}/mock/stats")).await.json(),
        json!({"token_requests": 0, "tokens_issued": 0, "by_client": {}, "jwks_requests": 0, "introspection_requests": 0, "metadata_requests": 0})
    );
    assert_eq!(
        get(&format!("{base}/mock/requests")).await.json(),
        json!([])
    );
    // The fault is gone and the lifetime is back to the configured 3600.
    let resp = demo_post(&server, &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["expires_in"], 3600);
}

#[tokio::test]
async fn admin_endpoints_reject_wrong_methods() {
    let server = start_default().await;
    let base = server.url();
    assert_eq!(get(&format!("{base}/mock/faults")).await.status, 405);
    assert_eq!(
        get(&format!("{base}/mock/token-lifetime")).await.status,
        405
    );
    assert_eq!(
        post_json(&format!("{base}/mock/stats"), "{}").await.status,
        405
    );
    assert_eq!(
        post_json(&format!("{base}/mock/requests"), "{}")
            .await
            .status,
        405
    );
}

#[tokio::test]
async fn a_client_registered_at_run_time_gets_tokens_and_a_bad_one_is_refused() {
    let server = start_default().await;
    let url = format!("{}/mock/clients", server.url());
    let resp = post_json(
        &url,
        r#"{"client_id": "late", "client_secret": "late-secret", "scopes": ["a"]}"#,
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), json!({"registered": "late"}));
    let ok = post_form(
        &server,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "late"),
            ("client_secret", "late-secret"),
        ],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);

    for (body, expected) in [
        (r#"{"client_id": ""}"#, "client_id must not be empty"),
        (r#"{"client_id": "x", "secret": "s"}"#, "unknown field"),
        (
            r#"{"client_id": "x", "auth_methods": ["tls_client_auth"], "tls_client_auth_subject_dn": "CN=x"}"#,
            "tls: true",
        ),
        (
            r#"{"client_id": "x", "auth_methods": ["private_key_jwt"]}"#,
            "jwks holds no key",
        ),
    ] {
        let resp = post_json(&url, body).await;
        assert_eq!(resp.status, 400, "{body}");
        let description = resp.json()["error_description"]
            .as_str()
            .expect("description")
            .to_owned();
        assert!(description.contains(expected), "{body}: {description}");
    }
    // Replacing a configured client changes its secret.
    server
        .register_client(m2m_auth_mock::RegisteredClient::new(DEMO_ID, "rotated"))
        .expect("register");
    assert_eq!(demo_post(&server, &[]).await.status, 401);
}
