//! Scope rules (RFC 6749 §3.3) and the `aud` claim from `audience` / RFC 8707 `resource`.

mod common;

use common::*;
use m2m_auth_mock::RegisteredClient;
use serde_json::{Value, json};

fn claims_of(resp: &Resp) -> Value {
    assert_eq!(resp.status, 200, "{}", resp.body);
    decode_jwt(resp.json()["access_token"].as_str().expect("token")).1
}

#[tokio::test]
async fn a_requested_subset_is_granted_exactly() {
    let server = start_default().await;
    let resp = demo_post(&server, &[("scope", "payments.write")]).await;
    assert_eq!(resp.json()["scope"], "payments.write");
    assert_eq!(claims_of(&resp)["scope"], "payments.write");
}

#[tokio::test]
async fn requested_order_is_kept_and_repeats_folded() {
    let server = start_default().await;
    let resp = demo_post(
        &server,
        &[("scope", "payments.write  payments.read payments.write")],
    )
    .await;
    assert_eq!(resp.json()["scope"], "payments.write payments.read");
}

#[tokio::test]
async fn no_scope_grants_all_the_clients_scopes() {
    let server = start_default().await;
    let resp = demo_post(&server, &[]).await;
    assert_eq!(resp.json()["scope"], "payments.read payments.write");
}

#[tokio::test]
async fn a_scope_outside_the_clients_list_is_invalid_scope() {
    let server = start_default().await;
    let resp = demo_post(&server, &[("scope", "payments.read admin")]).await;
    let d = resp.assert_oauth_error(400, "invalid_scope");
    assert_eq!(d, "scope \"admin\" is not allowed for this client");
    // Tabs are not separators, so this is one unknown scope token.
    let resp = demo_post(&server, &[("scope", "payments.read\tpayments.write")]).await;
    resp.assert_oauth_error(400, "invalid_scope");
    assert_eq!(server.tokens_issued(), 0);
}

#[tokio::test]
async fn scopes_are_per_client() {
    let server = start_with(vec![
        RegisteredClient {
            scopes: vec!["a".into()],
            ..RegisteredClient::new("one", "s1")
        },
        RegisteredClient {
            scopes: vec!["b".into()],
            ..RegisteredClient::new("two", "s2")
        },
    ])
    .await;
    let resp = post_form(
        &server,
        Some(&basic("one", "s1")),
        &[("grant_type", "client_credentials"), ("scope", "b")],
    )
    .await;
    resp.assert_oauth_error(400, "invalid_scope");
    let resp = post_form(
        &server,
        Some(&basic("two", "s2")),
        &[("grant_type", "client_credentials"), ("scope", "b")],
    )
    .await;
    assert_eq!(resp.json()["scope"], "b");
}

#[tokio::test]
async fn audience_becomes_aud() {
    let server = start_default().await;
    let resp = demo_post(&server, &[("audience", "https://api.example.com")]).await;
    assert_eq!(claims_of(&resp)["aud"], "https://api.example.com");
}

#[tokio::test]
async fn one_resource_is_a_string_several_are_an_array() {
    let server = start_default().await;
    let resp = demo_post(&server, &[("resource", "https://a.example/")]).await;
    assert_eq!(claims_of(&resp)["aud"], "https://a.example/");
    let resp = demo_post(
        &server,
        &[
            ("resource", "https://a.example/"),
            ("resource", "urn:example:b"),
        ],
    )
    .await;
    assert_eq!(
        claims_of(&resp)["aud"],
        json!(["https://a.example/", "urn:example:b"])
    );
}

#[tokio::test]
async fn audience_and_resources_combine() {
    let server = start_default().await;
    let resp = demo_post(
        &server,
        &[
            ("audience", "payments-api"),
            ("resource", "https://a.example/"),
            ("resource", "https://a.example/"),
        ],
    )
    .await;
    assert_eq!(
        claims_of(&resp)["aud"],
        json!(["payments-api", "https://a.example/"])
    );
}

#[tokio::test]
async fn a_bad_resource_is_invalid_target() {
    let server = start_default().await;
    let resp = demo_post(&server, &[("resource", "relative/path")]).await;
    let d = resp.assert_oauth_error(400, "invalid_target");
    assert_eq!(d, "resource \"relative/path\" is not an absolute URI");
    let resp = demo_post(&server, &[("resource", "https://a.example/#frag")]).await;
    let d = resp.assert_oauth_error(400, "invalid_target");
    assert_eq!(d, "resource must not contain a fragment");
}

#[tokio::test]
async fn default_audience_then_issuer() {
    let server = start_with(vec![
        RegisteredClient {
            default_audience: Some("https://payments.example".into()),
            ..RegisteredClient::new("with-aud", "s1")
        },
        RegisteredClient::new("without-aud", "s2"),
    ])
    .await;
    let cc = ("grant_type", "client_credentials");
    let resp = post_form(&server, Some(&basic("with-aud", "s1")), &[cc]).await;
    assert_eq!(claims_of(&resp)["aud"], "https://payments.example");
    let resp = post_form(
        &server,
        Some(&basic("with-aud", "s1")),
        &[cc, ("audience", "x")],
    )
    .await;
    assert_eq!(claims_of(&resp)["aud"], "x");
    let resp = post_form(&server, Some(&basic("without-aud", "s2")), &[cc]).await;
    assert_eq!(claims_of(&resp)["aud"], server.issuer());
}
