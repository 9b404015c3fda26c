//! `POST /mock/tokens`: tokens for verifier tests — the defaults, claim and header overrides,
//! each way of signing, tampering, bulk minting and opaque tokens — checked independently of
//! the server (its JWKS, aws-lc-rs).

mod common;

use std::collections::BTreeSet;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use m2m_auth_mock::MockError;
use serde_json::{Value, json};

/// The three base64url segments of a compact JWS, the signature decoded.
fn segments(token: &str) -> (String, String, Vec<u8>) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "three segments in {token}");
    let signature = URL_SAFE_NO_PAD
        .decode(parts[2])
        .expect("signature base64url");
    (parts[0].to_owned(), parts[1].to_owned(), signature)
}

fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn a_default_token_has_the_documented_claims_and_verifies_with_the_jwks() {
    let server = start_default().await;
    let before = now();
    let token = mint_one(&server, &json!({})).await;
    let jwks = get(&server.jwks_url()).await.json();
    let (header, claims) = decode_jwt(&token);
    assert_eq!(
        header,
        json!({"alg": "ES256", "typ": "at+jwt", "kid": jwks["keys"][0]["kid"]})
    );
    let iat = claims["iat"].as_i64().expect("iat");
    assert!((before..=now()).contains(&iat));
    let jti = claims["jti"].as_str().expect("jti").to_owned();
    assert_eq!(
        URL_SAFE_NO_PAD.decode(&jti).expect("jti base64url").len(),
        16
    );
    assert_eq!(
        claims,
        json!({
            "iss": server.issuer(),
            "aud": server.api_audience(),
            "sub": "svc-vectors",
            "client_id": "svc-vectors",
            "scope": "payments.read",
            "iat": iat,
            "exp": iat + 300,
            "jti": jti,
        })
    );
    assert!(verify_with_jwks(&jwks, &token));
    assert!(server.verify_access_token(&token).is_ok());
    // The bundled API accepts it as it accepts issued tokens.
    let api = read(
        http()
            .get(server.api_url())
            .bearer_auth(&token)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(api.json()["sub"], "svc-vectors");
    // An empty body is the defaults too; minting is not a token request.
    let resp = post_json(&format!("{}/mock/tokens", server.url()), "").await;
    assert_eq!(resp.status, 200);
    assert_eq!(server.token_requests(), 0);
}

#[tokio::test]
async fn claims_are_merged_over_the_defaults_and_null_removes_one() {
    let server = start_default().await;
    let t = now();
    let token = mint_one(
        &server,
        &json!({
            "claims": {
                "scope": null,
                "client_id": null,
                "scp": ["payments.read", "payments.write"],
                "aud": ["svc-a", "spiffe://acme/payments"],
                "cnf": {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"},
            },
            "exp_in": -30,
            "iat_in": -600,
            "nbf_in": 120,
        }),
    )
    .await;
    let (_, claims) = decode_jwt(&token);
    let obj = claims.as_object().expect("object");
    assert!(!obj.contains_key("scope") && !obj.contains_key("client_id"));
    assert_eq!(claims["scp"], json!(["payments.read", "payments.write"]));
    assert_eq!(claims["aud"], json!(["svc-a", "spiffe://acme/payments"]));
    assert_eq!(
        claims["cnf"]["x5t#S256"],
        "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"
    );
    let near = |name: &str, offset: i64| {
        let value = claims[name].as_i64().expect(name);
        assert!(
            (t + offset..=now() + offset).contains(&value),
            "{name} {value}"
        );
    };
    near("exp", -30);
    near("iat", -600);
    near("nbf", 120);
    let jwks = server.jwks();
    assert!(verify_with_jwks(&jwks, &token), "still server-signed");
    assert!(
        server
            .verify_access_token(&token)
            .unwrap_err()
            .contains("expired")
    );

    // An explicit claim wins over the *_in offsets; any JSON value goes.
    let (_, claims) = decode_jwt(
        &mint_one(
            &server,
            &json!({"claims": {"exp": 5, "iat": "yesterday", "jti": null}, "exp_in": 99}),
        )
        .await,
    );
    assert_eq!(claims["exp"], 5);
    assert_eq!(claims["iat"], "yesterday");
    assert_eq!(claims.get("jti"), None);
    assert_eq!(claims.get("nbf"), None, "nbf only with nbf_in");
}

#[tokio::test]
async fn the_header_is_merged_over_the_default_and_null_removes_a_member() {
    let server = start_default().await;
    let token = mint_one(
        &server,
        &json!({"header": {"typ": "JWT", "kid": null, "jku": "https://evil.example/jwks"}}),
    )
    .await;
    let (header, _) = decode_jwt(&token);
    assert_eq!(
        header,
        json!({"alg": "ES256", "typ": "JWT", "jku": "https://evil.example/jwks"})
    );
    // Still signed by the server's key: only the header changed.
    assert!(verify_with_jwks(&server.jwks(), &token));
}

#[tokio::test]
async fn other_key_signs_with_a_key_the_jwks_does_not_have() {
    let server = start_default().await;
    let jwks = server.jwks();
    let server_kid = jwks["keys"][0]["kid"].as_str().expect("kid").to_owned();
    let token = mint_one(&server, &json!({"sign": "other_key"})).await;
    let (header, _) = decode_jwt(&token);
    assert_eq!(header["alg"], "ES256");
    let kid = header["kid"].as_str().expect("a random kid");
    assert_ne!(kid, server_kid);
    assert_eq!(segments(&token).2.len(), 64, "an ES256 signature");
    assert!(!verify_with_jwks(&jwks, &token));

    // The kid of the server's key on a signature by another: the "right kid, wrong key" case.
    let token = mint_one(
        &server,
        &json!({"sign": "other_key", "header": {"kid": server_kid}}),
    )
    .await;
    assert_eq!(decode_jwt(&token).0["kid"], server_kid);
    assert!(!verify_with_jwks(&jwks, &token));
    assert!(server.verify_access_token(&token).is_err());
}

#[tokio::test]
async fn sign_none_has_alg_none_and_an_empty_signature() {
    let server = start_default().await;
    let token = mint_one(&server, &json!({"sign": "none"})).await;
    assert!(token.ends_with('.'), "{token}");
    let (header, claims) = decode_jwt(&token);
    assert_eq!(header["alg"], "none");
    assert_eq!(claims["sub"], "svc-vectors");
    assert!(segments(&token).2.is_empty());
    // The header can spell it otherwise, as attackers do.
    let token = mint_one(&server, &json!({"sign": "none", "header": {"alg": "None"}})).await;
    assert_eq!(decode_jwt(&token).0["alg"], "None");
    assert!(token.ends_with('.'));
}

#[tokio::test]
async fn hs256_public_key_is_an_hmac_keyed_with_the_spki_pem() {
    let server = start_default().await;
    let jwks = get(&server.jwks_url()).await.json();
    let jwk = &jwks["keys"][0];
    let token = mint_one(&server, &json!({"sign": "hs256_public_key"})).await;
    let (header, _) = decode_jwt(&token);
    assert_eq!(
        header,
        json!({"alg": "HS256", "typ": "at+jwt", "kid": jwk["kid"]})
    );
    let (h, p, signature) = segments(&token);
    let pem = spki_pem(jwk);
    let key = hmac::Key::new(hmac::HMAC_SHA256, pem.as_bytes());
    assert!(
        hmac::verify(&key, format!("{h}.{p}").as_bytes(), &signature).is_ok(),
        "HMAC-SHA256 over the signing input, keyed with\n{pem}"
    );
    assert!(!verify_with_jwks(&jwks, &token));
    assert!(server.verify_access_token(&token).is_err());
}

#[tokio::test]
async fn tamper_payload_keeps_the_signature_of_the_original_payload() {
    let server = start_default().await;
    let jwks = server.jwks();
    let token = mint_one(&server, &json!({"tamper": "payload"})).await;
    let (h, _, signature) = segments(&token);
    let (_, claims) = decode_jwt(&token);
    assert_eq!(claims["sub"], "attacker");
    assert_eq!(claims["client_id"], "svc-vectors", "only sub changed");
    assert!(!verify_with_jwks(&jwks, &token));
    // Put the sub back (serialized as the server did) and the signature verifies: it is the
    // original one.
    let mut original = claims.clone();
    original["sub"] = json!("svc-vectors");
    let restored = format!(
        "{h}.{}.{}",
        b64_json(&original),
        URL_SAFE_NO_PAD.encode(&signature)
    );
    assert!(verify_with_jwks(&jwks, &restored));
}

#[tokio::test]
async fn tamper_signature_flips_the_bits_of_its_first_byte() {
    let server = start_default().await;
    let jwks = server.jwks();
    let token = mint_one(&server, &json!({"tamper": "signature"})).await;
    let (h, p, mut signature) = segments(&token);
    assert_eq!(signature.len(), 64);
    assert!(!verify_with_jwks(&jwks, &token));
    signature[0] ^= 0xff;
    let repaired = format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(&signature));
    assert!(verify_with_jwks(&jwks, &repaired));
    // Tampering applies to the other signers too.
    let token = mint_one(
        &server,
        &json!({"sign": "hs256_public_key", "tamper": "payload"}),
    )
    .await;
    assert_eq!(decode_jwt(&token).1["sub"], "attacker");
}

#[tokio::test]
async fn count_mints_many_and_distinct_kids_gives_each_its_own_kid() {
    let server = start_default().await;
    let tokens = minted(&server, &json!({"count": 5, "sign": "other_key"})).await;
    assert_eq!(tokens.len(), 5);
    let kids: BTreeSet<String> = tokens
        .iter()
        .map(|t| decode_jwt(t).0["kid"].as_str().expect("kid").to_owned())
        .collect();
    assert_eq!(kids.len(), 1, "one random kid for the request");
    let jtis: BTreeSet<String> = tokens
        .iter()
        .map(|t| decode_jwt(t).1["jti"].as_str().expect("jti").to_owned())
        .collect();
    assert_eq!(jtis.len(), 5, "each token its own jti");

    // The most a request may ask for: a flood of unknown kids.
    let tokens = minted(
        &server,
        &json!({"count": 10_000, "sign": "other_key", "distinct_kids": true}),
    )
    .await;
    assert_eq!(tokens.len(), 10_000);
    let kids: BTreeSet<String> = tokens
        .iter()
        .map(|t| decode_jwt(t).0["kid"].as_str().expect("kid").to_owned())
        .collect();
    assert_eq!(kids.len(), 10_000);
    assert!(!kids.contains(server.jwks()["keys"][0]["kid"].as_str().expect("kid")));
}

#[tokio::test]
async fn opaque_tokens_are_random_base64url_strings() {
    let server = start_default().await;
    let tokens = minted(&server, &json!({"opaque": true, "count": 3})).await;
    assert_eq!(tokens.iter().collect::<BTreeSet<_>>().len(), 3);
    for token in &tokens {
        assert!(!token.contains('.'), "not a JWT: {token}");
        assert_eq!(URL_SAFE_NO_PAD.decode(token).expect("base64url").len(), 32);
    }
}

#[tokio::test]
async fn bad_mint_requests_are_400_naming_the_problem() {
    let server = start_default().await;
    let cases = [
        (json!({"sign": "rs256"}), "sign \"rs256\" is not one of"),
        (
            json!({"tamper": "header"}),
            "tamper \"header\" is not one of",
        ),
        (json!({"clams": {}}), "unknown field `clams`"),
        (json!({"count": 0}), "count must be 1 to 10000, not 0"),
        (
            json!({"count": 10_001}),
            "count must be 1 to 10000, not 10001",
        ),
        (json!({"exp_in": 1.5}), "floating point `1.5`, expected i64"),
        (json!({"claims": []}), "invalid type"),
        (
            json!({"opaque": true, "sign": "none"}),
            "sign does not apply to an opaque token",
        ),
        (
            json!({"active": false}),
            "active applies only to opaque tokens",
        ),
        (
            json!({"distinct_kids": true, "header": {"kid": "k"}}),
            "do not give header.kid too",
        ),
        (
            json!({"sign": "none", "tamper": "signature"}),
            "sign \"none\" makes none",
        ),
    ];
    for (body, expected) in cases {
        let resp = mint(&server, &body).await;
        assert_eq!(resp.status, 400, "{body}");
        let answer = resp.json();
        assert_eq!(answer["error"], "invalid_request");
        let description = answer["error_description"].as_str().expect("description");
        assert!(description.contains(expected), "{body}: {description}");
    }
    let resp = post_json(&format!("{}/mock/tokens", server.url()), "{not json").await;
    assert_eq!(resp.status, 400);
}

#[tokio::test]
async fn mint_tokens_in_rust_takes_the_same_request() {
    let server = start_default().await;
    let tokens = server
        .mint_tokens(json!({"count": 2, "claims": {"sub": "rust"}}))
        .expect("minted");
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        server.verify_access_token(&tokens[1]).expect("valid")["sub"],
        "rust"
    );
    let error = server
        .mint_tokens(json!({"sign": "rs256"}))
        .expect_err("refused");
    assert!(
        matches!(&error, MockError::Request(m) if m.contains("\"rs256\"")),
        "{error}"
    );
}
