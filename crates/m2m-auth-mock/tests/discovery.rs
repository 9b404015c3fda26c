//! RFC 8414 metadata (at both well-known paths) and the JWKS document.

mod common;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use m2m_auth_mock::{MockConfig, MockServer, RegisteredClient};
use serde_json::json;

#[tokio::test]
async fn metadata_is_served_at_both_well_known_paths() {
    let server = start_with(vec![
        RegisteredClient {
            scopes: vec!["b".into(), "a".into()],
            ..RegisteredClient::new("one", "s1")
        },
        RegisteredClient {
            scopes: vec!["a".into(), "c".into()],
            ..RegisteredClient::new("two", "s2")
        },
    ])
    .await;
    let url = server.url();
    let expected = json!({
        "issuer": url,
        "token_endpoint": format!("{url}/oauth2/token"),
        "jwks_uri": format!("{url}/jwks"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["HS256", "RS256", "PS256", "ES256"],
        "introspection_endpoint": format!("{url}/oauth2/introspect"),
        "introspection_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported":
            ["HS256", "RS256", "PS256", "ES256"],
        "scopes_supported": ["a", "b", "c"],
        "response_types_supported": [],
    });
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let resp = get(&format!("{url}{path}")).await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("content-type"), Some("application/json"));
        assert_eq!(resp.json(), expected, "{path}");
    }
    assert_eq!(server.metadata(), expected);
    assert_eq!(server.token_url(), format!("{url}/oauth2/token"));
    assert_eq!(
        server.introspection_url(),
        format!("{url}/oauth2/introspect")
    );
    // Discovery requests are not token requests; they count as metadata requests.
    assert_eq!(server.token_requests(), 0);
    assert_eq!(server.metadata_requests(), 2);
}

#[tokio::test]
async fn jwks_publishes_the_signing_key() {
    let server = start_default().await;
    let resp = get(&server.jwks_url()).await;
    assert_eq!(resp.status, 200);
    let jwks = resp.json();
    assert_eq!(jwks, server.jwks());
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key.as_object().map(|o| o.len()), Some(7));
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    assert_eq!(key["use"], "sig");
    let x = key["x"].as_str().expect("x");
    let y = key["y"].as_str().expect("y");
    assert_eq!(URL_SAFE_NO_PAD.decode(x).expect("x").len(), 32);
    assert_eq!(URL_SAFE_NO_PAD.decode(y).expect("y").len(), 32);
    // kid is the RFC 7638 thumbprint.
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let thumbprint = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()));
    assert_eq!(key["kid"], thumbprint);

    // The published key verifies an issued token, and each server has its own key.
    let token = demo_post(&server, &[]).await.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(verify_with_jwks(&jwks, &token));
    let other = start_default().await;
    assert_ne!(other.jwks()["keys"][0]["kid"], key["kid"]);
}

#[tokio::test]
async fn a_tls_server_advertises_every_method_and_its_mtls_alias() {
    let server = tls::start_tls(vec![RegisteredClient::demo()]).await;
    let url = server.url();
    let alias = server.mtls_token_url().expect("alias");
    let expected = json!({
        "issuer": url,
        "token_endpoint": format!("{url}/oauth2/token"),
        "jwks_uri": format!("{url}/jwks"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt",
            "tls_client_auth", "self_signed_tls_client_auth",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ["HS256", "RS256", "PS256", "ES256"],
        "introspection_endpoint": format!("{url}/oauth2/introspect"),
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt",
            "tls_client_auth", "self_signed_tls_client_auth",
        ],
        "introspection_endpoint_auth_signing_alg_values_supported":
            ["HS256", "RS256", "PS256", "ES256"],
        "scopes_supported": ["payments.read", "payments.write"],
        "response_types_supported": [],
        "mtls_endpoint_aliases": {
            "token_endpoint": alias,
            "introspection_endpoint": server.mtls_introspection_url().expect("alias"),
        },
        "tls_client_certificate_bound_access_tokens": true,
    });
    let client = tls::https(&server, None);
    let alias_base = alias.trim_end_matches("/oauth2/token").to_owned();
    for base in [&url, &alias_base] {
        for path in [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ] {
            let resp = read(
                client
                    .get(format!("{base}{path}"))
                    .send()
                    .await
                    .expect("sent"),
            )
            .await;
            assert_eq!(resp.status, 200);
            assert_eq!(resp.json(), expected, "{base}{path}");
        }
    }
    assert_eq!(server.metadata(), expected);
    assert_eq!(
        server.supported_auth_methods(),
        expected["token_endpoint_auth_methods_supported"]
            .as_array()
            .expect("list")
            .iter()
            .map(|m| m.as_str().expect("str").to_owned())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn auth_methods_supported_narrows_the_advertised_list() {
    let server = MockServer::start(MockConfig {
        auth_methods_supported: Some(vec!["private_key_jwt".into(), "client_secret_basic".into()]),
        ..MockConfig::default()
    })
    .await
    .expect("starts");
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let doc = get(&format!("{}{path}", server.url())).await.json();
        // In the server's order, whatever the configuration's.
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "private_key_jwt"]),
            "{path}"
        );
        assert_eq!(doc.get("mtls_endpoint_aliases"), None);
        assert_eq!(doc.get("tls_client_certificate_bound_access_tokens"), None);
    }
    // The demo client is registered for client_secret_post, but the server no longer offers it.
    let d = demo_post(&server, &[])
        .await
        .assert_oauth_error(401, "invalid_client");
    assert_eq!(
        d,
        "client_secret_post is not supported by this server (it supports client_secret_basic, private_key_jwt)"
    );
}
