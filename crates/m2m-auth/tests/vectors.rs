//! Runs every shared case in `tests/vectors/token/` against the mock authorization server. The Python and
//! Node suites run the same files; see `tests/vectors/README.md` for the format.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use m2m_auth::{
    AuthMethod, CaBundle, ClientCertificate, Error, RetryPolicy, SigningAlg, SigningKey, Token,
    TokenClient,
};
use m2m_auth_mock::testkeys::{self, GeneratedKey};
use m2m_auth_mock::{Fault, MockConfig, MockServer, RegisteredClient};
use serde_json::{Value, json};

mod common;
use common::{vectors_dir, vectors_mock_config as mock_config, vectors_runtime_and_mock};

/// The secret a case's client uses: its own, or the registered one.
fn secret_of(case: &Value, config: &MockConfig) -> String {
    let client = &case["client"];
    if let Some(s) = client.get("client_secret").and_then(Value::as_str) {
        return s.to_owned();
    }
    if let Some(s) = case["register"]
        .get("client_secret")
        .and_then(Value::as_str)
    {
        return s.to_owned();
    }
    let id = client["client_id"].as_str().expect("client_id");
    config
        .clients
        .iter()
        .find(|c| c.client_id == id)
        .map(|c| c.client_secret.clone())
        .unwrap_or_default()
}

/// The keys and certificates a case uses, generated for it: never stored.
#[derive(Default)]
struct Material {
    key: Option<GeneratedKey>,
    /// (cert PEM, key PEM, x5t#S256, public JWK with x5c when self-signed)
    cert: Option<(String, String, String, Option<Value>)>,
}

impl Material {
    fn new(case: &Value, mock: &MockServer) -> Self {
        let c = &case["client"];
        let key = c.get("private_key").map(|k| {
            testkeys::generate_signing_key(k["alg"].as_str().expect("private_key.alg"))
                .expect("key")
        });
        let cert = c.get("client_cert").map(|spec| {
            if let Some(subject) = spec.get("issue").and_then(Value::as_str) {
                let (cert, key) = mock.issue_client_certificate(subject).expect("issued cert");
                let x5t = ClientCertificate::from_pem(cert.as_bytes(), key.as_bytes())
                    .expect("identity")
                    .thumbprint()
                    .to_owned();
                (cert, key, x5t, None)
            } else {
                let subject = spec["self_signed"]
                    .as_str()
                    .expect("client_cert.self_signed");
                let g = testkeys::self_signed_certificate(subject).expect("self-signed cert");
                (g.cert_pem, g.key_pem, g.x5t_s256, Some(g.jwk))
            }
        });
        Self { key, cert }
    }

    /// `{placeholder}`s of a case's strings, filled in for this run.
    fn subst(&self, text: &str, mock: &MockServer, secret: &str) -> String {
        let mut out = text
            .replace("{secret}", secret)
            .replace("{mock}", &mock.url())
            .replace("{issuer}", &mock.issuer())
            .replace("{token_url}", &mock.token_url())
            .replace(
                "{mtls_token_url}",
                &mock.mtls_token_url().unwrap_or_default(),
            );
        if let Some(k) = &self.key {
            out = out.replace("{kid}", &k.kid);
        }
        if let Some((_, _, x5t, _)) = &self.cert {
            out = out.replace("{cert_x5t}", x5t);
        }
        out
    }

    /// `v` with every string's placeholders filled in.
    fn subst_value(&self, v: &Value, mock: &MockServer, secret: &str) -> Value {
        match v {
            Value::String(s) => Value::String(self.subst(s, mock, secret)),
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.subst_value(x, mock, secret))
                    .collect(),
            ),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.subst_value(x, mock, secret)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// The case's `register` entry as a registration: `"jwks"` may name `{key}`, `{other_key}`, `{cert}` or
    /// `{other_cert}`.
    fn registration(&self, register: &Value) -> RegisteredClient {
        let mut r = register.clone();
        if let Some(which) = register.get("jwks").and_then(Value::as_str) {
            let jwk = match which {
                "{key}" => self.key.as_ref().expect("a private_key").public_jwk.clone(),
                "{other_key}" => {
                    let alg = &self.key.as_ref().expect("a private_key").alg;
                    testkeys::generate_signing_key(alg).expect("key").public_jwk
                }
                "{cert}" => self
                    .cert
                    .as_ref()
                    .and_then(|c| c.3.clone())
                    .expect("a self-signed cert"),
                "{other_cert}" => {
                    testkeys::self_signed_certificate("CN=someone-else")
                        .expect("cert")
                        .jwk
                }
                other => panic!("unknown jwks placeholder {other}"),
            };
            r["jwks"] = json!({"keys": [jwk]});
        }
        serde_json::from_value(r).expect("registration")
    }
}

fn build_client(
    case: &Value,
    mock: &MockServer,
    secret: &str,
    m: &Material,
) -> m2m_auth::Result<TokenClient> {
    let c = &case["client"];
    let mut b = TokenClient::builder()
        .client_id(c["client_id"].as_str().expect("client_id"))
        .client_secret(secret);
    match (c.get("token_url"), c.get("issuer")) {
        (None, Some(issuer)) => {
            b = b.issuer(m.subst(issuer.as_str().expect("issuer"), mock, secret));
        }
        (url, issuer) => {
            let url = url
                .and_then(Value::as_str)
                .map_or_else(|| mock.token_url(), |u| m.subst(u, mock, secret));
            b = b.token_url(url);
            if let Some(issuer) = issuer.and_then(Value::as_str) {
                b = b.issuer(m.subst(issuer, mock, secret));
            }
        }
    }
    if let (Some(spec), Some(key)) = (c.get("private_key"), &m.key) {
        let text = match spec
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("pkcs8")
        {
            "pkcs8" => key.pkcs8_pem.clone(),
            "traditional" => key.traditional_pem.clone(),
            "jwk" => key.private_jwk.to_string(),
            other => panic!("unknown private_key format {other}"),
        };
        let mut signing = SigningKey::from_text(text.as_bytes())?;
        if let Some(kid) = c.get("private_key_id").and_then(Value::as_str) {
            signing = signing.with_kid(m.subst(kid, mock, secret));
        }
        if let Some(alg) = c.get("signing_alg").and_then(Value::as_str) {
            signing = signing.with_alg(SigningAlg::parse(alg, "signing_alg")?)?;
        }
        b = b.private_key(signing);
    }
    if let Some((cert, key, _, _)) = &m.cert {
        b = b.client_certificate(ClientCertificate::from_pem(
            cert.as_bytes(),
            key.as_bytes(),
        )?);
    }
    if c.get("ca_bundle").and_then(Value::as_str) == Some("{mock_ca}") {
        b = b.ca_bundle(CaBundle::from_pem(
            mock.ca_pem().expect("a TLS mock").as_bytes(),
        )?);
    }
    if let Some(a) = c.get("assertion_audience").and_then(Value::as_str) {
        b = b.assertion_audience(m.subst(a, mock, secret));
    }
    if let Some(m) = c.get("auth_method").and_then(Value::as_str) {
        b = b.auth_method(m.parse::<AuthMethod>()?);
    }
    if let Some(s) = c.get("scopes").and_then(Value::as_array) {
        b = b.scopes(s.iter().filter_map(Value::as_str));
    }
    if let Some(a) = c.get("audience").and_then(Value::as_str) {
        b = b.audience(a);
    }
    if let Some(r) = c.get("resources").and_then(Value::as_array) {
        b = b.resources(r.iter().filter_map(Value::as_str));
    }
    if let Some(extra) = c.get("extra_params").and_then(Value::as_object) {
        for (k, v) in extra {
            b = b.extra_param(k, v.as_str().expect("string extra param"));
        }
    }
    if let Some(n) = c.get("max_response_bytes").and_then(Value::as_u64) {
        b = b.max_response_bytes(n as usize);
    }
    if let Some(ms) = c.get("timeout_ms").and_then(Value::as_u64) {
        b = b.timeout(Duration::from_millis(ms));
    }
    if let Some(r) = c.get("refresh_ratio").and_then(Value::as_f64) {
        b = b.refresh_ratio(r);
    }
    if let Some(ms) = c.get("expiry_skew_ms").and_then(Value::as_u64) {
        b = b.expiry_skew(Duration::from_millis(ms));
    }
    if let Some(retry) = c.get("retry") {
        let mut p = RetryPolicy::default();
        let ms = |k: &str| {
            retry
                .get(k)
                .and_then(Value::as_u64)
                .map(Duration::from_millis)
        };
        if let Some(n) = retry.get("max_attempts").and_then(Value::as_u64) {
            p.max_attempts = n as u32;
        }
        p.initial_backoff = ms("initial_backoff_ms").unwrap_or(p.initial_backoff);
        p.max_backoff = ms("max_backoff_ms").unwrap_or(p.max_backoff);
        p.deadline = ms("deadline_ms").unwrap_or(p.deadline);
        p.max_retry_after = ms("max_retry_after_ms").unwrap_or(p.max_retry_after);
        b = b.retry(p);
    }
    b.build()
}

fn kind_name(e: &Error) -> &'static str {
    e.kind().class_name()
}

fn check_error(name: &str, e: &Error, want: &Value, secret: &str) {
    let msg = e.to_string();
    assert!(
        secret.len() < 4 || !msg.contains(secret),
        "{name}: the secret leaked into {msg:?}"
    );
    assert!(
        !format!("{e:?}").contains(secret) || secret.len() < 4,
        "{name}: the secret leaked into Debug"
    );
    if let Some(k) = want.get("kind").and_then(Value::as_str) {
        assert_eq!(kind_name(e), k, "{name}: kind of {e:?}");
    }
    if let Some(s) = want.get("status") {
        assert_eq!(
            e.status().map(u64::from),
            s.as_u64(),
            "{name}: status of {e:?}"
        );
    }
    for (key, got) in [
        ("error", oauth_field(e, |o| Some(o.error.clone()))),
        (
            "error_description",
            oauth_field(e, |o| o.error_description.clone()),
        ),
        ("error_uri", oauth_field(e, |o| o.error_uri.clone())),
    ] {
        if let Some(w) = want.get(key) {
            assert_eq!(got.as_deref(), w.as_str(), "{name}: {key} of {e:?}");
        }
    }
    if let Some(n) = want.get("attempts").and_then(Value::as_u64) {
        assert_eq!(u64::from(e.attempts()), n, "{name}: attempts of {e:?}");
    }
    if let Some(field) = want.get("field").and_then(Value::as_str) {
        match e {
            Error::Config { field: got, .. } => assert_eq!(got, field, "{name}"),
            other => panic!("{name}: expected a config error, got {other:?}"),
        }
    }
    for part in want
        .get("message_contains")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let part = part.as_str().expect("string");
        assert!(
            msg.contains(part),
            "{name}: {msg:?} does not contain {part:?}"
        );
    }
}

fn oauth_field(e: &Error, f: impl Fn(&m2m_auth::OAuthError) -> Option<String>) -> Option<String> {
    match e {
        Error::OAuth(o) => f(o),
        _ => None,
    }
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("claims")
}

fn check_token(name: &str, t: &Token, want: &Value, earlier: &[Option<Arc<Token>>]) {
    if let Some(tt) = want.get("token_type").and_then(Value::as_str) {
        assert_eq!(t.token_type(), tt, "{name}");
    }
    if let Some(s) = want.get("scope").and_then(Value::as_str) {
        assert_eq!(t.scope(), Some(s), "{name}");
    }
    let left = t.expires_in().as_secs_f64();
    if let Some(min) = want.get("expires_in_min").and_then(Value::as_f64) {
        assert!(left >= min, "{name}: expires in {left}s, want >= {min}");
    }
    if let Some(max) = want.get("expires_in_max").and_then(Value::as_f64) {
        assert!(left <= max, "{name}: expires in {left}s, want <= {max}");
    }
    if let Some(want_claims) = want.get("claims").and_then(Value::as_object) {
        let got = claims(t.access_token());
        for (k, v) in want_claims {
            assert_eq!(&got[k], v, "{name}: claim {k}");
        }
    }
    let earlier_token = |key: &str| {
        want.get(key).and_then(Value::as_u64).map(|i| {
            earlier[i as usize]
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: step {i} has no token"))
                .access_token()
                .to_owned()
        })
    };
    if let Some(same) = earlier_token("same_as_step") {
        assert_eq!(t.access_token(), same, "{name}: expected the cached token");
    }
    if let Some(other) = earlier_token("differs_from_step") {
        assert_ne!(t.access_token(), other, "{name}: expected a new token");
    }
}

/// Calls `client.token()` without pause for `run_for`: (calls made, calls handed a token whose `exp` had
/// passed when the call began). The second must be 0: a token handed out at or after the call began, before
/// its exp, cannot have an exp before that beginning.
async fn calls_until(client: &TokenClient, run_for: Duration) -> (u64, u64) {
    let end = std::time::Instant::now() + run_for;
    let (mut calls, mut expired) = (0, 0);
    while std::time::Instant::now() < end {
        let began = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs_f64();
        let token = client.token().await.expect("a token");
        let exp = claims(token.access_token())["exp"].as_f64().expect("exp");
        calls += 1;
        if began >= exp {
            expired += 1;
        }
        tokio::task::yield_now().await;
    }
    (calls, expired)
}

/// The decoded header and claims of a JWS.
fn jws_parts(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let mut next = || {
        let part = parts.next().expect("a JWS part");
        serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(part).expect("base64url"))
            .expect("json")
    };
    (next(), next())
}

fn check_assertion(name: &str, requests: &[m2m_auth_mock::RecordedRequest], want: &Value) {
    let last = requests.last().expect("a request");
    let jwt = last
        .form
        .iter()
        .find(|(n, _)| n == "client_assertion")
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{name}: no client_assertion sent"));
    let (header, claims) = jws_parts(jwt);
    for (part, got) in [("header", &header), ("claims", &claims)] {
        for (k, v) in want
            .get(part)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            assert_eq!(&got[k], v, "{name}: assertion {part} {k}");
        }
    }
    if let Some(max) = want.get("max_lifetime_secs").and_then(Value::as_i64) {
        let (iat, exp) = (
            claims["iat"].as_i64().expect("iat"),
            claims["exp"].as_i64().expect("exp"),
        );
        assert!(
            exp > iat && exp - iat <= max,
            "{name}: assertion lives {}s",
            exp - iat
        );
    }
    if want.get("jti_unique").and_then(Value::as_bool) == Some(true) {
        let jtis: Vec<String> = requests
            .iter()
            .filter_map(|r| r.form.iter().find(|(n, _)| n == "client_assertion"))
            .map(|(_, jwt)| jws_parts(jwt).1["jti"].as_str().expect("jti").to_owned())
            .collect();
        let mut unique = jtis.clone();
        unique.sort();
        unique.dedup();
        assert!(jtis.len() > 1, "{name}: jti_unique needs several requests");
        assert_eq!(unique.len(), jtis.len(), "{name}: a jti was sent twice");
    }
}

fn check_wire(
    name: &str,
    mock: &MockServer,
    want: &Value,
    client_id: &str,
    secret: &str,
    m: &Material,
) {
    let requests = mock.requests();
    let last = requests
        .last()
        .unwrap_or_else(|| panic!("{name}: no request recorded"));
    let subst = |v: &str| m.subst(v, mock, secret);
    if let Some(method) = want.get("auth_method") {
        assert_eq!(
            last.auth_method.as_deref(),
            method.as_str(),
            "{name}: auth method"
        );
    }
    if let Some(assertion) = want.get("assertion") {
        check_assertion(name, &requests, &m.subst_value(assertion, mock, secret));
    }
    if let Some(presented) = want.get("client_cert").and_then(Value::as_bool) {
        let expected = presented.then(|| m.cert.as_ref().expect("a client_cert").2.clone());
        assert_eq!(
            last.client_cert_x5t_s256, expected,
            "{name}: client certificate presented"
        );
    }
    let field = |k: &str| {
        last.form
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    if let Some(form) = want.get("form").and_then(Value::as_object) {
        for (k, v) in form {
            assert_eq!(
                field(k),
                Some(subst(v.as_str().expect("string"))),
                "{name}: form field {k}"
            );
        }
    }
    if let Some(all) = want.get("form_all").and_then(Value::as_object) {
        for (k, v) in all {
            let got: Vec<Value> = last
                .form
                .iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| json!(v))
                .collect();
            assert_eq!(&Value::Array(got), v, "{name}: all of form field {k}");
        }
    }
    for k in want
        .get("form_absent")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let k = k.as_str().expect("string");
        assert_eq!(field(k), None, "{name}: form field {k} must not be sent");
    }
    if let Some(basic) = want.get("basic_auth") {
        let header = last
            .headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .map(|(_, v)| v.clone());
        match basic {
            Value::Null => assert_eq!(header, None, "{name}: no Authorization header expected"),
            Value::Array(pair) => {
                let header = header.unwrap_or_else(|| panic!("{name}: no Authorization header"));
                let encoded = header.strip_prefix("Basic ").expect("Basic scheme");
                let decoded =
                    String::from_utf8(STANDARD.decode(encoded).expect("base64")).expect("utf8");
                let (id, sec) = decoded.split_once(':').expect("id:secret");
                let dec = |s: &str| {
                    form_urlencoded::parse(format!("x={s}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                assert_eq!(dec(id), pair[0].as_str().expect("id"), "{name}: Basic id");
                assert_eq!(
                    dec(sec),
                    subst(pair[1].as_str().expect("secret")),
                    "{name}: Basic secret"
                );
                assert_eq!(dec(id), client_id);
            }
            other => panic!("{name}: bad basic_auth expectation {other}"),
        }
    }
}

/// A case that needs a server set up differently from the shared one gets its own.
async fn dedicated_mock(case: &Value, config: &MockConfig) -> Option<MockServer> {
    let server = &case["server"];
    let tls = server.get("tls").and_then(Value::as_bool);
    let methods = server.get("auth_methods_supported");
    let skew = server
        .get("assertion_clock_skew_secs")
        .and_then(Value::as_i64);
    if tls.is_none() && methods.is_none() && skew.is_none() {
        return None;
    }
    let config = MockConfig {
        tls: tls.unwrap_or(false),
        auth_methods_supported: methods
            .map(|m| serde_json::from_value(m.clone()).expect("methods")),
        assertion_clock_skew_secs: skew.unwrap_or(0),
        ..config.clone()
    };
    Some(MockServer::start(config).await.expect("dedicated mock"))
}

async fn run_case(name: &str, case: &Value, shared: &MockServer, config: &MockConfig) {
    let dedicated = dedicated_mock(case, config).await;
    let mock = dedicated.as_ref().unwrap_or(shared);
    mock.reset();
    let server = &case["server"];
    if let Some(l) = server.get("token_lifetime_secs").and_then(Value::as_u64) {
        mock.set_token_lifetime(l);
    }
    if let Some(f) = server.get("faults") {
        let faults: Vec<Fault> = serde_json::from_value(f.clone()).expect("faults");
        mock.push_faults(faults);
    }
    let secret = secret_of(case, config);
    let client_id = case["client"]["client_id"].as_str().expect("client_id");
    let material = Material::new(case, mock);
    if let Some(register) = case.get("register") {
        mock.register_client(material.registration(register))
            .unwrap_or_else(|e| panic!("{name}: registration refused: {e}"));
    }
    let built = build_client(case, mock, &secret, &material);
    if let Some(want) = case.get("build_error") {
        let e = built
            .err()
            .unwrap_or_else(|| panic!("{name}: expected a build error"));
        check_error(name, &e, want, &secret);
        return;
    }
    let client = built.unwrap_or_else(|e| panic!("{name}: build failed: {e}"));
    assert!(
        secret.is_empty() || !format!("{client:?}").contains(&secret),
        "{name}: secret in Debug"
    );

    let default_steps = vec![json!({"do": "get_token"})];
    let steps = case
        .get("steps")
        .and_then(Value::as_array)
        .unwrap_or(&default_steps);
    let mut tokens: Vec<Option<Arc<Token>>> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let label = format!("{name} step {i}");
        let mut got = None;
        match step["do"].as_str().expect("do") {
            "get_token" => {
                let result = match step.get("scopes").and_then(Value::as_array) {
                    Some(scopes) => {
                        let scopes = scopes
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect();
                        let params = client.params(Some(scopes), None, None).expect("params");
                        client.token_for(&params).await
                    }
                    None => client.token().await,
                };
                let want = &step["expect"];
                match (result, want.get("error")) {
                    (Ok(t), None) => {
                        if let Some(w) = want.get("token") {
                            check_token(
                                &label,
                                &t,
                                &material.subst_value(w, mock, &secret),
                                &tokens,
                            );
                        }
                        got = Some(t);
                    }
                    (Err(e), Some(w)) => check_error(&label, &e, w, &secret),
                    (Ok(t), Some(_)) => panic!("{label}: expected an error, got {t:?}"),
                    (Err(e), None) => panic!("{label}: unexpected error {e}"),
                }
            }
            "invalidate" => client.invalidate(),
            "invalidate_token" => {
                let i = step["of_step"].as_u64().expect("of_step") as usize;
                let token = tokens[i]
                    .as_ref()
                    .expect("a token at of_step")
                    .access_token()
                    .to_owned();
                for _ in 0..step["times"].as_u64().unwrap_or(1) {
                    client.invalidate_token(&token);
                }
            }
            "push_faults" => {
                let faults: Vec<Fault> =
                    serde_json::from_value(step["faults"].clone()).expect("faults");
                mock.push_faults(faults);
            }
            "get_token_concurrently" => {
                let n = step["callers"].as_u64().expect("callers");
                let tasks: Vec<_> = (0..n)
                    .map(|_| {
                        let c = client.clone();
                        tokio::spawn(async move { c.token().await })
                    })
                    .collect();
                let mut results = Vec::new();
                for t in tasks {
                    results.push(t.await.expect("join"));
                }
                let want = &step["expect"];
                if let Some(w) = want.get("error") {
                    for r in &results {
                        let e = r.as_ref().expect_err("every caller gets the error");
                        check_error(&label, e, w, &secret);
                    }
                } else {
                    let first = results[0].as_ref().expect("token").clone();
                    for r in &results {
                        let t = r.as_ref().expect("every caller gets a token");
                        assert_eq!(
                            t.access_token(),
                            first.access_token(),
                            "{label}: one token for all"
                        );
                    }
                    if let Some(w) = want.get("token") {
                        check_token(&label, &first, w, &tokens);
                    }
                    got = Some(first);
                }
            }
            "get_token_continuously" => {
                let callers = step["callers"].as_u64().expect("callers");
                let run_for = Duration::from_millis(step["ms"].as_u64().expect("ms"));
                assert_eq!(
                    step["expect"],
                    json!({"never_expired": true}),
                    "{label}: the expectation of get_token_continuously"
                );
                let tasks: Vec<_> = (0..callers)
                    .map(|_| {
                        let c = client.clone();
                        tokio::spawn(async move { calls_until(&c, run_for).await })
                    })
                    .collect();
                let (mut calls, mut expired) = (0, 0);
                for t in tasks {
                    let (n, late) = t.await.expect("join");
                    calls += n;
                    expired += late;
                }
                assert!(calls > callers * 10, "{label}: only {calls} calls");
                assert_eq!(
                    expired, 0,
                    "{label}: {expired} of {calls} calls got an expired token"
                );
            }
            "sleep" => {
                tokio::time::sleep(Duration::from_millis(step["ms"].as_u64().expect("ms"))).await;
            }
            other => panic!("{label}: unknown step {other}"),
        }
        tokens.push(got);
    }
    if let Some(n) = case.get("token_requests").and_then(Value::as_u64) {
        assert_eq!(mock.token_requests(), n, "{name}: token requests");
    }
    if let Some(wire) = case.get("wire") {
        check_wire(name, mock, wire, client_id, &secret, &material);
    }
}

/// The keys of `v` must be among `allowed[kind]` (tests/vectors/keys.json, which every runner checks).
fn only_keys(v: &Value, keys: &Value, kind: &str, where_: &str) -> Result<(), String> {
    let allowed = &keys[kind];
    let object = v
        .as_object()
        .ok_or_else(|| format!("{where_} must be an object"))?;
    for key in object.keys() {
        if !allowed
            .as_array()
            .is_some_and(|a| a.iter().any(|k| k == key.as_str()))
        {
            return Err(format!(
                "{where_}: unknown key {key:?} (keys.json {kind}: {allowed})"
            ));
        }
    }
    Ok(())
}

/// Every object of a case against tests/vectors/keys.json: a key no runner understands fails the case.
fn check_keys(case: &Value, keys: &Value) -> Result<(), String> {
    only_keys(case, keys, "case", "case")?;
    let client = &case["client"];
    only_keys(client, keys, "client", "client")?;
    for (name, kind) in [
        ("retry", "retry"),
        ("private_key", "private_key"),
        ("client_cert", "client_cert"),
    ] {
        if let Some(v) = client.get(name) {
            only_keys(v, keys, kind, &format!("client.{name}"))?;
        }
    }
    for (name, kind) in [
        ("server", "server"),
        ("register", "register"),
        ("build_error", "error"),
        ("wire", "wire"),
    ] {
        if let Some(v) = case.get(name) {
            only_keys(v, keys, kind, name)?;
        }
    }
    if let Some(a) = case.get("wire").and_then(|w| w.get("assertion")) {
        only_keys(a, keys, "assertion", "wire.assertion")?;
    }
    for (i, step) in case["steps"].as_array().into_iter().flatten().enumerate() {
        let action = step["do"].as_str().unwrap_or_default();
        let step_keys = &keys["step"];
        if step_keys.get(action).is_none() {
            return Err(format!("step {i}: unknown step {action:?}"));
        }
        only_keys(step, step_keys, action, &format!("step {i}"))?;
        if let Some(expect) = step.get("expect") {
            only_keys(expect, keys, "expect", &format!("step {i} expect"))?;
            for kind in ["token", "error"] {
                if let Some(v) = expect.get(kind) {
                    only_keys(v, keys, kind, &format!("step {i} expect.{kind}"))?;
                }
            }
        }
    }
    Ok(())
}

/// One test per case file, run one at a time: the cases share one mock server, reset before each.
fn main() -> std::process::ExitCode {
    let mut args = libtest_mimic::Arguments::from_args();
    args.test_threads = Some(1);
    let config = mock_config();
    let (runtime, mock) = vectors_runtime_and_mock();
    let keys: Value = serde_json::from_str(
        &std::fs::read_to_string(vectors_dir().join("keys.json")).expect("keys.json"),
    )
    .expect("keys.json");
    let keys = Arc::new(keys);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(vectors_dir().join("token"))
        .expect("vectors dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 30,
        "expected the shared vectors, found {}",
        paths.len()
    );
    let unknown_keys_fail = {
        let keys = Arc::clone(&keys);
        libtest_mimic::Trial::test("an_unknown_vector_key_fails_the_case", move || {
            let typo = json!({"client": {"client_id": "svc", "scopse": ["a"]}});
            let step = json!({"client": {"client_id": "svc"}, "steps": [{"do": "sleep", "ms": 1, "times": 2}]});
            for case in [typo, step] {
                if check_keys(&case, &keys).is_ok() {
                    return Err(format!("{case} passed the key check").into());
                }
            }
            Ok(())
        })
    };
    let trials = std::iter::once(unknown_keys_fail)
        .chain(paths.into_iter().map(|path| {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("name")
                .to_owned();
            let (runtime, mock, config, keys) = (
                Arc::clone(&runtime),
                Arc::clone(&mock),
                config.clone(),
                Arc::clone(&keys),
            );
            libtest_mimic::Trial::test(name.clone(), move || {
                let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
                let case: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                check_keys(&case, &keys)?;
                runtime.block_on(run_case(&name, &case, &mock, &config));
                Ok(())
            })
        }))
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}
