//! Helpers shared by the integration tests. Each test binary uses a different subset, so unused
//! ones are expected.
#![allow(dead_code)]

pub mod assertion;
pub mod tls;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use m2m_auth_mock::{MockConfig, MockServer, RegisteredClient};
use reqwest::header::HeaderMap;
use serde_json::Value;

pub const DEMO_ID: &str = "demo-client";
pub const DEMO_SECRET: &str = "demo-secret";
pub const FORM: &str = "application/x-www-form-urlencoded";
/// The grant every token request here asks for.
pub const CC: (&str, &str) = ("grant_type", "client_credentials");

pub async fn start_default() -> MockServer {
    MockServer::start(MockConfig::default())
        .await
        .expect("mock server starts")
}

pub async fn start_with(clients: Vec<RegisteredClient>) -> MockServer {
    MockServer::start(MockConfig {
        clients,
        ..MockConfig::default()
    })
    .await
    .expect("mock server starts")
}

/// A client that never goes through a proxy (only 127.0.0.1 is reachable anyway).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

/// application/x-www-form-urlencoded body from pairs (order and repeats kept).
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// `Basic base64(urlencode(id):urlencode(secret))`, as RFC 6749 §2.3.1 prescribes.
pub fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

/// A response read in full.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an OAuth error response and returns its description.
    pub fn assert_oauth_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "status of {}", self.body);
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(self.header("cache-control"), Some("no-store"));
        let json = self.json();
        assert_eq!(json["error"], code, "body {}", self.body);
        let obj = json.as_object().expect("object");
        assert_eq!(
            obj.len(),
            2,
            "only error and error_description: {}",
            self.body
        );
        if status == 401 {
            assert_eq!(
                self.header("www-authenticate"),
                Some(r#"Basic realm="m2m-auth-mock""#)
            );
        } else {
            assert_eq!(self.header("www-authenticate"), None);
        }
        json["error_description"]
            .as_str()
            .expect("description is a string")
            .to_owned()
    }
}

pub async fn read(resp: reqwest::Response) -> Resp {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.expect("body");
    Resp {
        status,
        headers,
        body,
    }
}

/// POSTs a form to `url` with `client` (e.g. an HTTPS client with a certificate).
pub async fn post_form_with(
    client: &reqwest::Client,
    url: &str,
    authorization: Option<&str>,
    pairs: &[(&str, &str)],
) -> Resp {
    let mut req = client
        .post(url)
        .header("content-type", FORM)
        .body(form(pairs));
    if let Some(auth) = authorization {
        req = req.header("authorization", auth);
    }
    read(req.send().await.expect("request sent")).await
}

/// POSTs `body` to the token endpoint with the given content type and Authorization header.
pub async fn post_raw(
    server: &MockServer,
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Resp {
    let mut req = http().post(server.token_url()).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(auth) = authorization {
        req = req.header("authorization", auth);
    }
    read(req.send().await.expect("request sent")).await
}

/// POSTs a form to the token endpoint.
pub async fn post_form(
    server: &MockServer,
    authorization: Option<&str>,
    pairs: &[(&str, &str)],
) -> Resp {
    post_raw(server, Some(FORM), authorization, form(pairs)).await
}

/// A successful client_secret_post request for the demo client, plus `extra` parameters.
pub async fn demo_post(server: &MockServer, extra: &[(&str, &str)]) -> Resp {
    let mut pairs = vec![
        ("grant_type", "client_credentials"),
        ("client_id", DEMO_ID),
        ("client_secret", DEMO_SECRET),
    ];
    pairs.extend_from_slice(extra);
    post_form(server, None, &pairs).await
}

pub async fn get(url: &str) -> Resp {
    read(http().get(url).send().await.expect("request sent")).await
}

pub async fn post_json(url: &str, body: &str) -> Resp {
    read(
        http()
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request sent"),
    )
    .await
}

/// The decoded JOSE header and claims of a compact JWS.
pub fn decode_jwt(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "three parts in {token}");
    let part = |s: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("base64url")).expect("json")
    };
    (part(parts[0]), part(parts[1]))
}

/// Verifies a token's ES256 signature with the key of a JWKS document, independently of the server.
pub fn verify_with_jwks(jwks: &Value, token: &str) -> bool {
    let key = &jwks["keys"][0];
    let x = URL_SAFE_NO_PAD
        .decode(key["x"].as_str().expect("x"))
        .expect("x b64");
    let y = URL_SAFE_NO_PAD
        .decode(key["y"].as_str().expect("y"))
        .expect("y b64");
    let mut point = vec![0x04];
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let Some((signing_input, sig)) = token.rsplit_once('.') else {
        return false;
    };
    let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(signing_input.as_bytes(), &sig)
        .is_ok()
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// `POST /mock/tokens` with `body`.
pub async fn mint(server: &MockServer, body: &Value) -> Resp {
    post_json(&format!("{}/mock/tokens", server.url()), &body.to_string()).await
}

/// The tokens `POST /mock/tokens` mints for `body`, checking the answer's shape.
pub async fn minted(server: &MockServer, body: &Value) -> Vec<String> {
    let resp = mint(server, body).await;
    assert_eq!(resp.status, 200, "{body}: {}", resp.body);
    let answer = resp.json();
    let tokens: Vec<String> = answer["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|t| t.as_str().expect("a string").to_owned())
        .collect();
    assert_eq!(answer["token"], tokens[0], "token is the first of tokens");
    assert_eq!(answer.as_object().map(|o| o.len()), Some(2));
    tokens
}

/// The one token `POST /mock/tokens` mints for `body`.
pub async fn mint_one(server: &MockServer, body: &Value) -> String {
    let mut tokens = minted(server, body).await;
    assert_eq!(tokens.len(), 1);
    tokens.remove(0)
}

/// POSTs a form to the introspection endpoint.
pub async fn introspect(
    server: &MockServer,
    authorization: Option<&str>,
    pairs: &[(&str, &str)],
) -> Resp {
    post_form_with(&http(), &server.introspection_url(), authorization, pairs).await
}

/// The introspection answer for `token`, asked by the demo client with Basic authentication.
pub async fn introspect_demo(server: &MockServer, token: &str) -> Value {
    let resp = introspect(
        server,
        Some(&basic(DEMO_ID, DEMO_SECRET)),
        &[("token", token)],
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    resp.json()
}

/// The SubjectPublicKeyInfo PEM of a P-256 JWK, built independently of the server: the text a
/// verifier would hold, and the HMAC key of the algorithm-confusion attack.
pub fn spki_pem(jwk: &Value) -> String {
    let coordinate = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().expect("coordinate"))
            .expect("base64url")
    };
    // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING 0x04 || x || y }.
    let mut der = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
    ];
    der.extend(coordinate("x"));
    der.extend(coordinate("y"));
    let b64 = STANDARD.encode(der);
    let (first, second) = b64.split_at(64);
    format!("-----BEGIN PUBLIC KEY-----\n{first}\n{second}\n-----END PUBLIC KEY-----\n")
}
