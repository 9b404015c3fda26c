//! Registering clients for every method: the JSON keys and builders, and the registrations a real
//! server refuses (a secret method without a secret, private keys in a JWKS, ...).

mod common;

use m2m_auth_mock::testkeys::{generate_signing_key, self_signed_certificate};
use m2m_auth_mock::{
    CLIENT_SECRET_JWT, MockConfig, MockError, PRIVATE_KEY_JWT, RegisteredClient,
    SELF_SIGNED_TLS_CLIENT_AUTH, SUPPORTED_AUTH_METHODS, TLS_CLIENT_AUTH,
};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;
use serde_json::json;

#[test]
fn every_method_is_supported_and_the_default_stays_basic_and_post() {
    assert_eq!(
        SUPPORTED_AUTH_METHODS,
        [
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "tls_client_auth",
            "self_signed_tls_client_auth",
        ]
    );
    let config =
        MockConfig::from_json(r#"{"clients": [{"client_id": "a", "client_secret": "b"}]}"#)
            .expect("valid");
    assert_eq!(
        config.clients[0].auth_methods,
        ["client_secret_basic", "client_secret_post"]
    );
    assert!(!config.tls);
    assert_eq!(config.auth_methods_supported, None);
    assert_eq!(
        MockConfig::default().supported_auth_methods(),
        SUPPORTED_AUTH_METHODS[..4]
    );
}

#[test]
fn json_and_builders_register_the_same_clients() {
    let key = generate_signing_key("ES256").expect("key");
    let cert = self_signed_certificate("svc-self").expect("cert");
    let text = json!({
        "tls": true,
        "mtls_port": 0,
        "auth_methods_supported": ["private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"],
        "clients": [
            {"client_id": "svc-pk", "auth_methods": ["private_key_jwt"], "jwks": {"keys": [key.public_jwk]}},
            {"client_id": "svc-mtls", "auth_methods": ["tls_client_auth"],
             "tls_client_auth_subject_dn": "CN=svc-mtls,O=Acme"},
            {"client_id": "svc-self", "auth_methods": ["self_signed_tls_client_auth"],
             "jwks": {"keys": [cert.jwk]}},
            {"client_id": "svc-jwt", "client_secret": "s", "auth_methods": ["client_secret_jwt"]},
        ],
    })
    .to_string();
    let config = MockConfig::from_json(&text).expect("valid");
    let built = [
        RegisteredClient::without_secret("svc-pk")
            .with_auth_methods([PRIVATE_KEY_JWT])
            .with_jwks(json!({"keys": [key.public_jwk]})),
        RegisteredClient::without_secret("svc-mtls")
            .with_auth_methods([TLS_CLIENT_AUTH])
            .with_subject_dn("CN=svc-mtls,O=Acme"),
        RegisteredClient::without_secret("svc-self")
            .with_auth_methods([SELF_SIGNED_TLS_CLIENT_AUTH])
            .with_jwks(json!({"keys": [cert.jwk]})),
        RegisteredClient::new("svc-jwt", "s").with_auth_methods([CLIENT_SECRET_JWT]),
    ];
    assert_eq!(config.clients, built);
    assert!(config.tls);
    assert_eq!(
        config.supported_auth_methods(),
        [
            PRIVATE_KEY_JWT,
            TLS_CLIENT_AUTH,
            SELF_SIGNED_TLS_CLIENT_AUTH
        ]
    );
    // Round trip through JSON, and the Debug output holds no secret.
    let again = MockConfig::from_json(&serde_json::to_string(&config).expect("json")).expect("ok");
    assert_eq!(again, config);
    assert!(!format!("{:?}", config.clients[3]).contains("\"s\""));
}

#[test]
fn registrations_a_real_server_refuses_are_config_errors() {
    let key = generate_signing_key("RS256").expect("key");
    let mut private_jwk = key.private_jwk.clone();
    private_jwk["kid"] = json!("k");
    let cert = self_signed_certificate("x").expect("cert");
    let mut no_x5c = cert.jwk.clone();
    no_x5c.as_object_mut().expect("object").remove("x5c");
    let cases = [
        (
            json!({"clients": [{"client_id": "a"}]}),
            "clients[0].client_secret: missing field `client_secret`, which client_secret_basic needs",
        ),
        (
            json!({"clients": [{"client_id": "a", "auth_methods": ["client_secret_jwt"]}]}),
            "which client_secret_jwt needs",
        ),
        (
            json!({"clients": [{"client_id": "a", "auth_methods": ["private_key_jwt"]}]}),
            "auth_methods has private_key_jwt but jwks holds no key",
        ),
        (
            json!({"clients": [{"client_id": "a", "auth_methods": ["private_key_jwt"],
                                "jwks": {"keys": [private_jwk]}}]}),
            "jwks: keys[0]: holds the private member \"d\"; register public keys only",
        ),
        (
            json!({"clients": [{"client_id": "a", "auth_methods": ["private_key_jwt"],
                                "jwks": {"keys": [{"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}]}}]}),
            "only EC keys on crv \"P-256\" are supported",
        ),
        (
            json!({"clients": [{"client_id": "a", "auth_methods": ["private_key_jwt"], "jwks": []}]}),
            "a JWK Set must be an object with a \"keys\" array",
        ),
        (
            json!({"clients": [{"client_id": "a", "auth_methods": ["tls_client_auth"]}]}),
            "auth_methods has tls_client_auth but tls_client_auth_subject_dn is not set",
        ),
        (
            json!({"clients": [{"client_id": "a", "auth_methods": ["tls_client_auth"],
                                "tls_client_auth_subject_dn": "svc-without-equals"}]}),
            "tls_client_auth_subject_dn: attribute without '='",
        ),
        (
            json!({"clients": [{"client_id": "a", "auth_methods": ["self_signed_tls_client_auth"],
                                "jwks": {"keys": [no_x5c]}}]}),
            "but no jwks key has an x5c certificate",
        ),
        (
            json!({"auth_methods_supported": ["tls_client_auth"]}),
            "auth_methods_supported: tls_client_auth needs a client certificate, so `tls: true`",
        ),
        (
            json!({"auth_methods_supported": ["client_secret_magic"]}),
            "auth_methods_supported: unknown method \"client_secret_magic\"",
        ),
        (
            json!({"auth_methods_supported": []}),
            "auth_methods_supported must name at least one method",
        ),
        (json!({"tls": "yes"}), "invalid type"),
    ];
    for (config, expected) in cases {
        let error = MockConfig::from_json(&config.to_string()).expect_err(expected);
        assert!(matches!(error, MockError::Config(_)));
        let message = error.to_string();
        assert!(message.contains(expected), "{config}: {message}");
    }
}

#[test]
fn generated_keys_come_in_every_form_a_client_reads() {
    for alg in ["RS256", "PS256", "ES256"] {
        let key = generate_signing_key(alg).expect("key");
        assert_eq!(key.alg, alg);
        assert_eq!(key.public_jwk["kid"], key.kid);
        assert_eq!(key.private_jwk["kid"], key.kid);
        assert_eq!(key.public_jwk["alg"], alg);
        assert_eq!(key.public_jwk["use"], "sig");
        assert!(key.public_jwk.get("d").is_none() && key.private_jwk.get("d").is_some());
        match PrivateKeyDer::from_pem_slice(key.pkcs8_pem.as_bytes()).expect("PKCS#8 PEM") {
            PrivateKeyDer::Pkcs8(der) => assert_eq!(der.secret_pkcs8_der(), key.pkcs8_der),
            other => panic!("{alg}: not PKCS#8: {other:?}"),
        }
        let traditional =
            PrivateKeyDer::from_pem_slice(key.traditional_pem.as_bytes()).expect("traditional PEM");
        match (alg, traditional) {
            ("ES256", PrivateKeyDer::Sec1(_)) | ("RS256" | "PS256", PrivateKeyDer::Pkcs1(_)) => {}
            (_, other) => panic!("{alg}: wrong traditional form {other:?}"),
        }
        // Debug output never shows private material.
        let debug = format!("{key:?}");
        assert!(
            !debug.contains("PRIVATE")
                && !debug.contains(key.private_jwk["d"].as_str().expect("d"))
        );
    }
    // Keys are fresh each time.
    let a = generate_signing_key("ES256").expect("a");
    let b = generate_signing_key("ES256").expect("b");
    assert_ne!(a.kid, b.kid);
    assert!(matches!(
        generate_signing_key("HS256"),
        Err(MockError::Generate(_))
    ));
}

#[test]
fn self_signed_certificates_carry_their_jwk_and_thumbprint() {
    let cert = self_signed_certificate("CN=svc-self,O=Acme").expect("cert");
    assert!(cert.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(common::tls::cert_der(&cert.cert_pem), cert.cert_der);
    assert_eq!(cert.x5t_s256, common::tls::x5t_s256(&cert.cert_der));
    assert_eq!(cert.jwk["kty"], "EC");
    assert_eq!(cert.jwk["x5t#S256"], cert.x5t_s256);
    assert!(matches!(
        PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()),
        Ok(PrivateKeyDer::Pkcs8(_))
    ));
    assert!(!format!("{cert:?}").contains("PRIVATE"));
}
