//! The `Verifier`: checks an access token a service was called with — signature (the issuer's JWKS), claims,
//! certificate binding (RFC 8705 §3), required scopes — and remembers tokens it verified (machine callers send
//! the same token thousands of times): a token seen before costs a hash and the time checks.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::ACCEPT;
use serde_json::Value;
use tokio::sync::OnceCell;
use url::Url;

use super::claims::{self, Claims, Expected};
use super::error::Rejection;
use super::jwks::Jwks;
use super::jws::{self, Alg, DEFAULT_ALGS};
use crate::endpoint::discovery::metadata_urls;
use crate::error::{Error, Result};
use crate::http::transport::{USER_AGENT, exchange};
use crate::http::url_policy::check_endpoint_url;

/// Builds a [`Verifier`]. All checks happen in [`Self::build`].
#[derive(Debug, Clone, Default)]
pub struct VerifierBuilder {
    issuer: Option<String>,
    jwks_url: Option<String>,
    audiences: Vec<String>,
    algorithms: Option<Vec<String>>,
    leeway: Option<Duration>,
    required_scopes: Vec<String>,
    jwks_cooldown: Option<Duration>,
    jwks_max_age: Option<Duration>,
    strict_typ: bool,
    timeout: Option<Duration>,
    allow_insecure_http: bool,
}

const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
const DEFAULT_COOLDOWN: Duration = Duration::from_secs(30);
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Tokens remembered as verified; the oldest is forgotten first.
const MAX_VERIFIED: usize = 10_000;
const MAX_METADATA_BYTES: usize = 256 * 1024;

impl VerifierBuilder {
    /// The issuer: its metadata names the JWKS (OpenID Connect, then RFC 8414), and `iss` must be it exactly.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The JWKS URL, instead of reading it from the issuer's metadata.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// An audience the token's `aud` may name (call again for several: any match passes). Required.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The algorithms accepted (default RS256, PS256, ES256, EdDSA). `none` and HMAC are never accepted.
    pub fn algorithms(mut self, algorithms: Vec<String>) -> Self {
        self.algorithms = Some(algorithms);
        self
    }

    /// Clock difference forgiven in `exp`, `nbf` and `iat` (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = Some(leeway);
        self
    }

    /// Scopes every token must have (all of them).
    pub fn required_scopes(mut self, scopes: Vec<String>) -> Self {
        self.required_scopes = scopes;
        self
    }

    /// The shortest time between two JWKS fetches for unknown kids (default 30 s).
    pub fn jwks_cooldown(mut self, cooldown: Duration) -> Self {
        self.jwks_cooldown = Some(cooldown);
        self
    }

    /// How long fetched keys are used before they are fetched again (default 10 min).
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.jwks_max_age = Some(max_age);
        self
    }

    /// Require RFC 9068's `typ: at+jwt` (off by default: SecureAuth issues `typ: JWT`).
    pub fn strict_typ(mut self, strict: bool) -> Self {
        self.strict_typ = strict;
        self
    }

    /// How long a request to the metadata or JWKS endpoint may take (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Allow plain http to hosts other than loopback for the metadata and JWKS.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    pub fn build(self) -> Result<Verifier> {
        let issuer = self
            .issuer
            .filter(|i| !i.trim().is_empty())
            .ok_or_else(|| Error::config("issuer", "is required: the iss every token must have"))?;
        let issuer_url = check_endpoint_url(&issuer, "issuer", self.allow_insecure_http)?;
        let jwks_url = self
            .jwks_url
            .map(|u| check_endpoint_url(&u, "jwks_url", self.allow_insecure_http))
            .transpose()?;
        let audiences: Vec<String> = self
            .audiences
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        if audiences.is_empty() {
            return Err(Error::config(
                "audience",
                "is required: a token for another API must not be accepted here",
            ));
        }
        let algorithms = match self.algorithms {
            None => DEFAULT_ALGS.to_vec(),
            Some(names) => names
                .iter()
                .map(|n| {
                    Alg::parse(n).ok_or_else(|| {
                        Error::config(
                            "algorithms",
                            format!(
                                "holds {:?}: accepted are RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, \
                                 EdDSA (never none or HMAC)",
                                n
                            ),
                        )
                    })
                })
                .collect::<Result<_>>()?,
        };
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        Ok(Verifier {
            inner: Arc::new(Inner {
                issuer,
                issuer_url,
                jwks_url,
                audiences,
                algorithms,
                leeway: self.leeway.unwrap_or(DEFAULT_LEEWAY),
                required_scopes: self.required_scopes,
                cooldown: self.jwks_cooldown.unwrap_or(DEFAULT_COOLDOWN),
                max_age: self.jwks_max_age.unwrap_or(DEFAULT_MAX_AGE),
                strict_typ: self.strict_typ,
                timeout,
                allow_insecure_http: self.allow_insecure_http,
                http,
                jwks: OnceCell::new(),
                verified: Mutex::default(),
            }),
        })
    }
}

/// Checks access tokens for one issuer and audience. Cheap to clone; share one per service.
#[derive(Debug, Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    issuer: String,
    issuer_url: Url,
    jwks_url: Option<Url>,
    audiences: Vec<String>,
    algorithms: Vec<Alg>,
    leeway: Duration,
    required_scopes: Vec<String>,
    cooldown: Duration,
    max_age: Duration,
    strict_typ: bool,
    timeout: Duration,
    allow_insecure_http: bool,
    http: reqwest::Client,
    jwks: OnceCell<Jwks>,
    verified: Mutex<Verified>,
}

/// Tokens verified before, by the SHA-256 of the token (never the token itself).
#[derive(Debug, Default)]
struct Verified {
    claims: HashMap<[u8; 32], Arc<Claims>>,
    order: VecDeque<[u8; 32]>,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn invalid(description: impl Into<String>) -> Rejection {
    Rejection::TokenInvalid {
        description: description.into(),
    }
}

impl Verifier {
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }

    /// The token's claims if it is valid here, else why not. `client_cert`: the DER certificate the request
    /// came with (mutual TLS), for tokens bound to one.
    pub async fn verify(
        &self,
        token: &str,
        client_cert: Option<&[u8]>,
    ) -> std::result::Result<Arc<Claims>, Rejection> {
        let token = token.trim();
        if token.is_empty() {
            return Err(invalid("no access token"));
        }
        let inner = &self.inner;
        let hash: [u8; 32] = digest::digest(&digest::SHA256, token.as_bytes())
            .as_ref()
            .try_into()
            .map_err(|_| invalid("the token cannot be hashed"))?;
        let known = inner
            .verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .claims
            .get(&hash)
            .cloned();
        let claims = match known {
            Some(claims) => {
                claims::check_times(&claims.claims, inner.leeway.as_secs_f64(), now())
                    .map_err(invalid)?;
                claims
            }
            None => {
                let claims = Arc::new(self.verify_new(token).await?);
                self.remember(hash, Arc::clone(&claims));
                claims
            }
        };
        check_binding(&claims, client_cert)?;
        let missing: Vec<&String> = inner
            .required_scopes
            .iter()
            .filter(|s| !claims.scopes.contains(s))
            .collect();
        if !missing.is_empty() {
            return Err(Rejection::InsufficientScope {
                description: format!(
                    "the token lacks the scope {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                required: inner.required_scopes.clone(),
            });
        }
        Ok(claims)
    }

    async fn verify_new(&self, token: &str) -> std::result::Result<Claims, Rejection> {
        let inner = &self.inner;
        let jws = jws::parse(token, &inner.algorithms).map_err(invalid)?;
        if inner.strict_typ
            && !jws.typ.as_deref().is_some_and(|t| {
                t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
            })
        {
            return Err(invalid(
                "the token is not an access token (typ at+jwt, RFC 9068)",
            ));
        }
        let keys = self
            .jwks()
            .await?
            .keys_for(jws.kid.as_deref(), jws.alg)
            .await?;
        let signed = keys
            .iter()
            .any(|k| k.verifies(jws.alg, jws.signing_input.as_bytes(), &jws.signature));
        if !signed {
            return Err(invalid("the token's signature does not verify"));
        }
        claims::check(
            jws.claims,
            &Expected {
                issuer: &inner.issuer,
                audiences: &inner.audiences,
                leeway: inner.leeway.as_secs_f64(),
                now: now(),
            },
        )
        .map_err(invalid)
    }

    fn remember(&self, hash: [u8; 32], claims: Arc<Claims>) {
        let mut verified = self
            .inner
            .verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if verified.claims.insert(hash, claims).is_none() {
            verified.order.push_back(hash);
        }
        while verified.order.len() > MAX_VERIFIED {
            if let Some(oldest) = verified.order.pop_front() {
                verified.claims.remove(&oldest);
            }
        }
    }

    /// The JWKS: configured, or named by the issuer's metadata (read once).
    async fn jwks(&self) -> std::result::Result<&Jwks, Rejection> {
        let inner = &self.inner;
        inner
            .jwks
            .get_or_try_init(|| async {
                let url = match &inner.jwks_url {
                    Some(url) => url.clone(),
                    None => self.discover_jwks_url().await?,
                };
                Ok(Jwks::new(
                    url,
                    inner.http.clone(),
                    inner.timeout,
                    inner.max_age,
                    inner.cooldown,
                ))
            })
            .await
    }

    /// `jwks_uri` of the issuer's metadata, whose `issuer` must be this one.
    async fn discover_jwks_url(&self) -> std::result::Result<Url, Rejection> {
        let inner = &self.inner;
        let unavailable = |what: String| Rejection::Unavailable {
            description: format!("the issuer's metadata {what}"),
        };
        for url in metadata_urls(&inner.issuer_url) {
            let request = inner
                .http
                .get(url.clone())
                .header(ACCEPT, "application/json");
            let answer = exchange(
                request,
                "discovery document",
                &url,
                inner.timeout,
                MAX_METADATA_BYTES,
            )
            .await
            .map_err(|e| unavailable(format!("cannot be read: {e}")))?;
            match answer.status {
                200 => {}
                404 | 410 => continue,
                status => return Err(unavailable(format!("({url}) answered HTTP {status}"))),
            }
            let doc: Value = serde_json::from_slice(&answer.body)
                .map_err(|_| unavailable(format!("({url}) is not JSON")))?;
            let stated = doc
                .get("issuer")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if stated.trim_end_matches('/') != inner.issuer.trim_end_matches('/') {
                return Err(unavailable(format!("({url}) is for another issuer")));
            }
            let jwks_uri = doc
                .get("jwks_uri")
                .and_then(Value::as_str)
                .ok_or_else(|| unavailable(format!("({url}) names no jwks_uri")))?;
            return check_endpoint_url(jwks_uri, "jwks_uri", inner.allow_insecure_http).map_err(
                |e| unavailable(format!("({url}) names a jwks_uri that cannot be used: {e}")),
            );
        }
        Err(unavailable(
            "was not found (neither OpenID Connect nor RFC 8414)".into(),
        ))
    }
}

/// RFC 8705 §3: a token with `cnf.x5t#S256` is only good with the certificate whose SHA-256 it names.
fn check_binding(
    claims: &Claims,
    client_cert: Option<&[u8]>,
) -> std::result::Result<(), Rejection> {
    let Some(bound) = claims
        .claims
        .get("cnf")
        .and_then(|c| c.get("x5t#S256"))
        .and_then(Value::as_str)
    else {
        return Ok(());
    };
    let Some(cert) = client_cert else {
        return Err(invalid(
            "the token is bound to a client certificate, and the request came without one",
        ));
    };
    let thumbprint = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, cert));
    if thumbprint != bound.trim_end_matches('=') {
        return Err(invalid(
            "the token is bound to another client certificate than the request's",
        ));
    }
    Ok(())
}
