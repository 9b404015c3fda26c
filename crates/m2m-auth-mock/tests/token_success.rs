//! Successful token requests with both client authentication methods, and the JWT they return.

mod common;

use common::*;
use m2m_auth_mock::{MockConfig, MockServer, RegisteredClient};
use serde_json::{Value, json};

/// Checks a success response in full and returns the access token's claims.
fn assert_token_response(server: &MockServer, resp: &Resp, client_id: &str, scope: &str) -> Value {
    assert_eq!(resp.status, 200, "body {}", resp.body);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(resp.header("pragma"), Some("no-cache"));
    let body = resp.json();
    let obj = body.as_object().expect("object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["access_token", "expires_in", "scope", "token_type"]);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], scope);

    let token = body["access_token"].as_str().expect("token string");
    let (header, claims) = decode_jwt(token);
    let jwks = server.jwks();
    assert_eq!(
        header,
        json!({"alg": "ES256", "typ": "at+jwt", "kid": jwks["keys"][0]["kid"]})
    );
    assert_eq!(claims["iss"], server.url());
    assert_eq!(claims["sub"], client_id);
    assert_eq!(claims["client_id"], client_id);
    assert_eq!(claims["aud"], server.url());
    assert_eq!(claims["scope"], scope);
    let iat = claims["iat"].as_i64().expect("iat");
    assert!((iat - now()).abs() <= 5, "iat {iat} near now");
    assert_eq!(claims["nbf"].as_i64(), Some(iat));
    assert_eq!(claims["exp"].as_i64(), Some(iat + 3600));
    assert_eq!(
        claims["jti"].as_str().map(str::len),
        Some(22),
        "16 random bytes"
    );
    assert_eq!(claims.as_object().map(|o| o.len()), Some(9));

    assert_eq!(server.verify_access_token(token), Ok(claims.clone()));
    assert!(
        verify_with_jwks(&jwks, token),
        "JWKS verifies the signature"
    );
    claims
}

#[tokio::test]
async fn client_secret_post_gets_a_signed_token() {
    let server = start_default().await;
    let resp = demo_post(&server, &[]).await;
    assert_token_response(&server, &resp, DEMO_ID, "payments.read payments.write");
    assert_eq!(server.tokens_issued(), 1);
}

#[tokio::test]
async fn client_secret_basic_gets_a_signed_token() {
    let server = start_default().await;
    let resp = post_form(
        &server,
        Some(&basic(DEMO_ID, DEMO_SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_token_response(&server, &resp, DEMO_ID, "payments.read payments.write");
}

#[tokio::test]
async fn basic_credentials_are_form_urldecoded() {
    let id = "svc:id@acme+1";
    let secret = "p@ss:w/rd %";
    let server = start_with(vec![RegisteredClient {
        scopes: vec!["a".into()],
        ..RegisteredClient::new(id, secret)
    }])
    .await;
    let resp = post_form(
        &server,
        Some(&basic(id, secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_token_response(&server, &resp, id, "a");

    // Sent without the RFC 6749 §2.3.1 encoding, the stray '%' is a broken escape.
    let raw = format!("Basic {}", base64_std(&format!("svc-id:{secret}")));
    let resp = post_form(&server, Some(&raw), &[("grant_type", "client_credentials")]).await;
    let description = resp.assert_oauth_error(401, "invalid_client");
    assert!(
        !description.contains(secret),
        "secret not echoed: {description}"
    );
}

#[tokio::test]
async fn the_same_special_characters_work_with_client_secret_post() {
    let id = "svc:id@acme+1";
    let secret = "p@ss:w/rd %&=";
    let server = start_with(vec![RegisteredClient::new(id, secret)]).await;
    let resp = post_form(
        &server,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    // No registered scopes: nothing granted, so `scope` is left out of the response and the token.
    let body = resp.json();
    assert_eq!(body.get("scope"), None);
    let (_, claims) = decode_jwt(body["access_token"].as_str().expect("token"));
    assert_eq!(claims["sub"], id);
    assert_eq!(claims.get("scope"), None);
}

#[tokio::test]
async fn basic_without_padding_and_lowercase_scheme_is_accepted() {
    let server = start_default().await;
    // "demo-client:demo-secret" is 23 bytes, so its base64 has one '=' of padding to drop.
    let token = base64_std("demo-client:demo-secret");
    assert!(token.ends_with('='));
    let auth = format!("basic {}", token.trim_end_matches('='));
    let resp = post_form(
        &server,
        Some(&auth),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
}

#[tokio::test]
async fn content_type_parameters_and_case_are_accepted() {
    let server = start_default().await;
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", DEMO_ID),
        ("client_secret", DEMO_SECRET),
    ]);
    let resp = post_raw(
        &server,
        Some("Application/X-WWW-Form-URLEncoded; charset=UTF-8"),
        None,
        body,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
}

#[tokio::test]
async fn empty_parameters_count_as_omitted() {
    let server = start_default().await;
    let resp = demo_post(&server, &[("scope", ""), ("audience", "")]).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["scope"], "payments.read payments.write");
}

#[tokio::test]
async fn every_token_has_a_unique_jti() {
    let server = start_default().await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..5 {
        let resp = demo_post(&server, &[]).await;
        let (_, claims) = decode_jwt(resp.json()["access_token"].as_str().expect("token"));
        assert!(seen.insert(claims["jti"].as_str().expect("jti").to_owned()));
    }
    assert_eq!(server.tokens_issued(), 5);
}

#[tokio::test]
async fn verify_access_token_rejects_forgeries_and_expired_tokens() {
    let server = start_default().await;
    let other = start_default().await;
    let token = demo_post(&server, &[]).await.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(server.verify_access_token(&token).is_ok());
    // Another server's key.
    assert!(other.verify_access_token(&token).is_err());
    assert!(!verify_with_jwks(&other.jwks(), &token));
    // Claims swapped: the signature no longer matches.
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        r#"{"sub":"admin","exp":9999999999}"#,
    );
    let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
    assert_eq!(
        server.verify_access_token(&forged),
        Err("signature does not verify".to_owned())
    );
    assert!(server.verify_access_token("not a jwt").is_err());
    assert!(server.verify_access_token("").is_err());

    // Lifetime 0: exp == iat, so the token is already expired.
    server.set_token_lifetime(0);
    let resp = demo_post(&server, &[]).await;
    assert_eq!(resp.json()["expires_in"], 0);
    let expired = resp.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let err = server.verify_access_token(&expired).unwrap_err();
    assert!(err.starts_with("token expired"), "{err}");
}

#[tokio::test]
async fn a_configured_issuer_is_used_in_tokens() {
    let server = MockServer::start(MockConfig {
        issuer: Some("https://acme.us.connect.secureauth.com/acme/payments".into()),
        ..MockConfig::default()
    })
    .await
    .expect("start");
    assert_eq!(
        server.issuer(),
        "https://acme.us.connect.secureauth.com/acme/payments"
    );
    let resp = demo_post(&server, &[]).await;
    let (_, claims) = decode_jwt(resp.json()["access_token"].as_str().expect("token"));
    assert_eq!(
        claims["iss"],
        "https://acme.us.connect.secureauth.com/acme/payments"
    );
    assert_eq!(
        claims["aud"],
        "https://acme.us.connect.secureauth.com/acme/payments"
    );
}

fn base64_std(s: &str) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s)
}
