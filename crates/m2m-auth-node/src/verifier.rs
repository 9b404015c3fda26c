//! `NativeVerifier` and `NativePolicy`: what `node/verifier.js` wraps. Converts the options object (the core's
//! `VERIFIER_SETTINGS`), answers tokens checked before synchronously (`verifyKnown`), fetches keys or asks the
//! introspection endpoint in a Promise (`verify`), and maps rejections to tagged records that `errors.js`
//! turns into `TokenInvalid`, `InsufficientScope` and `VerifierUnavailable`. Every check is the core's.

use std::sync::Arc;

use napi::Env;
use napi::Status;
use napi::bindgen_prelude::{Buffer, Either, PromiseRaw};
use napi_derive::napi;
use serde_json::{Map, Value, json};

use m2m_auth::settings::Surface;
use m2m_auth::verify::{bearer_token as core_bearer_token, certificate_der, find_verifier_setting};
use m2m_auth::{Claims, Policy, Rejection, Verifier, VerifierOptions};

use crate::error::{TAG, config_error_as_written, guarded, guarded_sync, to_napi};
use crate::options::read;

/// A verified token's claims, as `verifier.js` hands them out.
#[napi(object)]
#[derive(Debug)]
pub struct NativeClaims {
    pub issuer: String,
    pub subject: Option<String>,
    /// `client_id`, else `azp`, else `sub`.
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    /// `exp` in milliseconds since the epoch (a `Date` value).
    pub expires_at_ms: f64,
    /// Every claim, as the token has it.
    pub claims: Value,
    /// Until when (ms since the epoch) `verifier.js` may answer this token again from its mirror without
    /// asking the addon: the core's word (see `Verifier::accepted_until`); none for a bound token.
    pub mirror_until_ms: Option<f64>,
}

impl From<&Claims> for NativeClaims {
    fn from(c: &Claims) -> Self {
        Self {
            issuer: c.issuer.clone(),
            subject: c.subject.clone(),
            client_id: c.client_id.clone(),
            scopes: c.scopes.clone(),
            audience: c.audience.clone(),
            expires_at_ms: c.expires_at * 1000.0,
            claims: Value::Object(c.claims.clone()),
            mirror_until_ms: None,
        }
    }
}

/// A rejection as a tagged error record (see `error.rs`).
fn rejected(rejection: &Rejection) -> napi::Error {
    let record = json!({
        "code": rejection.code(),
        "name": rejection.class_name(),
        "message": rejection.to_string(),
        "status": rejection.status(),
        "error": rejection.error_code(),
        "errorDescription": rejection.description(),
        "requiredScopes": rejection.required_scopes(),
    });
    napi::Error::new(Status::GenericFailure, format!("{TAG}{record}"))
}

fn answer(
    verifier: &Verifier,
    token: &str,
    result: Result<Arc<Claims>, Rejection>,
) -> napi::Result<NativeClaims> {
    let claims = result.map_err(|r| rejected(&r))?;
    let mut out = NativeClaims::from(claims.as_ref());
    out.mirror_until_ms = verifier
        .accepted_until(token, &claims)
        .map(|until| until * 1000.0);
    Ok(out)
}

/// The certificate a request came with: a Buffer (DER) or text (PEM, URL-encoded PEM, base64 DER) as a proxy
/// passes it; text that is none of them counts as no certificate.
fn cert_der(cert: Option<Either<Buffer, String>>) -> Option<Vec<u8>> {
    match cert? {
        Either::A(der) => Some(der.to_vec()),
        Either::B(text) => certificate_der(&text),
    }
}

#[napi]
#[derive(Debug)]
pub struct NativeVerifier {
    inner: Verifier,
}

#[napi]
impl NativeVerifier {
    #[napi(constructor)]
    pub fn new(options: Map<String, Value>) -> napi::Result<Self> {
        guarded_sync(|| {
            let mut o = VerifierOptions::default();
            for (key, value) in options {
                if value.is_null() {
                    continue;
                }
                let setting = find_verifier_setting(Surface::Node, &key)
                    .ok_or_else(|| config_error_as_written(&key, "is not a Verifier option"))?;
                let value = read(setting, value).map_err(to_napi)?;
                o.set(setting, value, Surface::Node).map_err(to_napi)?;
            }
            Ok(Self {
                inner: o.build().map_err(to_napi)?,
            })
        })
    }

    /// The answer for a token that needs nothing fetched — one checked before, or a new JWT whose keys are at
    /// hand and fresh (claims, or a thrown rejection) — or `undefined` when it needs `verify`.
    #[napi]
    pub fn verify_known(
        &self,
        token: String,
        client_cert: Option<Either<Buffer, String>>,
        policy: Option<&NativePolicy>,
    ) -> napi::Result<Option<NativeClaims>> {
        guarded_sync(|| {
            let cert = cert_der(client_cert);
            self.inner
                .verify_ready(&token, cert.as_deref(), policy.map(|p| p.inner.as_ref()))
                .map(|known| answer(&self.inner, &token, known))
                .transpose()
        })
    }

    /// Checks a token not seen before (its keys fetched, or the introspection endpoint asked), with the
    /// route's policy, and remembers the answer: a Promise.
    #[napi(ts_return_type = "Promise<NativeClaims>")]
    pub fn verify<'env>(
        &self,
        env: &'env Env,
        token: String,
        client_cert: Option<Buffer>,
        policy: Option<&NativePolicy>,
    ) -> napi::Result<PromiseRaw<'env, NativeClaims>> {
        let verifier = self.inner.clone();
        let cert = client_cert.map(|c| c.to_vec());
        // The policy's own Arc: the future outlives this call's borrow of the JS object.
        let policy = policy.map(|p| Arc::clone(&p.inner));
        env.spawn_future(guarded(async move {
            let result = verifier
                .verify_for(&token, cert.as_deref(), policy.as_deref())
                .await;
            answer(&verifier, &token, result)
        }))
    }

    /// The DER of a certificate given as text, as `verify` takes it.
    #[napi]
    pub fn certificate_der(&self, text: String) -> Option<Buffer> {
        certificate_der(&text).map(Buffer::from)
    }

    #[napi(getter)]
    pub fn realm(&self) -> Option<String> {
        self.inner.realm().map(str::to_owned)
    }
}

/// A route's requirements, built once from the description `verifier.js`'s `Policy` makes.
#[napi]
#[derive(Debug)]
pub struct NativePolicy {
    inner: Arc<Policy>,
}

#[napi]
impl NativePolicy {
    #[napi(constructor)]
    pub fn new(description: Value) -> napi::Result<Self> {
        Policy::from_json(&description)
            .map(|p| Self { inner: Arc::new(p) })
            .map_err(|e| {
                to_napi(m2m_auth::Error::Config {
                    field: "policy".into(),
                    message: format!(": {e}"),
                })
            })
    }
}

/// The token of an `Authorization` header value (RFC 6750 §2.1), else a thrown `TokenInvalid` (without an
/// error code when there is no bearer token at all): what the Express and Fastify integrations read first.
#[napi]
pub fn bearer_token(authorization: Option<String>) -> napi::Result<String> {
    core_bearer_token(authorization.as_deref())
        .map(str::to_owned)
        .map_err(|r| rejected(&r))
}

/// The certificate a trusted proxy passed, from every value the request has of its header (`null` unless
/// exactly one): the core's rule, shared with Python.
#[napi]
pub fn forwarded_certificate(values: Vec<String>) -> Option<String> {
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    m2m_auth::verify::forwarded_certificate(&values).map(str::to_owned)
}

/// The RFC 6750 §3 `WWW-Authenticate` value of a verification error, as its class, description and scopes
/// describe it (`err.wwwAuthenticate(realm)`).
#[napi]
pub fn www_authenticate(
    class_name: String,
    description: String,
    required_scopes: Vec<String>,
    realm: Option<String>,
) -> napi::Result<String> {
    Rejection::of_class(&class_name, description, required_scopes)
        .map(|r| r.www_authenticate(realm.as_deref()))
        .ok_or_else(|| {
            napi::Error::new(
                Status::InvalidArg,
                format!("{class_name} is not a verification error"),
            )
        })
}
