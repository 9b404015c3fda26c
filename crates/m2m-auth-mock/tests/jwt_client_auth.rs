//! `client_secret_jwt` and `private_key_jwt` (RFC 7523, OIDC Core §9): assertions the tests sign
//! themselves, each accepted when right and refused with a telling `invalid_client` when not.

mod common;

use common::assertion::{self, JWT_BEARER, Signer, claims, header, sign};
use common::*;
use m2m_auth_mock::testkeys::{GeneratedKey, generate_signing_key};
use m2m_auth_mock::{
    CLIENT_SECRET_BASIC, CLIENT_SECRET_JWT, CLIENT_SECRET_POST, MockConfig, MockServer,
    PRIVATE_KEY_JWT, RegisteredClient,
};
use serde_json::{Value, json};

const JWT_ID: &str = "svc-jwt";
const JWT_SECRET: &str = "jwt-secret-9f8e7d6c5b4a39281706";
const PK_ID: &str = "svc-pk";

fn secret_jwt_client() -> RegisteredClient {
    RegisteredClient::new(JWT_ID, JWT_SECRET)
        .with_auth_methods([CLIENT_SECRET_JWT])
        .with_scopes(["payments.read"])
}

fn private_key_client(keys: &[&GeneratedKey]) -> RegisteredClient {
    let jwks = json!({"keys": keys.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>()});
    RegisteredClient::without_secret(PK_ID)
        .with_auth_methods([PRIVATE_KEY_JWT])
        .with_jwks(jwks)
        .with_scopes(["payments.read"])
}

/// POSTs an assertion (plus `extra` parameters) to the token endpoint.
async fn post_assertion(server: &MockServer, jwt: &str, extra: &[(&str, &str)]) -> Resp {
    let mut pairs = vec![
        CC,
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", jwt),
    ];
    pairs.extend_from_slice(extra);
    post_form(server, None, &pairs).await
}

fn assert_token_for(server: &MockServer, resp: &Resp, client_id: &str) -> Value {
    assert_eq!(resp.status, 200, "body {}", resp.body);
    let token = resp.json()["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let claims = server.verify_access_token(&token).expect("server-signed");
    assert_eq!(claims["sub"], client_id);
    assert_eq!(claims.get("cnf"), None, "no certificate, no binding");
    claims
}

#[tokio::test]
async fn client_secret_jwt_gets_a_token() {
    let server = start_with(vec![secret_jwt_client()]).await;
    let jwt = assertion::assertion(JWT_ID, &server.token_url(), Signer::Secret(JWT_SECRET));
    let resp = post_assertion(&server, &jwt, &[]).await;
    assert_token_for(&server, &resp, JWT_ID);
    let recorded = server.requests().pop().expect("recorded");
    assert_eq!(recorded.auth_method.as_deref(), Some(CLIENT_SECRET_JWT));
    assert_eq!(recorded.client_id.as_deref(), Some(JWT_ID), "from the sub");
    assert_eq!(recorded.client_cert_x5t_s256, None);
    assert_eq!(server.token_requests_for(JWT_ID), 1);
}

#[tokio::test]
async fn private_key_jwt_gets_a_token_with_each_algorithm() {
    for alg in ["RS256", "PS256", "ES256"] {
        let key = generate_signing_key(alg).expect("key");
        let server = start_with(vec![private_key_client(&[&key])]).await;
        // With the kid in the header…
        let jwt = assertion::assertion(PK_ID, &server.token_url(), Signer::Key(&key));
        let resp = post_assertion(&server, &jwt, &[]).await;
        assert_token_for(&server, &resp, PK_ID);
        // …and without: any registered key of the right type may verify it.
        let no_kid = json!({"alg": alg});
        let jwt = sign(
            &no_kid,
            &claims(PK_ID, &server.token_url()),
            Signer::Key(&key),
        );
        let resp = post_assertion(&server, &jwt, &[]).await;
        assert_token_for(&server, &resp, PK_ID);
        let recorded = server.requests().pop().expect("recorded");
        assert_eq!(
            recorded.auth_method.as_deref(),
            Some(PRIVATE_KEY_JWT),
            "{alg}"
        );
    }
}

#[tokio::test]
async fn the_key_is_picked_by_kid_among_several() {
    let rsa = generate_signing_key("RS256").expect("rsa");
    let ec = generate_signing_key("ES256").expect("ec");
    let other_ec = generate_signing_key("ES256").expect("ec 2");
    let server = start_with(vec![private_key_client(&[&rsa, &ec, &other_ec])]).await;
    for key in [&rsa, &ec, &other_ec] {
        let jwt = assertion::assertion(PK_ID, &server.token_url(), Signer::Key(key));
        assert_token_for(&server, &post_assertion(&server, &jwt, &[]).await, PK_ID);
    }
    // Without kid, the second EC key is found after the first fails.
    let jwt = sign(
        &json!({"alg": "ES256"}),
        &claims(PK_ID, &server.token_url()),
        Signer::Key(&other_ec),
    );
    assert_token_for(&server, &post_assertion(&server, &jwt, &[]).await, PK_ID);
}

#[tokio::test]
async fn aud_may_be_the_token_endpoint_the_issuer_or_an_array_with_one() {
    let server = start_with(vec![secret_jwt_client()]).await;
    let signer = Signer::Secret(JWT_SECRET);
    for aud in [
        json!(server.token_url()),
        json!(server.issuer()),
        json!(["https://elsewhere.example", server.token_url()]),
    ] {
        let mut c = claims(JWT_ID, "");
        c["aud"] = aud.clone();
        let resp = post_assertion(&server, &sign(&header(signer), &c, signer), &[]).await;
        assert_eq!(resp.status, 200, "aud {aud}: {}", resp.body);
    }
    for aud in [
        json!("https://elsewhere.example/oauth2/token"),
        json!(format!("{}/", server.token_url())),
        json!([]),
        json!(42),
    ] {
        let mut c = claims(JWT_ID, "");
        c["aud"] = aud.clone();
        let resp = post_assertion(&server, &sign(&header(signer), &c, signer), &[]).await;
        let d = resp.assert_oauth_error(401, "invalid_client");
        assert!(d.starts_with("bad aud"), "aud {aud}: {d}");
        assert!(d.contains(&server.token_url()), "{d}");
    }
}

#[tokio::test]
async fn a_client_id_field_must_equal_the_sub() {
    let server = start_with(vec![secret_jwt_client()]).await;
    let signer = Signer::Secret(JWT_SECRET);
    let jwt = assertion::assertion(JWT_ID, &server.token_url(), signer);
    let resp = post_assertion(&server, &jwt, &[("client_id", JWT_ID)]).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let jwt = assertion::assertion(JWT_ID, &server.token_url(), signer);
    let resp = post_assertion(&server, &jwt, &[("client_id", "someone-else")]).await;
    let d = resp.assert_oauth_error(401, "invalid_client");
    assert_eq!(
        d,
        "the client_id parameter names a different client than the client_assertion sub"
    );
}

#[tokio::test]
async fn a_wrong_secret_or_key_does_not_verify() {
    let key = generate_signing_key("ES256").expect("key");
    let impostor = generate_signing_key("ES256").expect("other key");
    let server = start_with(vec![secret_jwt_client(), private_key_client(&[&key])]).await;
    let url = server.token_url();

    let jwt = assertion::assertion(JWT_ID, &url, Signer::Secret("not-the-secret"));
    let d = post_assertion(&server, &jwt, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert_eq!(
        d,
        "client_assertion signature does not verify with the client secret (HS256)"
    );

    // Another key, claiming the registered key's kid.
    let jwt = sign(
        &header(Signer::Key(&key)),
        &claims(PK_ID, &url),
        Signer::Key(&impostor),
    );
    let d = post_assertion(&server, &jwt, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert_eq!(
        d,
        format!(
            "client_assertion signature does not verify with key \"{}\" (ES256)",
            key.kid
        )
    );

    // Another key under its own kid, which is not registered.
    let jwt = assertion::assertion(PK_ID, &url, Signer::Key(&impostor));
    let d = post_assertion(&server, &jwt, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert!(d.starts_with("unknown kid: no key with kid"), "{d}");

    // No kid, no registered key verifies.
    let jwt = sign(
        &json!({"alg": "ES256"}),
        &claims(PK_ID, &url),
        Signer::Key(&impostor),
    );
    let d = post_assertion(&server, &jwt, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert_eq!(
        d,
        "client_assertion signature does not verify with any registered ES256 key"
    );

    // A tampered payload breaks a good signature.
    let jwt = assertion::assertion(PK_ID, &url, Signer::Key(&key));
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let mut c = claims(PK_ID, &url);
    c["sub"] = json!(PK_ID);
    parts[1] = base64_url(&c.to_string());
    let d = post_assertion(&server, &parts.join("."), &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert!(d.contains("does not verify"), "{d}");
    assert_eq!(server.tokens_issued(), 0);
}

fn base64_url(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn an_rsa_key_cannot_verify_an_ec_alg_and_vice_versa() {
    let rsa = generate_signing_key("RS256").expect("rsa");
    let server = start_with(vec![private_key_client(&[&rsa])]).await;
    // The header claims ES256 under the RSA key's kid.
    let jwt = sign(
        &json!({"alg": "ES256", "kid": rsa.kid}),
        &claims(PK_ID, &server.token_url()),
        Signer::Key(&rsa),
    );
    let d = post_assertion(&server, &jwt, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert_eq!(
        d,
        format!("the registered key \"{}\" cannot verify alg ES256", rsa.kid)
    );
    // The registered JWK says RS256, so PS256 with it is refused too.
    let jwt = sign(
        &json!({"alg": "PS256", "kid": rsa.kid}),
        &claims(PK_ID, &server.token_url()),
        Signer::Key(&rsa),
    );
    let d = post_assertion(&server, &jwt, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert!(d.contains("cannot verify alg PS256"), "{d}");
}

#[tokio::test]
async fn algorithms_outside_the_list_are_refused() {
    let server = start_with(vec![secret_jwt_client()]).await;
    for alg in ["none", "HS512", "RS384", "EdDSA"] {
        let jwt = sign(
            &json!({"alg": alg}),
            &claims(JWT_ID, &server.token_url()),
            Signer::Secret(JWT_SECRET),
        );
        let d = post_assertion(&server, &jwt, &[])
            .await
            .assert_oauth_error(401, "invalid_client");
        assert_eq!(
            d,
            format!(
                "client_assertion alg \"{alg}\" is not allowed (allowed: HS256, RS256, PS256, ES256)"
            )
        );
    }
    // An unsigned token ("alg": "none", empty signature) is refused the same way.
    let unsigned = format!(
        "{}.{}.",
        base64_url(r#"{"alg":"none"}"#),
        base64_url(&claims(JWT_ID, &server.token_url()).to_string())
    );
    post_assertion(&server, &unsigned, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
}

/// Signs `claims` changed by `edit` for the client_secret_jwt client and returns the description.
async fn refused_with(server: &MockServer, edit: impl FnOnce(&mut Value)) -> String {
    let signer = Signer::Secret(JWT_SECRET);
    let mut c = claims(JWT_ID, &server.token_url());
    edit(&mut c);
    post_assertion(server, &sign(&header(signer), &c, signer), &[])
        .await
        .assert_oauth_error(401, "invalid_client")
}

#[tokio::test]
async fn time_claims_are_checked_with_five_seconds_of_leeway() {
    let server = start_with(vec![secret_jwt_client()]).await;
    let d = refused_with(&server, |c| c["exp"] = json!(now() - 60)).await;
    assert!(d.starts_with("client_assertion expired at"), "{d}");
    let d = refused_with(&server, |c| {
        c.as_object_mut().expect("object").remove("exp");
    })
    .await;
    assert_eq!(d, "client_assertion has no exp claim");
    let d = refused_with(&server, |c| c["exp"] = json!(now() + 3600)).await;
    assert!(d.ends_with("at most 600 s are allowed"), "{d}");
    let d = refused_with(&server, |c| c["iat"] = json!(now() + 120)).await;
    assert!(d.contains("iat") && d.contains("in the future"), "{d}");
    let d = refused_with(&server, |c| c["nbf"] = json!(now() + 120)).await;
    assert!(d.starts_with("client_assertion is not valid before"), "{d}");
    let d = refused_with(&server, |c| c["exp"] = json!("tomorrow")).await;
    assert_eq!(d, "client_assertion exp is not a number");

    // Within the leeway: just expired, or iat slightly ahead, is still fine.
    let signer = Signer::Secret(JWT_SECRET);
    let mut c = claims(JWT_ID, &server.token_url());
    c["exp"] = json!(now() - 1);
    c["iat"] = json!(now() - 30);
    let resp = post_assertion(&server, &sign(&header(signer), &c, signer), &[]).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let mut c = claims(JWT_ID, &server.token_url());
    c["iat"] = json!(now() + 1);
    c["exp"] = json!(now() + 590);
    let resp = post_assertion(&server, &sign(&header(signer), &c, signer), &[]).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
}

#[tokio::test]
async fn issuer_subject_and_jti_are_required() {
    let server = start_with(vec![secret_jwt_client()]).await;
    let d = refused_with(&server, |c| c["iss"] = json!("someone-else")).await;
    assert_eq!(
        d,
        "client_assertion iss must be the client_id (and equal sub)"
    );
    let d = refused_with(&server, |c| {
        c.as_object_mut().expect("object").remove("jti");
    })
    .await;
    assert_eq!(d, "client_assertion has no jti claim");
    let d = refused_with(&server, |c| {
        c.as_object_mut().expect("object").remove("sub");
    })
    .await;
    assert_eq!(d, "client_assertion has no sub claim");
    let d = refused_with(&server, |c| c["sub"] = json!("nobody")).await;
    assert_eq!(d, "unknown client");
}

#[tokio::test]
async fn a_replayed_jti_is_refused() {
    let key = generate_signing_key("PS256").expect("key");
    let server = start_with(vec![private_key_client(&[&key])]).await;
    let jwt = assertion::assertion(PK_ID, &server.token_url(), Signer::Key(&key));
    assert_token_for(&server, &post_assertion(&server, &jwt, &[]).await, PK_ID);
    let d = post_assertion(&server, &jwt, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert!(d.contains("was already used (replay)"), "{d}");
    // The same jti in a new assertion is a replay too; a reset does not forget it.
    server.reset();
    let mut c = claims(PK_ID, &server.token_url());
    c["jti"] = json!(decode_jwt(&jwt).1["jti"]);
    let again = sign(&header(Signer::Key(&key)), &c, Signer::Key(&key));
    post_assertion(&server, &again, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert_eq!(server.tokens_issued(), 0);
}

#[tokio::test]
async fn a_method_the_client_is_not_registered_for_is_refused() {
    let key = generate_signing_key("ES256").expect("key");
    let server = start_with(vec![RegisteredClient::demo(), private_key_client(&[&key])]).await;
    // The demo client has a secret but is registered for Basic and post only.
    let jwt = assertion::assertion(DEMO_ID, &server.token_url(), Signer::Secret(DEMO_SECRET));
    let d = post_assertion(&server, &jwt, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert_eq!(
        d,
        "this client is not allowed to authenticate with client_secret_jwt"
    );
    assert_eq!(
        server
            .requests()
            .pop()
            .expect("recorded")
            .auth_method
            .as_deref(),
        Some(CLIENT_SECRET_JWT)
    );
    // A private_key_jwt client cannot fall back to a secret it does not have.
    let jwt = assertion::assertion(PK_ID, &server.token_url(), Signer::Secret("guess"));
    let d = post_assertion(&server, &jwt, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert_eq!(
        d,
        "this client is not allowed to authenticate with client_secret_jwt"
    );
    let resp = post_form(
        &server,
        None,
        &[CC, ("client_id", PK_ID), ("client_secret", "guess")],
    )
    .await;
    assert_eq!(
        resp.assert_oauth_error(401, "invalid_client"),
        "this client is not allowed to authenticate with client_secret_post"
    );
}

#[tokio::test]
async fn a_method_the_server_does_not_offer_is_refused() {
    let key = generate_signing_key("RS256").expect("key");
    let server = MockServer::start(MockConfig {
        clients: vec![secret_jwt_client(), private_key_client(&[&key])],
        auth_methods_supported: Some(vec![
            CLIENT_SECRET_BASIC.into(),
            CLIENT_SECRET_POST.into(),
            PRIVATE_KEY_JWT.into(),
        ]),
        ..MockConfig::default()
    })
    .await
    .expect("starts");
    assert_eq!(
        server.metadata()["token_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    let jwt = assertion::assertion(JWT_ID, &server.token_url(), Signer::Secret(JWT_SECRET));
    let d = post_assertion(&server, &jwt, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert_eq!(
        d,
        "client_secret_jwt is not supported by this server (it supports client_secret_basic, client_secret_post, private_key_jwt)"
    );
    // The offered one still works.
    let jwt = assertion::assertion(PK_ID, &server.token_url(), Signer::Key(&key));
    assert_token_for(&server, &post_assertion(&server, &jwt, &[]).await, PK_ID);
}

#[tokio::test]
async fn two_methods_at_once_are_invalid_request() {
    let server = start_with(vec![secret_jwt_client().with_auth_methods([
        CLIENT_SECRET_JWT,
        CLIENT_SECRET_BASIC,
        CLIENT_SECRET_POST,
    ])])
    .await;
    let jwt = assertion::assertion(JWT_ID, &server.token_url(), Signer::Secret(JWT_SECRET));
    let pairs = [
        CC,
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", jwt.as_str()),
    ];
    let resp = post_form(&server, Some(&basic(JWT_ID, JWT_SECRET)), &pairs).await;
    assert_eq!(
        resp.assert_oauth_error(400, "invalid_request"),
        "more than one client authentication method used (Authorization header and client_assertion)"
    );
    let resp = post_assertion(&server, &jwt, &[("client_secret", JWT_SECRET)]).await;
    assert_eq!(
        resp.assert_oauth_error(400, "invalid_request"),
        "more than one client authentication method used (client_secret parameter and client_assertion)"
    );
    assert_eq!(server.tokens_issued(), 0);
}

#[tokio::test]
async fn malformed_assertion_requests_say_what_is_wrong() {
    let server = start_with(vec![secret_jwt_client()]).await;
    let jwt = assertion::assertion(JWT_ID, &server.token_url(), Signer::Secret(JWT_SECRET));
    let resp = post_form(&server, None, &[CC, ("client_assertion", &jwt)]).await;
    assert_eq!(
        resp.assert_oauth_error(400, "invalid_request"),
        "client_assertion given without client_assertion_type"
    );
    let resp = post_form(&server, None, &[CC, ("client_assertion_type", JWT_BEARER)]).await;
    assert_eq!(
        resp.assert_oauth_error(400, "invalid_request"),
        "client_assertion_type given without client_assertion"
    );
    let resp = post_form(
        &server,
        None,
        &[
            CC,
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            ),
            ("client_assertion", &jwt),
        ],
    )
    .await;
    let d = resp.assert_oauth_error(401, "invalid_client");
    assert!(d.starts_with("unsupported client_assertion_type"), "{d}");
    for (bad, expected) in [
        (
            "not-a-jwt",
            "client_assertion is not a compact JWS (three base64url parts separated by dots)",
        ),
        (
            "a.b.c.d",
            "client_assertion is not a compact JWS (three base64url parts separated by dots)",
        ),
        ("!!.e30.AA", "client_assertion header is not base64url"),
        ("e30.e30.AA", "client_assertion header has no alg"),
        ("W10.e30.AA", "client_assertion header is not a JSON object"),
    ] {
        let d = post_assertion(&server, bad, &[])
            .await
            .assert_oauth_error(401, "invalid_client");
        assert_eq!(d, expected, "{bad}");
    }
}
