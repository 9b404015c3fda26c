//! Property tests of every parser that reads the network or the user: whatever the input, a value or a typed
//! error, never a panic. Case counts are bounded so that the suite stays fast.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use url::Url;

use crate::cache::freshness::{SentAt, lifetime};
use crate::config::TokenClientBuilder;
use crate::credentials::redact::Redactor;
use crate::credentials::signing_key::SigningKey;
use crate::endpoint::discovery::parse_metadata;
use crate::endpoint::request::basic_authorization;
use crate::endpoint::response::{ParseOptions, parse_token_response};
use crate::endpoint::retry::parse_retry_after;
use crate::error::Error;
use crate::http::challenge::{parse_challenges, token_rejected};
use crate::http::url_policy::{check_api_url, check_endpoint_url, is_loopback};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// JSON values of every kind, nested a little.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(".{0,12}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Token responses: the members a token endpoint sends, each of any JSON type, plus others.
fn token_response() -> impl Strategy<Value = serde_json::Value> {
    let member = |name: &'static str| prop::option::of(json_value()).prop_map(move |v| (name, v));
    (
        member("access_token"),
        member("token_type"),
        member("expires_in"),
        member("scope"),
        member("error"),
        member("error_description"),
    )
        .prop_map(|(a, b, c, d, e, f)| {
            let mut map = serde_json::Map::new();
            for (name, value) in [a, b, c, d, e, f] {
                if let Some(v) = value {
                    map.insert(name.to_owned(), v);
                }
            }
            serde_json::Value::Object(map)
        })
}

fn parse(status: u16, body: &[u8]) -> crate::Result<crate::Token> {
    parse_token_response(
        status,
        Some("application/json"),
        body,
        &ParseOptions {
            default_lifetime: Duration::from_secs(300),
            sent_at: SentAt::now(),
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn token_responses_parse_or_fail_typed(status in 100u16..600, body in token_response()) {
        match parse(status, body.to_string().as_bytes()) {
            Ok(t) => {
                prop_assert!((200..300).contains(&status));
                prop_assert!(t.lifetime() > Duration::ZERO);
                prop_assert!(t.access_token().bytes().all(|b| b.is_ascii_graphic()));
            }
            Err(Error::OAuth(e)) => {
                prop_assert!(e.error_description.as_ref().is_none_or(|d| !d.chars().any(char::is_control)));
                prop_assert!(e.error.chars().count() <= crate::error::MAX_SERVER_TEXT + 1);
            }
            Err(Error::InvalidResponse { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error kind {other:?}"),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_token_parser(status in any::<u16>(), body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(status, &body);
    }

    #[test]
    fn lifetimes_are_positive_and_bounded(
        expires_in in prop::option::of(1u64..=10 * 365 * 24 * 3600),
        exp in prop::option::of(-1e12f64..1e12),
        sent_ms in 0u64..4_000_000_000_000,
        latency_ms in 0u64..10_000,
    ) {
        let sent = UNIX_EPOCH + Duration::from_millis(sent_ms);
        let arrived = sent + Duration::from_millis(latency_ms);
        let (l, _) = lifetime(expires_in, exp, sent, arrived, Duration::from_secs(300));
        prop_assert!(l > Duration::ZERO);
        if let Some(secs) = expires_in {
            prop_assert!(l <= Duration::from_secs(secs));
        }
    }

    #[test]
    fn www_authenticate_never_panics(header in ".{0,200}", status in any::<u16>()) {
        let _ = parse_challenges(&header);
        let rejected = token_rejected(status, [header.as_str()]);
        prop_assert!(!rejected || status == 401);
    }

    #[test]
    fn bearer_invalid_token_is_found_among_other_challenges(
        realm in "[a-zA-Z0-9 ._-]{0,20}",
        before in prop::sample::select(vec!["", "Basic realm=\"x\", ", "Negotiate, "]),
    ) {
        let header = format!("{before}Bearer realm=\"{realm}\", error=\"invalid_token\"");
        prop_assert!(token_rejected(401, [header.as_str()]), "{header}");
        prop_assert!(!token_rejected(403, [header.as_str()]));
    }

    #[test]
    fn retry_after_never_panics(value in ".{0,64}") {
        let _ = parse_retry_after(&value, SystemTime::now());
    }

    #[test]
    fn retry_after_seconds_round_trip(secs in any::<u32>()) {
        prop_assert_eq!(
            parse_retry_after(&secs.to_string(), SystemTime::now()),
            Some(Duration::from_secs(u64::from(secs)))
        );
    }

    #[test]
    fn discovery_metadata_parses_or_fails_typed(doc in json_value(), issuer_ok in any::<bool>()) {
        let issuer = Url::parse("https://idp.example/tenant").expect("url");
        let mut doc = doc;
        if issuer_ok && let Some(map) = doc.as_object_mut() {
            map.insert("issuer".into(), issuer.as_str().into());
        }
        let cfg = TokenClientBuilder::new()
            .issuer(issuer.as_str())
            .client_id("svc")
            .client_secret("secret")
            .validate()
            .expect("config");
        let url = Url::parse("https://idp.example/.well-known/openid-configuration").expect("url");
        match parse_metadata(&cfg, &issuer, &url, doc.to_string().as_bytes()) {
            Ok(_) | Err(Error::InvalidResponse { .. } | Error::Config { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error kind {other:?}"),
        }
    }

    #[test]
    fn keys_from_text_never_panic(text in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = SigningKey::from_text(&text);
    }

    #[test]
    fn pem_looking_text_is_a_config_error(body in "[A-Za-z0-9+/=\n]{0,400}", label in prop::sample::select(vec!["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "CERTIFICATE"])) {
        let pem = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n");
        match SigningKey::from_text(pem.as_bytes()) {
            Ok(_) => {}
            Err(e) => prop_assert!(matches!(e, Error::Config { .. }), "{e:?}"),
        }
    }

    #[test]
    fn jwk_looking_text_never_panics(doc in json_value()) {
        let _ = SigningKey::from_jwk(&doc.to_string());
    }

    #[test]
    fn url_policy_never_panics_and_never_echoes_user_info(
        scheme in prop::sample::select(vec!["http", "https", "ftp", "HTTP"]),
        user in "[a-z]{0,6}",
        secret in "s3cr3t[a-z]{4}",
        host in prop::sample::select(vec![
            "localhost", "LOCALHOST", "localhost.", "127.0.0.1", "127.1.2.3", "[::1]", "[::ffff:127.0.0.1]",
            "2130706433", "0x7f000001", "api.example", "10.0.0.1", "[::ffff:10.0.0.1]", "localhost.example",
        ]),
        with_user_info in any::<bool>(),
        path in "[a-z/]{0,10}",
    ) {
        let auth = if with_user_info { format!("{user}:{secret}@") } else { String::new() };
        let raw = format!("{scheme}://{auth}{host}/{path}");
        for result in [check_api_url(&raw, false), check_endpoint_url(&raw, "token_url", false)] {
            match result {
                Ok(url) => {
                    prop_assert!(!with_user_info);
                    prop_assert!(url.scheme() == "https" || is_loopback(&url), "{url}");
                }
                Err(Error::Config { message, .. }) => prop_assert!(!message.contains(&secret), "{message}"),
                Err(other) => prop_assert!(false, "unexpected error kind {other:?}"),
            }
        }
    }

    #[test]
    fn loopback_is_exactly_this_host(a in any::<u8>(), b in any::<u8>(), c in any::<u8>(), d in any::<u8>()) {
        let url = Url::parse(&format!("http://{a}.{b}.{c}.{d}/")).expect("url");
        prop_assert_eq!(is_loopback(&url), a == 127);
        let mapped = Url::parse(&format!("http://[::ffff:{a}.{b}.{c}.{d}]/")).expect("url");
        prop_assert_eq!(is_loopback(&mapped), a == 127);
    }

    #[test]
    fn basic_credentials_round_trip_through_form_encoding(id in "\\PC{1,20}", secret in "\\PC{1,40}") {
        use base64::Engine as _;
        let header = basic_authorization(&id, &secret);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(header.strip_prefix("Basic ").expect("scheme"))
            .expect("base64");
        let text = String::from_utf8(decoded).expect("utf8");
        let (enc_id, enc_secret) = text.split_once(':').expect("one colon: both parts are encoded");
        let dec = |s: &str| form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
        prop_assert_eq!(dec(enc_id), Some(id));
        prop_assert_eq!(dec(enc_secret), Some(secret));
    }

    #[test]
    fn redaction_removes_every_sent_form(id in "[a-z-]{1,10}", secret in "[^~\\p{C}]{1,30}", noise in "~{0,4}") {
        // `~` is in no form of the secret, so each echo is replaced whole and the noise stays.
        let r = Redactor::new(&id, Some(&secret.as_str().into()));
        let form = form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>();
        let basic = basic_authorization(&id, &secret);
        let basic = basic.strip_prefix("Basic ").expect("scheme");
        let json = serde_json::Value::from(secret.as_str()).to_string();
        for echoed in [secret.clone(), form, basic.to_owned(), json[1..json.len() - 1].to_owned()] {
            let out = r.redact(format!("{noise}{echoed}{noise}"));
            prop_assert_eq!(out, format!("{noise}[redacted]{noise}"));
        }
    }
}
