//! The protected resource under /api/: which tokens it accepts, its RFC 6750 answers, certificate
//! binding on the mTLS alias, the rejection budget, recording, reset and redirects.

mod common;

use common::tls::{cert_der, https, start_tls, x5t_s256};
use common::*;
use m2m_auth_mock::{
    ApiRequest, Fault, MockConfig, MockServer, OutageEndpoint, RegisteredClient, TLS_CLIENT_AUTH,
};
use serde_json::json;

const CHALLENGE: &str = r#"Bearer realm="m2m-auth-mock""#;
const MTLS_ID: &str = "svc-mtls";
const SUBJECT: &str = "CN=svc-mtls,O=Acme";

/// A token for the demo client from the token endpoint, with `extra` request parameters.
async fn demo_token(server: &MockServer, extra: &[(&str, &str)]) -> String {
    let resp = demo_post(server, extra).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    resp.json()["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// `method url` with an optional Authorization header value and body, sent with `client`.
async fn call_with(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    authorization: Option<&str>,
    body: &str,
) -> Resp {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client.request(method, url).body(body.to_owned());
    if let Some(auth) = authorization {
        req = req.header("authorization", auth);
    }
    read(req.send().await.expect("request sent")).await
}

/// GET `url` over plain HTTP with `Bearer <token>`.
async fn get_with_token(url: &str, token: &str) -> Resp {
    call_with(&http(), "GET", url, Some(&format!("Bearer {token}")), "").await
}

/// Asserts a 401 `invalid_token` and returns its description, checking the challenge and the body
/// say the same.
fn assert_invalid_token(resp: &Resp) -> String {
    assert_error(resp, 401, "invalid_token")
}

fn assert_error(resp: &Resp, status: u16, code: &str) -> String {
    assert_eq!(resp.status, status, "{}", resp.body);
    let body = resp.json();
    assert_eq!(body["ok"], false);
    assert_eq!(body["error"], code, "{}", resp.body);
    let description = body["error_description"]
        .as_str()
        .expect("description")
        .to_owned();
    // The challenge's quoted string holds no `"` or `\` (RFC 6750 §3): they become `'` and `/`.
    let quoted = description.replace('"', "'").replace('\\', "/");
    assert_eq!(
        resp.header("www-authenticate").expect("a challenge"),
        format!(r#"{CHALLENGE}, error="{code}", error_description="{quoted}""#)
    );
    description
}

fn assert_plain_challenge(resp: &Resp) {
    assert_eq!(resp.status, 401, "{}", resp.body);
    assert_eq!(resp.header("www-authenticate"), Some(CHALLENGE));
    let body = resp.json();
    assert_eq!(body["ok"], false);
    assert_eq!(body["error"], serde_json::Value::Null);
}

fn outcomes(server: &MockServer) -> Vec<String> {
    server
        .api_requests()
        .into_iter()
        .map(|r| r.outcome)
        .collect()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[tokio::test]
async fn a_valid_token_is_served_with_what_the_api_saw() {
    let server = start_default().await;
    assert_eq!(server.api_url(), format!("{}/api", server.url()));
    assert_eq!(server.mtls_api_url(), None);
    assert_eq!(server.api_audience(), server.issuer());
    let token = demo_token(&server, &[]).await;
    let url = format!("{}/payments/7?limit=2&x=%C3%A9", server.api_url());
    let resp = call_with(
        &http(),
        "POST",
        &url,
        Some(&format!("Bearer {token}")),
        r#"{"amount": "10 €"}"#,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.header("www-authenticate"), None);
    assert_eq!(
        resp.json(),
        json!({
            "ok": true,
            "sub": DEMO_ID,
            "scope": "payments.read payments.write",
            "method": "POST",
            "path": "/api/payments/7",
            "query": "limit=2&x=%C3%A9",
            "body": r#"{"amount": "10 €"}"#,
            "bound": false,
        })
    );

    // Any method, the scheme in any case, and the root of the API.
    for (method, scheme, url) in [
        ("PUT", "bearer", format!("{}/a/b/c", server.api_url())),
        ("DELETE", "BEARER", server.api_url()),
        ("PATCH", "Bearer", format!("{}/", server.api_url())),
        ("GET", "bEaReR", format!("{}/x", server.api_url())),
    ] {
        let auth = format!("{scheme} {token}");
        let resp = call_with(&http(), method, &url, Some(&auth), "").await;
        assert_eq!(resp.status, 200, "{method} {url}: {}", resp.body);
        let body = resp.json();
        assert_eq!(body["method"], method);
        assert_eq!(body["query"], "");
        assert_eq!(body["body"], "");
    }
    assert_eq!(server.api_request_count(), 5);
    assert!(outcomes(&server).iter().all(|o| o == "ok"));
}

#[tokio::test]
async fn no_credentials_or_another_scheme_get_the_plain_challenge() {
    let server = start_default().await;
    let url = format!("{}/payments", server.api_url());
    assert_plain_challenge(&call_with(&http(), "GET", &url, None, "").await);
    let basic = basic(DEMO_ID, DEMO_SECRET);
    assert_plain_challenge(&call_with(&http(), "GET", &url, Some(&basic), "").await);
    // A token in the query (RFC 6750 §2.3) is not read: the header is the only way.
    let token = demo_token(&server, &[]).await;
    let in_query = format!("{url}?access_token={token}");
    assert_plain_challenge(&call_with(&http(), "GET", &in_query, None, "").await);
    assert_eq!(outcomes(&server), ["no_token"; 3]);
}

#[tokio::test]
async fn malformed_credentials_are_invalid_request() {
    let server = start_default().await;
    let token = demo_token(&server, &[]).await;
    let url = format!("{}/x", server.api_url());
    let resp = call_with(&http(), "GET", &url, Some("Bearer"), "").await;
    assert_eq!(
        assert_error(&resp, 400, "invalid_request"),
        "the Bearer credentials have no token"
    );
    let resp = call_with(&http(), "GET", &url, Some("Bearer a b"), "").await;
    assert!(assert_error(&resp, 400, "invalid_request").contains("b64token"));
    let bearer = format!("Bearer {token}");
    let resp = read(
        http()
            .get(&url)
            .header("authorization", &bearer)
            .header("authorization", &bearer)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(
        assert_error(&resp, 400, "invalid_request"),
        "the request has more than one Authorization header"
    );
    let resp = get_with_token(&format!("{url}?require_scope=a%22b"), &token).await;
    assert!(assert_error(&resp, 400, "invalid_request").contains("require_scope"));
    assert_eq!(outcomes(&server), ["invalid_request"; 4]);
}

#[tokio::test]
async fn bad_tokens_are_invalid_token() {
    let server = start_default().await;
    let url = format!("{}/x", server.api_url());
    let token = demo_token(&server, &[]).await;

    let d = assert_invalid_token(&get_with_token(&url, "not-a-jwt").await);
    assert_eq!(
        d,
        "the token is not a JWT, and opaque tokens are not accepted here (no introspection configured)"
    );
    // One character of the signature changed.
    let (head, sig) = token.rsplit_once('.').expect("three parts");
    let flipped = if sig.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{head}.{flipped}{}", &sig[1..]);
    let d = assert_invalid_token(&get_with_token(&url, &tampered).await);
    assert_eq!(d, "the token's signature does not verify");
    // The same claims with another `sub`, re-encoded but not re-signed.
    let (_, claims) = decode_jwt(&token);
    let mut forged = claims.clone();
    forged["sub"] = json!("someone-else");
    let forged = {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let parts: Vec<&str> = token.split('.').collect();
        format!(
            "{}.{}.{}",
            parts[0],
            b64.encode(forged.to_string()),
            parts[2]
        )
    };
    assert_eq!(
        assert_invalid_token(&get_with_token(&url, &forged).await),
        "the token's signature does not verify"
    );

    // Expired: a lifetime of 0 makes `exp` now, which is already past (exp <= now).
    server.set_token_lifetime(0);
    let expired = demo_token(&server, &[]).await;
    let d = assert_invalid_token(&get_with_token(&url, &expired).await);
    assert_eq!(d, "the token expired");
    server.set_token_lifetime(3600);

    // Another audience.
    let other_aud = demo_token(&server, &[("audience", "https://other.example")]).await;
    let d = assert_invalid_token(&get_with_token(&url, &other_aud).await);
    assert_eq!(d, "the token is not for this audience");
    // An array holding the API's audience is fine.
    let issuer = server.issuer();
    let both = demo_token(
        &server,
        &[("audience", &issuer), ("resource", "https://other.example")],
    )
    .await;
    assert!(decode_jwt(&both).1["aud"].is_array());
    assert_eq!(get_with_token(&url, &both).await.status, 200);

    // The token's own `sub` is recorded whenever the token is this server's and unexpired.
    let subs: Vec<(String, Option<String>)> = server
        .api_requests()
        .into_iter()
        .map(|r| (r.outcome, r.token_sub))
        .collect();
    let invalid = ("invalid_token".to_owned(), None);
    let demo = Some(DEMO_ID.to_owned());
    assert_eq!(
        subs,
        [
            invalid.clone(),
            invalid.clone(),
            invalid.clone(),
            invalid,
            ("invalid_token".to_owned(), demo.clone()),
            ("ok".to_owned(), demo),
        ]
    );
}

#[tokio::test]
async fn the_api_verifier_reads_this_servers_jwks_over_http() {
    let server = start_default().await;
    let url = format!("{}/x", server.api_url());
    let token = demo_token(&server, &[]).await;
    // The JWKS down before the API's verifier ever read it: the token cannot be checked, 503 with
    // the realm-only challenge (the token may be fine).
    server.set_outage(OutageEndpoint::Jwks, Some(Fault::status(503)));
    let resp = get_with_token(&url, &token).await;
    assert_eq!(resp.status, 503, "{}", resp.body);
    assert_eq!(resp.header("www-authenticate"), Some(CHALLENGE));
    assert_eq!(
        resp.json(),
        json!({"ok": false, "error": null,
               "error_description": "the issuer's keys cannot be fetched"})
    );
    assert_eq!(server.jwks_requests(), 1, "the API's fetch counts");

    // Up again: served. One fetch for the first token; a token seen before, or another token of
    // the same key, needs none.
    server.set_outage(OutageEndpoint::Jwks, None);
    assert_eq!(get_with_token(&url, &token).await.status, 200);
    assert_eq!(server.jwks_requests(), 2);
    assert_eq!(get_with_token(&url, &token).await.status, 200);
    let second = demo_token(&server, &[("scope", "payments.read")]).await;
    assert_eq!(get_with_token(&url, &second).await.status, 200);
    assert_eq!(server.jwks_requests(), 2);
    // Down again: the keys the verifier holds still verify new tokens.
    server.set_outage(OutageEndpoint::Jwks, Some(Fault::status(500)));
    let third = demo_token(&server, &[]).await;
    assert_eq!(get_with_token(&url, &third).await.status, 200);
    assert_eq!(server.jwks_requests(), 2);
    assert_eq!(outcomes(&server), ["unavailable", "ok", "ok", "ok", "ok"]);
    assert_eq!(
        server.api_requests()[0].token_sub.as_deref(),
        Some(DEMO_ID),
        "recorded even when the token could not be checked"
    );
}

#[tokio::test]
async fn a_token_seen_before_is_refused_once_it_expires() {
    let server = start_default().await;
    let url = format!("{}/x", server.api_url());
    let token = mint_one(&server, &json!({"exp_in": 1})).await;
    let exp = decode_jwt(&token).1["exp"].as_i64().expect("exp");
    assert_eq!(get_with_token(&url, &token).await.status, 200);
    // No leeway: refused from the second of its `exp` on.
    let wait = u64::try_from((exp - now()).max(0)).expect("non-negative") * 1000 + 100;
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
    assert_eq!(
        assert_invalid_token(&get_with_token(&url, &token).await),
        "the token expired"
    );
}

#[tokio::test]
async fn scopes_may_come_as_an_scp_array() {
    // The shape SecureAuth issues: `scp` an array, no `scope`.
    let server = start_default().await;
    let token = mint_one(
        &server,
        &json!({"claims": {"scope": null, "scp": ["payments.read", "payments.write"]}}),
    )
    .await;
    let url = format!("{}/x?require_scope=payments.write", server.api_url());
    let resp = get_with_token(&url, &token).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["scope"], serde_json::Value::Null);
    let url = format!("{}/x?require_scope=admin", server.api_url());
    assert_eq!(get_with_token(&url, &token).await.status, 403);
}

#[tokio::test]
async fn a_token_from_another_mock_server_is_refused() {
    let server = start_default().await;
    let other = start_default().await;
    let foreign = demo_token(&other, &[]).await;
    assert_eq!(
        get_with_token(&format!("{}/x", other.api_url()), &foreign)
            .await
            .status,
        200,
        "good where it was issued"
    );
    let resp = get_with_token(&format!("{}/x", server.api_url()), &foreign).await;
    let kid = decode_jwt(&foreign).0["kid"]
        .as_str()
        .expect("kid")
        .to_owned();
    assert_eq!(
        assert_invalid_token(&resp),
        format!("no key of the issuer has kid '{kid}' for ES256")
    );
}

#[tokio::test]
async fn a_configured_api_audience_is_required() {
    let server = MockServer::start(MockConfig {
        api_audience: Some("https://api.example".to_owned()),
        ..MockConfig::default()
    })
    .await
    .expect("starts");
    assert_eq!(server.api_audience(), "https://api.example");
    let url = format!("{}/x", server.api_url());
    let default_aud = demo_token(&server, &[]).await;
    let d = assert_invalid_token(&get_with_token(&url, &default_aud).await);
    assert_eq!(d, "the token is not for this audience");
    for param in ["audience", "resource"] {
        let token = demo_token(&server, &[(param, "https://api.example")]).await;
        assert_eq!(get_with_token(&url, &token).await.status, 200, "{param}");
    }
    let client = RegisteredClient::new("svc", "s").with_default_audience("https://api.example");
    server.register_client(client).expect("registered");
    let resp = post_form(
        &server,
        Some(&basic("svc", "s")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let token = resp.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(get_with_token(&url, &token).await.json()["sub"], "svc");

    let err = MockConfig::from_json(r#"{"api_audience": ""}"#).unwrap_err();
    assert!(err.to_string().contains("api_audience"), "{err}");
}

#[tokio::test]
async fn a_missing_scope_is_403_insufficient_scope() {
    let server = start_default().await;
    let read_only = demo_token(&server, &[("scope", "payments.read")]).await;
    let base = format!("{}/payments", server.api_url());

    let ok = get_with_token(&format!("{base}?require_scope=payments.read"), &read_only).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["scope"], "payments.read");

    let url = format!("{base}?require_scope=payments.read+payments.write");
    let resp = get_with_token(&url, &read_only).await;
    assert_eq!(resp.status, 403, "{}", resp.body);
    assert_eq!(
        resp.header("www-authenticate"),
        Some(
            r#"Bearer realm="m2m-auth-mock", error="insufficient_scope", error_description="the token lacks the scope payments.write", scope="payments.read payments.write""#
        )
    );
    assert_eq!(
        resp.json(),
        json!({"ok": false, "error": "insufficient_scope",
               "error_description": "the token lacks the scope payments.write"})
    );

    // Repeated parameters add up; a token with every scope passes.
    let url = format!("{base}?require_scope=payments.read&require_scope=payments.write");
    assert_eq!(get_with_token(&url, &read_only).await.status, 403);
    let full = demo_token(&server, &[]).await;
    assert_eq!(get_with_token(&url, &full).await.status, 200);
    // A token without a scope claim has none of them.
    let server2 = start_with(vec![RegisteredClient::new("bare", "s")]).await;
    let resp = post_form(
        &server2,
        Some(&basic("bare", "s")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let bare = resp.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let resp = get_with_token(&format!("{}?require_scope=x", server2.api_url()), &bare).await;
    assert_eq!(resp.status, 403);
    assert_eq!(
        get_with_token(&server2.api_url(), &bare).await.json()["scope"],
        serde_json::Value::Null
    );

    let recorded = server.api_requests();
    assert_eq!(
        outcomes(&server),
        ["ok", "insufficient_scope", "insufficient_scope", "ok"]
    );
    assert_eq!(recorded[1].token_sub.as_deref(), Some(DEMO_ID));
}

#[tokio::test]
async fn the_next_valid_tokens_are_rejected_on_request() {
    let server = start_default().await;
    let token = demo_token(&server, &[]).await;
    let url = format!("{}/x", server.api_url());
    server.reject_next_api_tokens(2);
    assert_eq!(server.pending_api_rejections(), 2);

    // Requests refused for their own reasons do not use the budget.
    assert_plain_challenge(&call_with(&http(), "GET", &url, None, "").await);
    assert_invalid_token(&get_with_token(&url, "garbage").await);
    assert_eq!(server.pending_api_rejections(), 2);

    for _ in 0..2 {
        let resp = get_with_token(&url, &token).await;
        assert_eq!(assert_invalid_token(&resp), "the access token expired");
    }
    assert_eq!(server.pending_api_rejections(), 0);
    assert_eq!(get_with_token(&url, &token).await.status, 200);

    // The budget is checked before the scope: a valid token is refused first.
    server.reject_next_api_tokens(1);
    let scoped = format!("{url}?require_scope=admin");
    assert_invalid_token(&get_with_token(&scoped, &token).await);
    assert_eq!(get_with_token(&scoped, &token).await.status, 403);

    // A new budget replaces the pending one; 0 cancels it.
    server.reject_next_api_tokens(5);
    server.reject_next_api_tokens(1);
    assert_eq!(server.pending_api_rejections(), 1);
    server.reject_next_api_tokens(0);
    assert_eq!(get_with_token(&url, &token).await.status, 200);

    assert_eq!(
        outcomes(&server),
        [
            "no_token",
            "invalid_token",
            "rejected",
            "rejected",
            "ok",
            "rejected",
            "insufficient_scope",
            "ok"
        ]
    );
    let rejected = &server.api_requests()[2];
    assert_eq!(rejected.token_sub.as_deref(), Some(DEMO_ID));
}

#[tokio::test]
async fn rejections_are_set_over_the_admin_api() {
    let server = start_default().await;
    let url = format!("{}/mock/api/reject", server.url());
    let resp = post_json(&url, r#"{"count": 1}"#).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), json!({"pending_rejections": 1}));
    assert_eq!(server.pending_api_rejections(), 1);
    for body in ["", "{}", r#"{"count": -1}"#, r#"{"count": 1, "x": 2}"#] {
        let resp = post_json(&url, body).await;
        assert_eq!(resp.status, 400, "{body}");
        assert_eq!(resp.json()["error"], "invalid_request");
    }
    assert_eq!(
        server.pending_api_rejections(),
        1,
        "unchanged by bad bodies"
    );
    let token = demo_token(&server, &[]).await;
    let resp = get_with_token(&format!("{}/x", server.api_url()), &token).await;
    assert_eq!(assert_invalid_token(&resp), "the access token expired");
}

#[tokio::test]
async fn requests_are_recorded_and_reset_clears_them() {
    let server = start_default().await;
    let token = demo_token(&server, &[]).await;
    let url = format!("{}/orders?page=2", server.api_url());
    let resp = read(
        http()
            .put(&url)
            .header("Authorization", format!("Bearer {token}"))
            .header("X-Request-Id", "r-1")
            .body("hello \u{1F600}")
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(resp.status, 200);
    call_with(&http(), "GET", &server.api_url(), None, "").await;

    assert_eq!(server.api_request_count(), 2);
    assert_eq!(
        server.token_requests(),
        1,
        "API requests are not token requests"
    );
    let recorded = server.api_requests();
    let first = &recorded[0];
    assert_eq!(
        (
            first.method.as_str(),
            first.path.as_str(),
            first.query.as_str()
        ),
        ("PUT", "/api/orders", "page=2")
    );
    assert_eq!(first.body, "hello \u{1F600}");
    assert_eq!(
        (first.outcome.as_str(), first.token_sub.as_deref()),
        ("ok", Some(DEMO_ID))
    );
    assert_eq!(first.client_cert_x5t_s256, None);
    let header = |r: &ApiRequest, name: &str| {
        r.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header(first, "authorization"),
        Some(format!("Bearer {token}"))
    );
    assert_eq!(header(first, "x-request-id").as_deref(), Some("r-1"));
    assert!(first.headers.iter().all(|(n, _)| *n == n.to_lowercase()));
    assert_eq!(header(&recorded[1], "authorization"), None);
    assert_eq!(recorded[1].outcome, "no_token");

    // The admin API reports the same records.
    let over_http = get(&format!("{}/mock/api/requests", server.url())).await;
    assert_eq!(
        over_http.json(),
        serde_json::to_value(&recorded).expect("JSON")
    );
    assert_eq!(over_http.json()[0]["headers"][0][0], "authorization");

    server.reject_next_api_tokens(3);
    server.reset();
    assert_eq!(server.api_request_count(), 0);
    assert_eq!(server.api_requests(), []);
    assert_eq!(server.pending_api_rejections(), 0);
    assert_eq!(get_with_token(&server.api_url(), &token).await.status, 200);
    // Over HTTP too.
    post_json(&format!("{}/mock/reset", server.url()), "").await;
    assert_eq!(server.api_request_count(), 0);
}

#[tokio::test]
async fn redirects_answer_the_status_and_location_asked_for_whatever_the_token() {
    let server = start_default().await;
    let client = no_redirects();
    let target = "http://127.0.0.1:9/api/landing?a=1";
    let encoded: String = form_urlencoded::byte_serialize(target.as_bytes()).collect();
    let base = format!("{}/redirect?to={encoded}", server.api_url());
    for (query, status) in [
        ("", 302),
        ("&status=301", 301),
        ("&status=302", 302),
        ("&status=303", 303),
        ("&status=307", 307),
        ("&status=308", 308),
    ] {
        let resp = call_with(&client, "GET", &format!("{base}{query}"), None, "").await;
        assert_eq!(resp.status, status, "{query}: {}", resp.body);
        assert_eq!(resp.header("location"), Some(target));
        assert_eq!(resp.header("www-authenticate"), None);
    }
    // POST, with a token: the same answer, recorded with the token's subject and the body.
    let token = demo_token(&server, &[]).await;
    let auth = format!("Bearer {token}");
    let resp = call_with(
        &client,
        "POST",
        &format!("{base}&status=307"),
        Some(&auth),
        "b",
    )
    .await;
    assert_eq!((resp.status, resp.header("location")), (307, Some(target)));
    let last = server.api_requests().pop().expect("recorded");
    assert_eq!(
        (
            last.outcome.as_str(),
            last.token_sub.as_deref(),
            last.body.as_str()
        ),
        ("redirect", Some(DEMO_ID), "b")
    );
    assert_eq!(server.api_request_count(), 7);

    let bad = format!("{}/redirect?to=%2Fx&status=200", server.api_url());
    let resp = call_with(&client, "GET", &bad, None, "").await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.header("www-authenticate"), None);
    assert_eq!(resp.json()["error"], "invalid_request");
    let missing = format!("{}/redirect", server.api_url());
    assert_eq!(
        call_with(&client, "GET", &missing, None, "").await.status,
        400
    );
    assert_eq!(
        outcomes(&server)[7..],
        ["invalid_request", "invalid_request"]
    );
}

#[tokio::test]
async fn a_redirect_to_another_origin_shows_what_the_client_carried() {
    let server = start_default().await;
    let other = start_default().await;
    let token = demo_token(&server, &[]).await;
    let target = format!("{}/landing", other.api_url());
    let encoded: String = form_urlencoded::byte_serialize(target.as_bytes()).collect();
    // reqwest drops Authorization when a redirect changes the origin (here the port): the other
    // server records the request, without the header.
    let url = format!("{}/redirect?to={encoded}&status=307", server.api_url());
    let resp = call_with(&http(), "POST", &url, Some(&format!("Bearer {token}")), "b").await;
    assert_plain_challenge(&resp);
    let arrived = other
        .api_requests()
        .pop()
        .expect("the redirect was followed");
    assert_eq!(
        (arrived.method.as_str(), arrived.body.as_str()),
        ("POST", "b")
    );
    assert!(!arrived.headers.iter().any(|(n, _)| n == "authorization"));

    // A same-origin redirect to a path keeps the token, the method and the body (307).
    let url = format!("{}/redirect?to=%2Fapi%2Fhere&status=307", server.api_url());
    let resp = call_with(&http(), "POST", &url, Some(&format!("Bearer {token}")), "b").await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json();
    assert_eq!(
        (&body["path"], &body["method"], &body["body"]),
        (&json!("/api/here"), &json!("POST"), &json!("b"))
    );
}

fn mtls_client() -> RegisteredClient {
    RegisteredClient::without_secret(MTLS_ID)
        .with_auth_methods([TLS_CLIENT_AUTH])
        .with_subject_dn(SUBJECT)
        .with_scopes(["payments.read"])
}

#[tokio::test]
async fn a_bound_token_is_good_only_with_its_certificate() {
    let server = start_tls(vec![mtls_client(), RegisteredClient::demo()]).await;
    let mtls_api = server.mtls_api_url().expect("a TLS server has an mTLS API");
    let alias_token = server.mtls_token_url().expect("alias");
    assert_eq!(alias_token.replace("/oauth2/token", "/api"), mtls_api);
    assert!(server.api_url().starts_with("https://"));

    let (cert, key) = server.issue_client_certificate(SUBJECT).expect("issued");
    let with_cert = https(&server, Some((&cert, &key)));
    let pairs = [("grant_type", "client_credentials"), ("client_id", MTLS_ID)];
    let resp = post_form_with(&with_cert, &alias_token, None, &pairs).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let bound = resp.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let thumbprint = x5t_s256(&cert_der(&cert));
    assert_eq!(decode_jwt(&bound).1["cnf"]["x5t#S256"], thumbprint);
    let auth = format!("Bearer {bound}");

    // With the certificate on the alias: served, and said to be bound.
    let url = format!("{mtls_api}/payments");
    let resp = call_with(&with_cert, "GET", &url, Some(&auth), "").await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["bound"], true);
    assert_eq!(resp.json()["sub"], MTLS_ID);

    // On the alias without a certificate, or with another one.
    let without = https(&server, None);
    let d = assert_invalid_token(&call_with(&without, "GET", &url, Some(&auth), "").await);
    assert_eq!(
        d,
        "the token is bound to a client certificate, and the request came without one"
    );
    let (cert2, key2) = server.issue_client_certificate(SUBJECT).expect("issued");
    let other_cert = https(&server, Some((&cert2, &key2)));
    let d = assert_invalid_token(&call_with(&other_cert, "GET", &url, Some(&auth), "").await);
    assert_eq!(
        d,
        "the token is bound to another client certificate than the request's"
    );
    // The main port never asks for a certificate, so it cannot accept the bound token.
    let main = format!("{}/payments", server.api_url());
    let d = assert_invalid_token(&call_with(&with_cert, "GET", &main, Some(&auth), "").await);
    assert!(d.contains("came without one"), "{d}");

    // An unbound token is good on both ports, certificate or not.
    let pairs = [
        ("grant_type", "client_credentials"),
        ("client_id", DEMO_ID),
        ("client_secret", DEMO_SECRET),
    ];
    let resp = post_form_with(&without, &server.token_url(), None, &pairs).await;
    let unbound = format!(
        "Bearer {}",
        resp.json()["access_token"].as_str().expect("token")
    );
    for (client, url) in [(&without, &main), (&with_cert, &url), (&without, &url)] {
        let resp = call_with(client, "GET", url, Some(&unbound), "").await;
        assert_eq!(resp.status, 200, "{url}: {}", resp.body);
        assert_eq!(resp.json()["bound"], false);
    }

    let recorded = server.api_requests();
    assert_eq!(
        recorded
            .iter()
            .map(|r| (r.outcome.as_str(), r.client_cert_x5t_s256.is_some()))
            .collect::<Vec<_>>(),
        [
            ("ok", true),
            ("invalid_token", false),
            ("invalid_token", true),
            ("invalid_token", false),
            ("ok", false),
            ("ok", true),
            ("ok", false),
        ]
    );
    assert_eq!(
        recorded[0].client_cert_x5t_s256.as_deref(),
        Some(thumbprint.as_str())
    );
    assert_eq!(recorded[2].token_sub.as_deref(), Some(MTLS_ID));
}
