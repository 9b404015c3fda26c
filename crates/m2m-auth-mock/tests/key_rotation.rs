//! `POST /mock/keys/rotate`: a fresh signing key, the only one in the JWKS from then on.

mod common;

use common::*;
use serde_json::json;

fn kid_of(jwks: &serde_json::Value) -> String {
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "one key: {jwks}");
    keys[0]["kid"].as_str().expect("kid").to_owned()
}

#[tokio::test]
async fn rotation_replaces_the_key_that_signs_and_the_one_the_jwks_lists() {
    let server = start_default().await;
    let old_jwks = get(&server.jwks_url()).await.json();
    let old_kid = kid_of(&old_jwks);
    let old_minted = mint_one(&server, &json!({})).await;
    let old_issued = demo_post(&server, &[]).await.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    let resp = post_json(&format!("{}/mock/keys/rotate", server.url()), "").await;
    assert_eq!(resp.status, 200);
    let new_kid = resp.json()["kid"].as_str().expect("kid").to_owned();
    assert_ne!(new_kid, old_kid);
    let new_jwks = get(&server.jwks_url()).await.json();
    assert_eq!(kid_of(&new_jwks), new_kid);
    assert_eq!(new_jwks, server.jwks());
    assert_eq!(server.jwks_requests(), 2);

    // New tokens, minted or issued, carry and verify with the new key.
    let minted = mint_one(&server, &json!({})).await;
    let issued = demo_post(&server, &[]).await.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    for token in [&minted, &issued] {
        assert_eq!(decode_jwt(token).0["kid"], new_kid);
        assert!(verify_with_jwks(&new_jwks, token));
        assert!(server.verify_access_token(token).is_ok());
        assert_eq!(introspect_demo(&server, token).await["active"], true);
    }
    // The alg-confusion token is keyed with the new public key.
    let hs = mint_one(&server, &json!({"sign": "hs256_public_key"})).await;
    assert_eq!(decode_jwt(&hs).0["kid"], new_kid);

    // Tokens of the old key no longer verify anywhere on this server.
    for token in [&old_minted, &old_issued] {
        assert!(verify_with_jwks(&old_jwks, token));
        assert!(!verify_with_jwks(&new_jwks, token));
        let error = server.verify_access_token(token).expect_err("old key");
        assert!(error.contains("kid"), "{error}");
        assert_eq!(introspect_demo(&server, token).await["active"], false);
        let api = read(
            http()
                .get(server.api_url())
                .bearer_auth(token)
                .send()
                .await
                .expect("sent"),
        )
        .await;
        assert_eq!(api.status, 401);
    }
}

/// GET the API with `Bearer <token>`; the status.
async fn api_status(server: &m2m_auth_mock::MockServer, token: &str) -> u16 {
    read(
        http()
            .get(server.api_url())
            .bearer_auth(token)
            .send()
            .await
            .expect("sent"),
    )
    .await
    .status
}

#[tokio::test]
async fn the_api_refuses_old_key_tokens_and_accepts_new_key_ones_at_once() {
    let server = start_default().await;
    let old = demo_post(&server, &[]).await.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(api_status(&server, &old).await, 200);
    let fetched = server.jwks_requests();

    server.rotate_keys().expect("rotated");
    // A token the API accepted before is not remembered past the rotation.
    assert_eq!(api_status(&server, &old).await, 401);
    let new = demo_post(&server, &[]).await.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(api_status(&server, &new).await, 200);
    assert_eq!(api_status(&server, &old).await, 401);
    // The first request after the rotation read the new JWKS; the old token's `kid` not in it,
    // the second try of the old token read it again (the API's verifier has no cooldown).
    assert_eq!(server.jwks_requests(), fetched + 2);
}

#[tokio::test]
async fn rotate_keys_in_rust_and_reset_keeps_the_current_key() {
    let server = start_default().await;
    let first = kid_of(&server.jwks());
    let second = server.rotate_keys().expect("rotated");
    assert_ne!(first, second);
    assert_eq!(kid_of(&server.jwks()), second);
    server.reset();
    assert_eq!(kid_of(&server.jwks()), second, "reset keeps the key");
}
