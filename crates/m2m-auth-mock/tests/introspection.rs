//! `POST /oauth2/introspect` (RFC 7662): active opaque tokens and this server's JWTs answer their
//! claims, anything else `{"active": false}`; the caller authenticates as at the token endpoint.

mod common;

use common::assertion::{self, JWT_BEARER, Signer};
use common::tls::{https, start_tls};
use common::*;
use m2m_auth_mock::testkeys::generate_signing_key;
use m2m_auth_mock::{
    CLIENT_SECRET_JWT, MockServer, PRIVATE_KEY_JWT, RegisteredClient, TLS_CLIENT_AUTH,
};
use serde_json::{Value, json};

const INACTIVE: &str = r#"{"active":false}"#;

async fn opaque(server: &MockServer, body: Value) -> String {
    let mut body = body;
    body["opaque"] = json!(true);
    mint_one(server, &body).await
}

#[tokio::test]
async fn an_active_opaque_token_answers_its_claims() {
    let server = start_default().await;
    let cnf = json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"});
    let token = opaque(&server, json!({"claims": {"cnf": cnf, "scope": "a b"}})).await;
    let answer = introspect_demo(&server, &token).await;
    let iat = answer["iat"].as_i64().expect("iat");
    assert_eq!(
        answer,
        json!({
            "active": true,
            "token_type": "Bearer",
            "iss": server.issuer(),
            "aud": server.api_audience(),
            "sub": "svc-vectors",
            "client_id": "svc-vectors",
            "scope": "a b",
            "cnf": cnf,
            "iat": iat,
            "exp": iat + 300,
            "jti": answer["jti"],
        })
    );
    assert!(answer["jti"].is_string());

    let recorded = server.requests().pop().expect("recorded");
    assert_eq!(recorded.path, "/oauth2/introspect");
    assert_eq!(recorded.outcome, "active");
    assert_eq!(recorded.client_id.as_deref(), Some(DEMO_ID));
    assert_eq!(recorded.auth_method.as_deref(), Some("client_secret_basic"));
    assert_eq!(recorded.form, [("token".to_owned(), token)]);
    assert_eq!(server.token_requests(), 0, "not a token request");
    assert_eq!(server.introspection_requests(), 1);
}

#[tokio::test]
async fn a_jwt_this_server_signed_answers_its_claims() {
    let server = start_default().await;
    let issued = demo_post(&server, &[]).await.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let answer = introspect_demo(&server, &issued).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["sub"], DEMO_ID);
    let mut claims = server.verify_access_token(&issued).expect("valid");
    claims["active"] = json!(true);
    claims["token_type"] = json!("Bearer");
    assert_eq!(answer, claims);

    let minted = mint_one(&server, &json!({"claims": {"sub": "vector"}})).await;
    assert_eq!(introspect_demo(&server, &minted).await["sub"], "vector");
}

#[tokio::test]
async fn inactive_expired_early_and_foreign_tokens_are_only_inactive() {
    let server = start_default().await;
    let mut tokens = vec![
        opaque(&server, json!({"active": false})).await,
        opaque(&server, json!({"exp_in": -1})).await,
        opaque(&server, json!({"nbf_in": 60})).await,
        "never-minted".to_owned(),
        mint_one(&server, &json!({"exp_in": -1})).await,
        mint_one(&server, &json!({"nbf_in": 60})).await,
        mint_one(&server, &json!({"sign": "other_key"})).await,
        mint_one(&server, &json!({"sign": "none"})).await,
        mint_one(&server, &json!({"sign": "hs256_public_key"})).await,
        mint_one(&server, &json!({"tamper": "payload"})).await,
        mint_one(&server, &json!({"tamper": "signature"})).await,
    ];
    let other = start_default().await;
    tokens.push(mint_one(&other, &json!({})).await);
    for token in &tokens {
        let resp = introspect(
            &server,
            Some(&basic(DEMO_ID, DEMO_SECRET)),
            &[("token", token), ("token_type_hint", "access_token")],
        )
        .await;
        assert_eq!(
            (resp.status, resp.body.as_str()),
            (200, INACTIVE),
            "{token}"
        );
    }
    let outcomes: Vec<String> = server.requests().into_iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, vec!["inactive"; tokens.len()]);
}

#[tokio::test]
async fn an_unauthenticated_caller_gets_401_invalid_client() {
    let server = start_default().await;
    let token = opaque(&server, json!({})).await;
    let resp = introspect(&server, None, &[("token", &token)]).await;
    let description = resp.assert_oauth_error(401, "invalid_client");
    assert!(
        description.contains("client authentication required"),
        "{description}"
    );
    let resp = introspect(
        &server,
        Some(&basic(DEMO_ID, "wrong")),
        &[("token", &token)],
    )
    .await;
    resp.assert_oauth_error(401, "invalid_client");
    let resp = introspect(
        &server,
        None,
        &[
            ("token", &token),
            ("client_id", DEMO_ID),
            ("client_secret", "x"),
        ],
    )
    .await;
    resp.assert_oauth_error(401, "invalid_client");
    let outcomes: Vec<String> = server.requests().into_iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, ["invalid_client"; 3]);
}

#[tokio::test]
async fn malformed_requests_are_400_or_405() {
    let server = start_default().await;
    let auth = basic(DEMO_ID, DEMO_SECRET);
    let resp = introspect(&server, Some(&auth), &[]).await;
    let description = resp.assert_oauth_error(400, "invalid_request");
    assert!(description.contains("token"), "{description}");
    let resp = introspect(&server, Some(&auth), &[("token", "a"), ("token", "b")]).await;
    resp.assert_oauth_error(400, "invalid_request");
    let resp = read(
        http()
            .post(server.introspection_url())
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(r#"{"token":"a"}"#)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    resp.assert_oauth_error(400, "invalid_request");
    let resp = read(
        http()
            .get(server.introspection_url())
            .send()
            .await
            .expect("sent"),
    )
    .await;
    resp.assert_oauth_error(405, "invalid_request");
    assert_eq!(resp.header("allow"), Some("POST"));
    assert_eq!(server.introspection_requests(), 4);
}

#[tokio::test]
async fn client_secret_post_and_jwt_assertions_authenticate() {
    const JWT_ID: &str = "svc-jwt";
    const JWT_SECRET: &str = "jwt-secret-9f8e7d6c5b4a39281706";
    let key = generate_signing_key("ES256").expect("key");
    let server = start_with(vec![
        RegisteredClient::demo(),
        RegisteredClient::new(JWT_ID, JWT_SECRET).with_auth_methods([CLIENT_SECRET_JWT]),
        RegisteredClient::without_secret("svc-pk")
            .with_auth_methods([PRIVATE_KEY_JWT])
            .with_jwks(json!({"keys": [key.public_jwk]})),
    ])
    .await;
    let token = opaque(&server, json!({})).await;
    let resp = introspect(
        &server,
        None,
        &[
            ("token", &token),
            ("client_id", DEMO_ID),
            ("client_secret", DEMO_SECRET),
        ],
    )
    .await;
    assert_eq!(resp.json()["active"], true, "{}", resp.body);

    let post_assertion = |jwt: String| {
        let (server, token) = (&server, token.clone());
        async move {
            introspect(
                server,
                None,
                &[
                    ("token", &token),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", &jwt),
                ],
            )
            .await
        }
    };
    // The assertion may name the introspection endpoint, the token endpoint or the issuer.
    for aud in [
        server.introspection_url(),
        server.token_url(),
        server.issuer(),
    ] {
        let jwt = assertion::assertion(JWT_ID, &aud, Signer::Secret(JWT_SECRET));
        let resp = post_assertion(jwt).await;
        assert_eq!(resp.status, 200, "{aud}: {}", resp.body);
        assert_eq!(resp.json()["active"], true);
        let jwt = assertion::assertion("svc-pk", &aud, Signer::Key(&key));
        let resp = post_assertion(jwt).await;
        assert_eq!(resp.status, 200, "{aud}: {}", resp.body);
    }
    let methods: Vec<Option<String>> = server
        .requests()
        .into_iter()
        .map(|r| r.auth_method)
        .collect();
    assert_eq!(methods[1].as_deref(), Some(CLIENT_SECRET_JWT));
    assert_eq!(methods[2].as_deref(), Some(PRIVATE_KEY_JWT));
    // Any other audience is refused.
    let jwt = assertion::assertion(
        JWT_ID,
        &format!("{}/api", server.url()),
        Signer::Secret(JWT_SECRET),
    );
    post_assertion(jwt)
        .await
        .assert_oauth_error(401, "invalid_client");
}

#[tokio::test]
async fn tls_client_auth_introspects_on_the_mtls_alias() {
    const SUBJECT: &str = "CN=svc-mtls,O=Acme";
    let server = start_tls(vec![
        RegisteredClient::without_secret("svc-mtls")
            .with_auth_methods([TLS_CLIENT_AUTH])
            .with_subject_dn(SUBJECT),
    ])
    .await;
    let token = server
        .mint_tokens(json!({"opaque": true}))
        .expect("minted")
        .remove(0);
    let (cert, key) = server.issue_client_certificate(SUBJECT).expect("issued");
    let alias = server.mtls_introspection_url().expect("alias");
    assert!(alias.ends_with("/oauth2/introspect"));
    let client = https(&server, Some((&cert, &key)));
    let pairs = [("token", token.as_str()), ("client_id", "svc-mtls")];
    let resp = post_form_with(&client, &alias, None, &pairs).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["active"], true);
    let recorded = server.requests().pop().expect("recorded");
    assert_eq!(recorded.auth_method.as_deref(), Some(TLS_CLIENT_AUTH));
    assert!(recorded.client_cert_x5t_s256.is_some());
    // Without a certificate (the main port asks for none) the client cannot authenticate.
    let resp = post_form_with(
        &https(&server, None),
        &server.introspection_url(),
        None,
        &pairs,
    )
    .await;
    resp.assert_oauth_error(401, "invalid_client");
}

#[tokio::test]
async fn reset_forgets_opaque_tokens_but_keeps_the_key() {
    let server = start_default().await;
    let opaque_token = opaque(&server, json!({})).await;
    let jwt = mint_one(&server, &json!({})).await;
    post_json(&format!("{}/mock/reset", server.url()), "").await;
    assert_eq!(server.introspection_requests(), 0);
    assert_eq!(
        introspect_demo(&server, &opaque_token).await,
        json!({"active": false})
    );
    assert_eq!(introspect_demo(&server, &jwt).await["active"], true);
}
