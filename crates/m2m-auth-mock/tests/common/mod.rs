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
