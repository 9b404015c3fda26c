//! Every error the token endpoint returns, with its status, `error` code and headers.

mod common;

use common::*;
use m2m_auth_mock::{CLIENT_SECRET_BASIC, CLIENT_SECRET_POST, RegisteredClient};

#[tokio::test]
async fn wrong_or_missing_content_type_is_invalid_request() {
    let server = start_default().await;
    let body = form(&[CC, ("client_id", DEMO_ID), ("client_secret", DEMO_SECRET)]);
    let resp = post_raw(&server, Some("application/json"), None, body.clone()).await;
    let d = resp.assert_oauth_error(400, "invalid_request");
    assert_eq!(d, "Content-Type must be application/x-www-form-urlencoded");
    let resp = post_raw(&server, None, None, body.clone()).await;
    resp.assert_oauth_error(400, "invalid_request");
    let resp = post_raw(&server, Some("text/plain"), None, body).await;
    resp.assert_oauth_error(400, "invalid_request");
}

#[tokio::test]
async fn repeated_parameters_are_invalid_request() {
    let server = start_default().await;
    let resp = demo_post(
        &server,
        &[("scope", "payments.read"), ("scope", "payments.write")],
    )
    .await;
    let d = resp.assert_oauth_error(400, "invalid_request");
    assert_eq!(d, "parameter `scope` is included more than once");
    let resp = post_form(
        &server,
        None,
        &[
            CC,
            CC,
            ("client_id", DEMO_ID),
            ("client_secret", DEMO_SECRET),
        ],
    )
    .await;
    resp.assert_oauth_error(400, "invalid_request");
    let resp = demo_post(&server, &[("audience", "a"), ("audience", "b")]).await;
    resp.assert_oauth_error(400, "invalid_request");
}

#[tokio::test]
async fn grant_type_is_required_and_must_be_client_credentials() {
    let server = start_default().await;
    let resp = post_form(
        &server,
        None,
        &[("client_id", DEMO_ID), ("client_secret", DEMO_SECRET)],
    )
    .await;
    assert_eq!(
        resp.assert_oauth_error(400, "invalid_request"),
        "missing grant_type parameter"
    );
    let resp = post_form(
        &server,
        None,
        &[
            ("grant_type", "password"),
            ("client_id", DEMO_ID),
            ("client_secret", DEMO_SECRET),
        ],
    )
    .await;
    let d = resp.assert_oauth_error(400, "unsupported_grant_type");
    assert_eq!(
        d,
        "grant_type \"password\" is not supported; only client_credentials is"
    );
}

#[tokio::test]
async fn no_client_authentication_is_invalid_client() {
    let server = start_default().await;
    let resp = post_form(&server, None, &[CC]).await;
    resp.assert_oauth_error(401, "invalid_client");
    // An id alone is not authentication (this server has no public clients).
    let resp = post_form(&server, None, &[CC, ("client_id", DEMO_ID)]).await;
    resp.assert_oauth_error(401, "invalid_client");
    let resp = post_form(&server, None, &[CC, ("client_secret", DEMO_SECRET)]).await;
    resp.assert_oauth_error(401, "invalid_client");
}

#[tokio::test]
async fn unknown_client_and_wrong_secret_are_invalid_client() {
    let server = start_default().await;
    let resp = post_form(
        &server,
        None,
        &[CC, ("client_id", "nobody"), ("client_secret", DEMO_SECRET)],
    )
    .await;
    assert_eq!(
        resp.assert_oauth_error(401, "invalid_client"),
        "unknown client"
    );

    let wrong = "wrong-secret-XYZ";
    let resp = post_form(
        &server,
        None,
        &[CC, ("client_id", DEMO_ID), ("client_secret", wrong)],
    )
    .await;
    let d = resp.assert_oauth_error(401, "invalid_client");
    assert_eq!(d, "client secret does not match");
    assert!(!resp.body.contains(wrong) && !resp.body.contains(DEMO_SECRET));

    let resp = post_form(&server, Some(&basic(DEMO_ID, wrong)), &[CC]).await;
    assert_eq!(
        resp.assert_oauth_error(401, "invalid_client"),
        "client secret does not match"
    );
    assert!(!resp.body.contains(wrong));

    // A secret that differs only in case, or is a prefix, is wrong too.
    let resp = post_form(&server, Some(&basic(DEMO_ID, "Demo-secret")), &[CC]).await;
    resp.assert_oauth_error(401, "invalid_client");
    let resp = post_form(&server, Some(&basic(DEMO_ID, "demo-secre")), &[CC]).await;
    resp.assert_oauth_error(401, "invalid_client");
}

#[tokio::test]
async fn a_method_the_client_may_not_use_is_invalid_client() {
    let post_only = RegisteredClient {
        auth_methods: vec![CLIENT_SECRET_POST.into()],
        ..RegisteredClient::new("post-only", "s1")
    };
    let basic_only = RegisteredClient {
        auth_methods: vec![CLIENT_SECRET_BASIC.into()],
        ..RegisteredClient::new("basic-only", "s2")
    };
    let server = start_with(vec![post_only, basic_only]).await;

    let resp = post_form(&server, Some(&basic("post-only", "s1")), &[CC]).await;
    let d = resp.assert_oauth_error(401, "invalid_client");
    assert_eq!(
        d,
        "this client is not allowed to authenticate with client_secret_basic"
    );
    let resp = post_form(
        &server,
        None,
        &[CC, ("client_id", "post-only"), ("client_secret", "s1")],
    )
    .await;
    assert_eq!(resp.status, 200);

    let resp = post_form(
        &server,
        None,
        &[CC, ("client_id", "basic-only"), ("client_secret", "s2")],
    )
    .await;
    let d = resp.assert_oauth_error(401, "invalid_client");
    assert_eq!(
        d,
        "this client is not allowed to authenticate with client_secret_post"
    );
    let resp = post_form(&server, Some(&basic("basic-only", "s2")), &[CC]).await;
    assert_eq!(resp.status, 200);
}

#[tokio::test]
async fn two_authentication_methods_at_once_is_invalid_request() {
    let server = start_default().await;
    let resp = post_form(
        &server,
        Some(&basic(DEMO_ID, DEMO_SECRET)),
        &[CC, ("client_id", DEMO_ID), ("client_secret", DEMO_SECRET)],
    )
    .await;
    resp.assert_oauth_error(400, "invalid_request");
}

#[tokio::test]
async fn a_form_client_id_must_match_the_basic_one() {
    let server = start_default().await;
    let auth = basic(DEMO_ID, DEMO_SECRET);
    let resp = post_form(&server, Some(&auth), &[CC, ("client_id", "someone-else")]).await;
    let d = resp.assert_oauth_error(400, "invalid_request");
    assert_eq!(
        d,
        "the client_id parameter names a different client than the Authorization header"
    );
    // The same id alongside Basic is allowed (RFC 6749 §3.2.1).
    let resp = post_form(&server, Some(&auth), &[CC, ("client_id", DEMO_ID)]).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
}

#[tokio::test]
async fn malformed_or_foreign_authorization_headers_are_invalid_client() {
    let server = start_default().await;
    for auth in [
        "Basic !!!not-base64!!!",
        "Basic ZGVtby1jbGllbnQ=", // "demo-client": no colon
        "Basic",
        "Bearer some.jwt.token",
        "Digest username=\"demo-client\"",
    ] {
        let resp = post_form(&server, Some(auth), &[CC]).await;
        resp.assert_oauth_error(401, "invalid_client");
    }
}

#[tokio::test]
async fn the_token_endpoint_only_accepts_post() {
    let server = start_default().await;
    let resp = get(&server.token_url()).await;
    assert_eq!(resp.status, 405);
    assert_eq!(resp.header("allow"), Some("POST"));
    assert_eq!(resp.json()["error"], "invalid_request");
    // It is still a request to the token endpoint, so it counts.
    assert_eq!(server.token_requests(), 1);
    assert_eq!(server.requests()[0].method, "GET");
    assert_eq!(server.requests()[0].outcome, "invalid_request");
}

#[tokio::test]
async fn malformed_bodies_never_break_the_server() {
    let server = start_default().await;
    // Not UTF-8, broken escapes, lone separators.
    let resp = post_raw(
        &server,
        Some(FORM),
        None,
        vec![0xff, 0xfe, b'=', b'%', b'&', b'&', 0x80],
    )
    .await;
    assert_eq!(
        resp.assert_oauth_error(400, "invalid_request"),
        "missing grant_type parameter"
    );
    // A broken escape stays literal (as in the WHATWG form decoding), so this is an unknown grant.
    let resp = post_raw(&server, Some(FORM), None, "grant_type=%zz&=&&client_id").await;
    resp.assert_oauth_error(400, "unsupported_grant_type");
    // Over the 64 KiB cap.
    let resp = post_raw(&server, Some(FORM), None, "a".repeat(70 * 1024)).await;
    resp.assert_oauth_error(400, "invalid_request");
    // Non-ASCII header bytes in Authorization.
    let resp = post_raw(
        &server,
        Some(FORM),
        Some("Basic \u{00e9}\u{00e9}"),
        form(&[CC]),
    )
    .await;
    resp.assert_oauth_error(401, "invalid_client");
    // Still serving.
    assert_eq!(demo_post(&server, &[]).await.status, 200);
    assert_eq!(server.token_requests(), 5);
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let server = start_default().await;
    let resp = get(&format!("{}/nope", server.url())).await;
    assert_eq!(resp.status, 404);
    assert_eq!(resp.json()["error"], "not_found");
    let resp = post_json(&format!("{}/jwks", server.url()), "{}").await;
    assert_eq!(resp.status, 405);
    let resp = get(&format!("{}/mock/reset", server.url())).await;
    assert_eq!(resp.status, 405);
    assert_eq!(server.token_requests(), 0);
}
