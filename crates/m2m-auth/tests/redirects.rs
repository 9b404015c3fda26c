//! The shared redirect matrix (`tests/vectors/redirects.json`) for `TokenClient::call`: credentials never
//! follow a redirect to another origin — the core does not follow one at all — and stay on one within it.

use std::path::Path;

mod common;

use common::{demo_builder, mock};
use m2m_auth::{ApiRequest, CaBundle};
use m2m_auth_mock::MockServer;
use serde_json::Value;

fn port(server: &MockServer) -> String {
    url::Url::parse(&server.url())
        .expect("url")
        .port()
        .expect("port")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_stay_with_their_origin() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/redirects.json"),
    )
    .expect("redirects.json");
    let matrix: Value = serde_json::from_str(&text).expect("json");
    let (a, b, t) = (mock(false).await, mock(false).await, mock(true).await);
    let client = demo_builder(&a)
        .ca_bundle(CaBundle::from_pem(t.ca_pem().expect("ca").as_bytes()).expect("ca"))
        .build()
        .expect("client");
    let fill = |s: &str| {
        s.replace("{a}", &port(&a))
            .replace("{b}", &port(&b))
            .replace("{t}", &port(&t))
    };
    let credentials: Vec<&str> = matrix["credential_headers"]
        .as_array()
        .expect("credential_headers")
        .iter()
        .map(|h| h.as_str().expect("name"))
        .collect();
    let cases = matrix["cases"].as_array().expect("cases");
    assert!(cases.len() >= 6);
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().expect("name");
        let landing = format!("/api/landing-{i}");
        let to = format!("{}{landing}", fill(case["to"].as_str().expect("to")));
        let from = fill(case["from"].as_str().expect("from"));
        let mut request = ApiRequest::get(format!(
            "{from}/api/redirect?status=307&to={}",
            form_urlencoded::byte_serialize(to.as_bytes()).collect::<String>()
        ));
        request.headers = vec![
            ("cookie".into(), "session=caller-cookie".into()),
            (
                "proxy-authorization".into(),
                "Basic cHJveHk6c2VjcmV0".into(),
            ),
        ];
        let answer = client.call(&request).await.expect(name);
        let target = match case["target"].as_str().expect("target") {
            "a" => &a,
            "b" => &b,
            "t" => &t,
            other => panic!("{name}: unknown target {other}"),
        };
        let arrived: Vec<_> = target
            .api_requests()
            .into_iter()
            .filter(|r| r.path == landing)
            .collect();
        if case["keeps"].as_bool().expect("keeps") {
            let token = client.token().await.expect("token");
            assert_eq!(arrived.len(), 1, "{name}: followed within the origin");
            let auth = arrived[0]
                .headers
                .iter()
                .find(|(n, _)| n == "authorization")
                .map(|(_, v)| v.clone());
            assert_eq!(
                auth,
                Some(format!("Bearer {}", token.access_token())),
                "{name}"
            );
        } else {
            assert_eq!(
                answer.status, 307,
                "{name}: not followed, answered as it came"
            );
            for r in &arrived {
                for (header, _) in &r.headers {
                    assert!(
                        !credentials.contains(&header.as_str()),
                        "{name}: {header} reached the other origin"
                    );
                }
            }
            assert!(arrived.is_empty(), "{name}: the core does not follow it");
        }
    }
}
