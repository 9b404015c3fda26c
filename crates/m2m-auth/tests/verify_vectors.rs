//! Runs every shared case in `tests/vectors/verify/` (the Verifier) against the mock authorization server,
//! which mints the tokens, rotates its keys, takes endpoints down and counts requests. The Python and Node
//! suites run the same files; see `tests/vectors/README.md` for the format.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use m2m_auth::settings::{SettingValue, Surface};
use m2m_auth::verify::{certificate_der, find_verifier_setting};
use m2m_auth::{Claims, Policy, Rejection, Verifier, VerifierOptions};
use m2m_auth_mock::testkeys;
use m2m_auth_mock::{MockConfig, MockServer};
use serde_json::{Value, json};

mod common;
use common::{vectors_dir, vectors_mock_config as mock_config, vectors_runtime_and_mock};

type Outcome = Result<(), String>;

fn check(ok: bool, what: impl FnOnce() -> String) -> Outcome {
    if ok { Ok(()) } else { Err(what()) }
}

/// Every key of `value` must be one the format knows (`keys.json`).
fn known(what: &str, value: &Value, keys: &Value) -> Outcome {
    let allowed: Vec<&str> = keys
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for key in value.as_object().map(|o| o.keys()).into_iter().flatten() {
        check(allowed.contains(&key.as_str()), || {
            format!("unknown {what} key {key:?}")
        })?;
    }
    Ok(())
}

fn check_keys(case: &Value, keys: &Value) -> Outcome {
    known("case", case, &keys["verify_case"])?;
    known("verifier", &case["verifier"], &keys["verifier"])?;
    if let Some(i) = case["verifier"].get("introspection") {
        known("introspection", i, &keys["introspection"])?;
    }
    for step in case["steps"].as_array().into_iter().flatten() {
        let op = step["do"].as_str().unwrap_or_default();
        let step_keys = keys["verify_step"]
            .get(op)
            .ok_or_else(|| format!("unknown step {op:?}"))?;
        known(&format!("{op} step"), step, step_keys)?;
        if let Some(expect) = step.get("expect") {
            known("expect", expect, &keys["verify_expect"])?;
            if let Some(e) = expect.get("error") {
                known("error", e, &keys["verify_error"])?;
            }
        }
    }
    Ok(())
}

/// What one case works with: the mock, the certificates it generated, the tokens it minted.
struct Run<'a> {
    mock: &'a MockServer,
    http: reqwest::Client,
    /// (PEM, x5t#S256) of the case's certificate and of an unrelated one.
    cert: (String, String),
    other_cert: String,
    tokens: std::collections::HashMap<String, Vec<String>>,
}

impl Run<'_> {
    fn subst(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(
                s.replace("{issuer}", &self.mock.issuer())
                    .replace("{mock}", &self.mock.url())
                    .replace("{cert_x5t}", &self.cert.1),
            ),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.subst(x)).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, x)| (k.clone(), self.subst(x))).collect())
            }
            other => other.clone(),
        }
    }

    async fn admin(&self, path: &str, body: &Value) -> Result<Value, String> {
        let answer = self
            .http
            .post(format!("{}{path}", self.mock.url()))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| format!("{path}: {e}"))?;
        let body: Value =
            serde_json::from_str(&text).map_err(|e| format!("{path}: {e}: {text}"))?;
        check(status.is_success(), || {
            format!("{path} answered {status}: {body}")
        })?;
        Ok(body)
    }

    async fn stats(&self) -> Result<Value, String> {
        let answer = self
            .http
            .get(format!("{}/mock/stats", self.mock.url()))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let text = answer.text().await.map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| e.to_string())
    }
}

/// The verifier a case describes: its settings by their core names (durations in `_ms`), and the
/// introspection client's id and method, with its secret from `mock-server.json`.
fn verifier_of(spec: &Value, config: &MockConfig) -> Result<Verifier, String> {
    let mut o = VerifierOptions::default();
    for (key, value) in spec.as_object().into_iter().flatten() {
        if key == "introspection" {
            let id = value["client_id"].as_str().unwrap_or_default();
            let secret = config
                .clients
                .iter()
                .find(|c| c.client_id == id)
                .map(|c| c.client_secret.clone())
                .ok_or_else(|| format!("no client {id} in mock-server.json"))?;
            for (name, v) in [
                ("client_id", id.to_owned()),
                ("client_secret", secret),
                (
                    "auth_method",
                    value["auth_method"].as_str().unwrap_or_default().to_owned(),
                ),
            ] {
                let setting = find_verifier_setting(Surface::Rust, name).ok_or(name)?;
                o.set(setting, SettingValue::Text(v), Surface::Rust)
                    .map_err(|e| e.to_string())?;
            }
            continue;
        }
        let (name, value) = match key.strip_suffix("_ms") {
            Some(name) => (
                name,
                SettingValue::Number(value.as_f64().unwrap_or(f64::NAN) / 1000.0),
            ),
            None => (
                key.as_str(),
                match value {
                    Value::String(s) => SettingValue::Text(s.clone()),
                    Value::Bool(b) => SettingValue::Flag(*b),
                    Value::Array(items) => SettingValue::List(
                        items
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect(),
                    ),
                    other => return Err(format!("{key}: {other} is not a setting value")),
                },
            ),
        };
        let setting = find_verifier_setting(Surface::Rust, name)
            .ok_or_else(|| format!("{name} is no verifier setting"))?;
        o.set(setting, value, Surface::Rust)
            .map_err(|e| e.to_string())?;
    }
    o.build().map_err(|e| e.to_string())
}

fn check_claims(claims: &Claims, expect: &Value) -> Outcome {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    check(expect.get("error").is_none(), || {
        format!("verified, expected {}", expect["error"])
    })?;
    if let Some(id) = expect.get("client_id") {
        check(claims.client_id.as_deref() == id.as_str(), || {
            format!("client_id {:?}, expected {id}", claims.client_id)
        })?;
    }
    if let Some(scopes) = expect.get("scopes") {
        check(claims.scopes == strings(scopes), || {
            format!("scopes {:?}, expected {scopes}", claims.scopes)
        })?;
    }
    if let Some(audience) = expect.get("audience") {
        check(claims.audience == strings(audience), || {
            format!("audience {:?}, expected {audience}", claims.audience)
        })?;
    }
    for (name, value) in expect
        .get("claims")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        check(claims.claims.get(name) == Some(value), || {
            format!(
                "claim {name} is {:?}, expected {value}",
                claims.claims.get(name)
            )
        })?;
    }
    Ok(())
}

fn check_rejection(rejection: &Rejection, expect: &Value, token: &str) -> Outcome {
    let Some(e) = expect.get("error") else {
        return Err(format!("rejected ({rejection}), expected claims"));
    };
    check(e["kind"] == rejection.class_name(), || {
        format!(
            "{} ({rejection}), expected {}",
            rejection.class_name(),
            e["kind"]
        )
    })?;
    if let Some(status) = e.get("status") {
        check(
            status.as_u64() == Some(u64::from(rejection.status())),
            || format!("status {}, expected {status}", rejection.status()),
        )?;
    }
    if let Some(code) = e.get("error") {
        check(code.as_str() == rejection.error_code(), || {
            format!("error {:?}, expected {code}", rejection.error_code())
        })?;
    }
    let message = rejection.to_string();
    for part in e
        .get("message_contains")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let part = part.as_str().unwrap_or_default();
        check(message.contains(part), || {
            format!("{message:?} lacks {part:?}")
        })?;
    }
    if let Some(required) = e.get("required_scopes") {
        check(json!(rejection.required_scopes()) == *required, || {
            format!(
                "required scopes {:?}, expected {required}",
                rejection.required_scopes()
            )
        })?;
    }
    let challenge = rejection.www_authenticate(Some("vectors"));
    if let Some(expected) = e.get("www_authenticate").and_then(Value::as_str) {
        check(challenge == expected, || {
            format!("{challenge:?}, expected {expected:?}")
        })?;
    }
    check(
        token.len() < 8 || !(message.contains(token) || challenge.contains(token)),
        || "the error holds the token".into(),
    )
}

async fn run_case(case: &Value, mock: &MockServer, config: &MockConfig) -> Outcome {
    let cert = testkeys::self_signed_certificate("CN=vectors-cert").map_err(|e| e.to_string())?;
    let other = testkeys::self_signed_certificate("CN=vectors-other").map_err(|e| e.to_string())?;
    let mut run = Run {
        mock,
        http: reqwest::Client::new(),
        cert: (cert.cert_pem, cert.x5t_s256),
        other_cert: other.cert_pem,
        tokens: Default::default(),
    };
    run.admin("/mock/reset", &json!({})).await?;
    let verifier = verifier_of(&run.subst(&case["verifier"]), config)?;
    for (i, step) in case["steps"].as_array().into_iter().flatten().enumerate() {
        let at = |e: String| format!("step {i} ({}): {e}", step["do"]);
        match step["do"].as_str().unwrap_or_default() {
            "mint" => {
                let answer = run
                    .admin("/mock/tokens", &run.subst(&step["token"]))
                    .await
                    .map_err(at)?;
                let tokens = answer["tokens"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                run.tokens
                    .insert(step["as"].as_str().unwrap_or("t").to_owned(), tokens);
            }
            op @ ("verify" | "verify_all") => {
                let tokens: Vec<String> = match step.get("literal").and_then(Value::as_str) {
                    Some(literal) => vec![literal.to_owned()],
                    None => {
                        let name = step["token"].as_str().unwrap_or("t");
                        let all = run
                            .tokens
                            .get(name)
                            .cloned()
                            .ok_or_else(|| at(format!("no token {name}")))?;
                        if op == "verify" {
                            all.into_iter().take(1).collect()
                        } else {
                            all
                        }
                    }
                };
                let cert = match step.get("client_cert").and_then(Value::as_str) {
                    Some("case") => certificate_der(&run.cert.0),
                    Some("other") => certificate_der(&run.other_cert),
                    _ => None,
                };
                let policy = step
                    .get("policy")
                    .map(|p| Policy::from_json(p).map_err(&at))
                    .transpose()?;
                let times = step.get("times").and_then(Value::as_u64).unwrap_or(1);
                // `callers`: each token verified by that many requests at once.
                let callers = step.get("callers").and_then(Value::as_u64).unwrap_or(1) as usize;
                let tokens: Vec<String> = tokens
                    .iter()
                    .flat_map(|t| std::iter::repeat_n(t.clone(), callers))
                    .collect();
                let expect = run.subst(&step["expect"]);
                let checks = tokens.iter().map(|token| {
                    let (verifier, cert, policy, expect) = (&verifier, &cert, &policy, &expect);
                    async move {
                        for _ in 0..times {
                            match verifier
                                .verify_for(token, cert.as_deref(), policy.as_ref())
                                .await
                            {
                                Ok(claims) => check_claims(&claims, expect)?,
                                Err(rejection) => check_rejection(&rejection, expect, token)?,
                            }
                        }
                        Ok::<(), String>(())
                    }
                });
                futures::future::try_join_all(checks).await.map_err(at)?;
            }
            "rotate_keys" => {
                run.admin("/mock/keys/rotate", &json!({}))
                    .await
                    .map_err(at)?;
            }
            "outage" => {
                let mut body = step.clone();
                body.as_object_mut().map(|o| o.remove("do"));
                run.admin("/mock/outage", &body).await.map_err(at)?;
            }
            "sleep" => {
                tokio::time::sleep(Duration::from_millis(step["ms"].as_u64().unwrap_or(0))).await;
            }
            other => return Err(format!("unknown step {other:?}")),
        }
    }
    let stats = run.stats().await?;
    for counter in [
        "jwks_requests",
        "introspection_requests",
        "metadata_requests",
    ] {
        if let Some(expected) = case.get(counter) {
            check(stats[counter] == *expected, || {
                format!("{counter}: {}, expected {expected}", stats[counter])
            })?;
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let mut args = libtest_mimic::Arguments::from_args();
    // One mock, its counters reset per case: the cases run one after another.
    args.test_threads = Some(1);
    let config = mock_config();
    let (runtime, mock) = vectors_runtime_and_mock();
    let keys: Arc<Value> = Arc::new(
        serde_json::from_str(
            &std::fs::read_to_string(vectors_dir().join("keys.json")).expect("keys.json"),
        )
        .expect("keys.json"),
    );
    let mut paths: Vec<PathBuf> = std::fs::read_dir(vectors_dir().join("verify"))
        .expect("verify vectors")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 30,
        "expected the verify vectors, found {}",
        paths.len()
    );
    let mut trials = vec![{
        let keys = Arc::clone(&keys);
        libtest_mimic::Trial::test("an_unknown_verify_vector_key_fails_the_case", move || {
            let typo = json!({"verifier": {"isuer": "x"}, "steps": []});
            let step = json!({"verifier": {}, "steps": [{"do": "verify", "tokn": "t"}]});
            for case in [typo, step] {
                if check_keys(&case, &keys).is_ok() {
                    return Err(format!("{case} passed the key check").into());
                }
            }
            Ok(())
        })
    }];
    for path in paths {
        let name = path
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let (runtime, mock, keys, config) = (
            Arc::clone(&runtime),
            Arc::clone(&mock),
            Arc::clone(&keys),
            config.clone(),
        );
        trials.push(libtest_mimic::Trial::test(name, move || {
            let case: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
            check_keys(&case, &keys)?;
            runtime
                .block_on(run_case(&case, &mock, &config))
                .map_err(Into::into)
        }));
    }
    libtest_mimic::run(&args, trials).exit_code()
}
