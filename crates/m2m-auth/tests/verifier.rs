//! The Verifier against the mock server's tokens and against a JWKS server of the test's own (its keys, its
//! answers, its request count): valid tokens verify; every kind of bad token is a 401 with its reason; unknown
//! kids cost one JWKS request per cooldown; rotated keys verify after one refetch; a JWKS that went down
//! keeps the last good keys; one that never answered is a 503; tokens seen before skip the signature but not
//! the clock; certificate-bound tokens need their certificate.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use m2m_auth::{Rejection, Verifier};
use serde_json::{Value, json};

fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

/// An ES256 key with its kid.
struct Key {
    pair: EcdsaKeyPair,
    kid: String,
}

impl Key {
    fn new(kid: &str) -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .expect("key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("key");
        Self {
            pair,
            kid: kid.into(),
        }
    }

    fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig",
               "x": b64u(&point[1..33]), "y": b64u(&point[33..])})
    }

    fn sign(&self, header: Value, claims: Value) -> String {
        let input = format!(
            "{}.{}",
            b64u(header.to_string().as_bytes()),
            b64u(claims.to_string().as_bytes())
        );
        let sig = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("sign");
        format!("{input}.{}", b64u(sig.as_ref()))
    }

    fn token(&self, claims: Value) -> String {
        self.sign(
            json!({"alg": "ES256", "kid": self.kid, "typ": "at+jwt"}),
            claims,
        )
    }
}

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "https://api.example";

fn claims() -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "svc", "client_id": "svc", "scope": "read write",
           "iat": now(), "exp": now() + 300.0})
}

/// A JWKS endpoint on 127.0.0.1 the test controls.
#[derive(Clone, Default)]
struct Keys {
    jwks: Arc<Mutex<Value>>,
    requests: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
}

async fn serve_jwks(State(keys): State<Keys>) -> Response {
    keys.requests.fetch_add(1, Ordering::SeqCst);
    if keys.down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "<html>down</html>").into_response();
    }
    Json(keys.jwks.lock().unwrap().clone()).into_response()
}

async fn jwks_server(keys: &[&Key]) -> (Keys, String) {
    let state = Keys::default();
    *state.jwks.lock().unwrap() = json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()});
    let app = axum::Router::new()
        .route("/jwks", axum::routing::get(serve_jwks))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (state, format!("http://{addr}/jwks"))
}

fn verifier(jwks_url: &str) -> m2m_auth::VerifierBuilder {
    Verifier::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .jwks_url(jwks_url)
}

fn description(r: &Rejection) -> &str {
    r.description()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_the_mock_server_verifies_through_its_metadata() {
    let server = common::mock(false).await;
    let token = common::demo(&server).token().await.expect("token");
    let verifier = Verifier::builder()
        .issuer(server.issuer())
        .audience(server.api_audience())
        .build()
        .expect("verifier");
    let claims = verifier
        .verify(token.access_token(), None)
        .await
        .expect("valid");
    assert_eq!(claims.client_id.as_deref(), Some("demo-client"));
    assert_eq!(claims.issuer, server.issuer());
    assert!(claims.expires_at > now());
    let other = Verifier::builder()
        .issuer(server.issuer())
        .audience("https://other.example")
        .build()
        .expect("v");
    let e = other
        .verify(token.access_token(), None)
        .await
        .expect_err("another audience");
    assert_eq!((e.status(), e.error_code()), (401, Some("invalid_token")));
    assert!(description(&e).contains("audience"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_bad_token_is_a_401_that_says_why() {
    let key = Key::new("k1");
    let (_, url) = jwks_server(&[&key]).await;
    let verifier = verifier(&url).build().expect("verifier");
    let mut tampered_payload: Vec<String> =
        key.token(claims()).split('.').map(str::to_owned).collect();
    let mut admin = claims();
    admin["sub"] = json!("admin");
    tampered_payload[1] = b64u(admin.to_string().as_bytes());
    let mut tampered_signature: Vec<String> =
        key.token(claims()).split('.').map(str::to_owned).collect();
    tampered_signature[2] = b64u(&[7u8; 64]);
    let none = format!(
        "{}.{}.",
        b64u(br#"{"alg":"none"}"#),
        b64u(claims().to_string().as_bytes())
    );
    // HS256 "signed" with the public key's bytes: the classic confusion.
    let hs256 = format!(
        "{}.{}.{}",
        b64u(br#"{"alg":"HS256","kid":"k1"}"#),
        b64u(claims().to_string().as_bytes()),
        b64u(b"mac")
    );
    let with = |change: Value| {
        let mut c = claims();
        for (k, v) in change.as_object().expect("object") {
            c[k] = v.clone();
        }
        key.token(c)
    };
    let cases = [
        (with(json!({"exp": now() - 60.0})), "expired"),
        (with(json!({"nbf": now() + 120.0})), "not valid yet"),
        (with(json!({"iss": "https://evil.example"})), "issuer"),
        (with(json!({"aud": ["https://other.example"]})), "audience"),
        (tampered_payload.join("."), "signature does not verify"),
        (tampered_signature.join("."), "signature does not verify"),
        (none, "not accepted"),
        (hs256, "not accepted"),
        ("not-a-jwt".to_owned(), "not a JWT"),
        (Key::new("k1").token(claims()), "signature does not verify"),
    ];
    for (token, says) in cases {
        let e = verifier.verify(&token, None).await.expect_err(says);
        assert_eq!(e.status(), 401, "{says}: {e}");
        assert!(description(&e).contains(says), "{says}: {e}");
        assert!(
            !e.to_string().contains(&token) && !e.www_authenticate(None).contains(&token),
            "no token in the error"
        );
    }
    // An audience array with ours in it passes.
    let claims = verifier
        .verify(&with(json!({"aud": ["x", AUDIENCE]})), None)
        .await
        .expect("valid");
    assert_eq!(claims.scopes, ["read", "write"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storm_of_unknown_kids_costs_one_jwks_request_per_cooldown() {
    let key = Key::new("k1");
    let (state, url) = jwks_server(&[&key]).await;
    let verifier = verifier(&url)
        .jwks_cooldown(Duration::from_millis(300))
        .build()
        .expect("verifier");
    verifier
        .verify(&key.token(claims()), None)
        .await
        .expect("valid");
    assert_eq!(state.requests.load(Ordering::SeqCst), 1);
    // Within the cooldown of that fetch, an unknown kid costs nothing.
    let e = verifier
        .verify(&Key::new("early").token(claims()), None)
        .await
        .expect_err("unknown kid");
    assert_eq!(e.status(), 401);
    assert_eq!(
        state.requests.load(Ordering::SeqCst),
        1,
        "the cooldown since the first fetch"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    let strangers: Vec<String> = (0..200)
        .map(|i| Key::new(&format!("unknown-{i}")).token(claims()))
        .collect();
    let calls: Vec<_> = strangers
        .into_iter()
        .map(|t| {
            let v = verifier.clone();
            tokio::spawn(async move { v.verify(&t, None).await })
        })
        .collect();
    for call in calls {
        let e = call.await.expect("task").expect_err("unknown kid");
        assert_eq!(e.status(), 401);
        assert!(
            description(&e).contains("no key of the issuer has kid"),
            "{e}"
        );
    }
    assert_eq!(
        state.requests.load(Ordering::SeqCst),
        2,
        "one refetch for all 200, then the cooldown"
    );
    let e = verifier
        .verify(&Key::new("later").token(claims()), None)
        .await
        .expect_err("unknown kid");
    assert_eq!(e.status(), 401);
    assert_eq!(
        state.requests.load(Ordering::SeqCst),
        2,
        "still within the cooldown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_keys_verify_after_one_refetch_and_a_jwks_gone_down_keeps_the_last_good_keys() {
    let (old, new) = (Key::new("old"), Key::new("new"));
    let (state, url) = jwks_server(&[&old]).await;
    let verifier = verifier(&url)
        .jwks_cooldown(Duration::from_millis(100))
        .build()
        .expect("verifier");
    verifier
        .verify(&old.token(claims()), None)
        .await
        .expect("valid");
    *state.jwks.lock().unwrap() = json!({"keys": [new.jwk()]});
    tokio::time::sleep(Duration::from_millis(150)).await;
    verifier
        .verify(&new.token(claims()), None)
        .await
        .expect("a rotated key verifies after one refetch");
    assert_eq!(state.requests.load(Ordering::SeqCst), 2);

    state.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(150)).await;
    // A new token of the key already known: verified with the last good keys, no request needed.
    verifier
        .verify(&new.token(claims()), None)
        .await
        .expect("the last good keys still verify");
    // An unknown kid while the JWKS is down: the refetch fails and the keys stay; the token may be signed
    // with a key the verifier could not see, so it cannot decide: 503, not 401 (a client would throw a
    // good token away).
    let e = verifier
        .verify(&Key::new("other").token(claims()), None)
        .await
        .expect_err("unknown");
    assert_eq!(e.status(), 503, "{e}");
    verifier
        .verify(&new.token(claims()), None)
        .await
        .expect("still verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_that_never_answered_is_a_503_not_a_401() {
    let key = Key::new("k1");
    let (state, url) = jwks_server(&[&key]).await;
    state.down.store(true, Ordering::SeqCst);
    let verifier = verifier(&url).build().expect("verifier");
    let e = verifier
        .verify(&key.token(claims()), None)
        .await
        .expect_err("no keys at all");
    assert_eq!((e.status(), e.error_code()), (503, None), "{e}");
    assert!(
        e.www_authenticate(Some("api"))
            .starts_with("Bearer realm=\"api\"")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_seen_before_skips_the_signature_but_not_the_clock() {
    let key = Key::new("k1");
    let (state, url) = jwks_server(&[&key]).await;
    let verifier = verifier(&url)
        .leeway(Duration::ZERO)
        .build()
        .expect("verifier");
    let mut short = claims();
    short["exp"] = json!(now() + 1.5);
    let token = key.token(short);
    for _ in 0..1000 {
        verifier.verify(&token, None).await.expect("valid");
    }
    assert_eq!(state.requests.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let e = verifier
        .verify(&token, None)
        .await
        .expect_err("expired since");
    assert!(description(&e).contains("expired"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_typ_and_certificate_binding_are_enforced() {
    let key = Key::new("k1");
    let (_, url) = jwks_server(&[&key]).await;
    let needs_write = verifier(&url)
        .required_scopes(vec!["write".into(), "admin".into()])
        .build()
        .expect("v");
    let e = needs_write
        .verify(&key.token(claims()), None)
        .await
        .expect_err("no admin");
    assert_eq!(
        (e.status(), e.error_code()),
        (403, Some("insufficient_scope"))
    );
    assert!(
        e.www_authenticate(None).contains("scope=\"write admin\""),
        "{}",
        e.www_authenticate(None)
    );
    let mut scp = claims();
    scp.as_object_mut().expect("object").remove("scope");
    scp["scp"] = json!(["write", "admin"]);
    needs_write
        .verify(&key.token(scp), None)
        .await
        .expect("scp array, as SecureAuth issues it");

    let strict = verifier(&url).strict_typ(true).build().expect("v");
    let jwt_typ = key.sign(json!({"alg": "ES256", "kid": "k1", "typ": "JWT"}), claims());
    assert!(
        description(&strict.verify(&jwt_typ, None).await.expect_err("typ JWT")).contains("at+jwt")
    );
    verifier(&url)
        .build()
        .expect("v")
        .verify(&jwt_typ, None)
        .await
        .expect("typ JWT is fine unless strict");

    let cert = b"the DER of the client's certificate";
    let mut bound = claims();
    bound["cnf"] = json!({"x5t#S256": b64u(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert).as_ref())});
    let token = key.token(bound);
    let plain = verifier(&url).build().expect("v");
    plain
        .verify(&token, Some(cert))
        .await
        .expect("its certificate");
    let e = plain
        .verify(&token, None)
        .await
        .expect_err("no certificate");
    assert!(description(&e).contains("came without one"), "{e}");
    let e = plain
        .verify(&token, Some(b"another certificate"))
        .await
        .expect_err("another certificate");
    assert!(
        description(&e).contains("another client certificate"),
        "{e}"
    );
}

#[test]
fn a_verifier_needs_an_issuer_and_an_audience_and_known_algorithms() {
    let field = |e: m2m_auth::Error| match e {
        m2m_auth::Error::Config { field, .. } => field,
        other => panic!("not a ConfigError: {other}"),
    };
    assert_eq!(
        field(
            Verifier::builder()
                .audience("a")
                .build()
                .expect_err("no issuer")
        ),
        "issuer"
    );
    assert_eq!(
        field(
            Verifier::builder()
                .issuer(ISSUER)
                .build()
                .expect_err("no audience")
        ),
        "audience"
    );
    let e = Verifier::builder()
        .issuer(ISSUER)
        .audience("a")
        .algorithms(vec!["HS256".into()])
        .build();
    assert_eq!(field(e.expect_err("HS256")), "algorithms");
}
