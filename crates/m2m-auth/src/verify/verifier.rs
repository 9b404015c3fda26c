//! The `Verifier`: checks an access token a service was called with — a JWT's signature (the issuer's JWKS)
//! and claims, an opaque token's introspection (RFC 7662), the certificate binding (RFC 8705 §3), the required
//! scopes and the route's policy — and remembers the tokens it checked (machine callers send the same token
//! thousands of times): a token seen before costs a hash and the time checks.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::OnceCell;
use url::Url;

use super::binding::check_binding;
use super::claims::{self, Claims, Expected};
use super::error::Rejection;
use super::introspect::{Introspection, inactive};
use super::jwks::Jwks;
use super::jws::{self, Alg, DEFAULT_ALGS};
use super::policy::Policy;
use super::remembered::{self, Answer, Flights, Remembered};
use crate::TokenClient;
use crate::cache::shared::documents::SharedDocuments;
use crate::config::shared_settings;
use crate::credentials::secret::SecretString;
use crate::credentials::tls::CaBundle;
use crate::endpoint::discovery::fetch_metadata;
use crate::error::{Error, Result};
use crate::http::transport::base_builder;
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
    ca_bundle: Option<CaBundle>,
    introspection_client: Option<TokenClient>,
    introspection_url: Option<String>,
    introspection_max_age: Option<Duration>,
    realm: Option<String>,
    cache_url: Option<SecretString>,
    cache_prefix: Option<String>,
    cache_timeout: Option<Duration>,
    cache_encryption_key: Option<SecretString>,
}

const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
const DEFAULT_COOLDOWN: Duration = Duration::from_secs(30);
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_INTROSPECTION_MAX_AGE: Duration = Duration::from_secs(60);

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

    /// CA certificates to trust for the metadata, JWKS and introspection endpoints instead of the system's.
    pub fn ca_bundle(mut self, bundle: CaBundle) -> Self {
        self.ca_bundle = Some(bundle);
        self
    }

    /// Check opaque tokens (anything but a JWS) at the introspection endpoint (RFC 7662), authenticating as
    /// `client` — built for the same issuer, with the verifier's own credentials.
    pub fn introspection(mut self, client: TokenClient) -> Self {
        self.introspection_client = Some(client);
        self
    }

    /// The introspection endpoint, instead of the metadata's `introspection_endpoint`.
    pub fn introspection_url(mut self, url: impl Into<String>) -> Self {
        self.introspection_url = Some(url.into());
        self
    }

    /// How long an introspection answer is used at most (default 60 s; never past the token's `exp`).
    pub fn introspection_max_age(mut self, max_age: Duration) -> Self {
        self.introspection_max_age = Some(max_age);
        self
    }

    /// The `realm` of the `WWW-Authenticate` challenges the integrations answer with.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Share the issuer's keys and introspection answers with the fleet: `redis://…`, `file:DIR`, as for a
    /// token client (`memory:`, the default, shares nothing). Needs [`Self::cache_encryption_key`].
    pub fn cache_url(mut self, url: impl Into<SecretString>) -> Self {
        self.cache_url = Some(url.into());
        self
    }

    /// Put before every name in the shared cache (default `m2m-auth:`).
    pub fn cache_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.cache_prefix = Some(prefix.into());
        self
    }

    /// The longest one shared-cache operation may take (default 0.25 s); slower counts as a miss.
    pub fn cache_timeout(mut self, timeout: Duration) -> Self {
        self.cache_timeout = Some(timeout);
        self
    }

    /// 32 bytes in base64 that seal the shared entries: every verifier of the fleet is given the same.
    pub fn cache_encryption_key(mut self, key: impl Into<SecretString>) -> Self {
        self.cache_encryption_key = Some(key.into());
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
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        // No redirects: a key set or metadata moved elsewhere is a configuration to fix, not to follow.
        let mut http = base_builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout);
        if let Some(bundle) = &self.ca_bundle {
            http = http.tls_certs_only(bundle.certificates());
        }
        let http = http
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        let introspection_url = self
            .introspection_url
            .map(|u| check_endpoint_url(&u, "introspection_url", self.allow_insecure_http))
            .transpose()?;
        let introspection = match self.introspection_client {
            Some(client) => Some(Introspection {
                client,
                url: introspection_url,
                max_age: self
                    .introspection_max_age
                    .unwrap_or(DEFAULT_INTROSPECTION_MAX_AGE),
            }),
            None if introspection_url.is_some() => {
                return Err(Error::config(
                    "introspection_url",
                    "is set, but no `client_id` to authenticate the introspection requests with",
                ));
            }
            None => None,
        };
        let shared = match shared_settings(
            self.cache_url.map(|u| u.expose().to_owned()),
            self.cache_prefix,
            self.cache_timeout,
            None,
            self.cache_encryption_key,
        )? {
            Some(settings) => {
                SharedDocuments::new(settings, self.ca_bundle.as_ref().map(CaBundle::pem))?
                    .map(Arc::new)
            }
            None => None,
        };
        let mut policy = Vec::new();
        if !self.required_scopes.is_empty() {
            policy.push(Policy::AllScopes(self.required_scopes));
        }
        Ok(Verifier {
            inner: Arc::new(Inner {
                issuer,
                issuer_url,
                jwks_url,
                audiences,
                algorithms,
                leeway: self.leeway.unwrap_or(DEFAULT_LEEWAY),
                policy: Policy::AllOf(policy),
                cooldown: self.jwks_cooldown.unwrap_or(DEFAULT_COOLDOWN),
                max_age: self.jwks_max_age.unwrap_or(DEFAULT_MAX_AGE),
                strict_typ: self.strict_typ,
                timeout,
                allow_insecure_http: self.allow_insecure_http,
                realm: self.realm,
                http,
                metadata: OnceCell::new(),
                metadata_failed: Mutex::default(),
                jwks: OnceCell::new(),
                introspection,
                shared,
                remembered: Remembered::default(),
                flights: Flights::default(),
                introspection_failed: Mutex::default(),
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
    /// What every token must meet (`required_scopes`).
    policy: Policy,
    cooldown: Duration,
    max_age: Duration,
    strict_typ: bool,
    timeout: Duration,
    allow_insecure_http: bool,
    realm: Option<String>,
    http: reqwest::Client,
    /// The endpoints the issuer's metadata names, read once (when needed).
    metadata: OnceCell<Endpoints>,
    /// The last failed read of the metadata: within a JWKS cooldown of it, requests are answered 503 at once
    /// instead of each waiting for a read of its own (an unreachable issuer must not queue up the traffic).
    metadata_failed: Mutex<Option<(Instant, Rejection)>>,
    jwks: OnceCell<Arc<Jwks>>,
    introspection: Option<Introspection>,
    /// The fleet's keys and introspection answers, with a shared `cache_url`.
    shared: Option<Arc<SharedDocuments>>,
    remembered: Remembered,
    /// Introspections in progress.
    flights: Flights,
    /// The last failed introspection: for a moment after it, opaque tokens are answered 503 without a request
    /// (an endpoint that is down is not asked once per request).
    introspection_failed: Mutex<Option<(Instant, Rejection)>>,
}

/// How long a failed introspection answers for the endpoint.
const INTROSPECTION_PAUSE: Duration = Duration::from_secs(1);

/// An introspection answer as the fleet shares it: until when it holds (seconds since the epoch), and the
/// active token's fields (`None`: not active).
#[derive(Debug, Serialize, Deserialize)]
struct SharedAnswer {
    until: f64,
    fields: Option<Map<String, Value>>,
}

/// What the verifier takes from the issuer's metadata.
#[derive(Debug)]
struct Endpoints {
    jwks: Option<Url>,
    introspection: Option<Url>,
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

    /// The `realm` configured for `WWW-Authenticate` challenges.
    pub fn realm(&self) -> Option<&str> {
        self.inner.realm.as_deref()
    }

    /// The token's claims if it is valid here, else why not. `client_cert`: the DER certificate the request
    /// came with (mutual TLS), for tokens bound to one.
    pub async fn verify(
        &self,
        token: &str,
        client_cert: Option<&[u8]>,
    ) -> std::result::Result<Arc<Claims>, Rejection> {
        self.verify_for(token, client_cert, None).await
    }

    /// As [`Self::verify`], and the token must also meet the route's `policy`.
    pub async fn verify_for(
        &self,
        token: &str,
        client_cert: Option<&[u8]>,
        policy: Option<&Policy>,
    ) -> std::result::Result<Arc<Claims>, Rejection> {
        if let Some(known) = self.verify_known(token, client_cert, policy) {
            return known;
        }
        let token = token.trim();
        let inner = &self.inner;
        let hash = remembered::token_hash(token);
        let claims = if jws::is_compact_jws(token) {
            let claims = Arc::new(self.verify_new(token).await?);
            inner
                .remembered
                .insert(hash, Answer::Verified(Arc::clone(&claims)), None);
            claims
        } else {
            inner
                .flights
                .join(hash, self.introspect(token, hash, now()))
                .await?
        };
        self.accept(claims, client_cert, policy)
    }

    /// The answer for a token that needs nothing fetched: one checked before (see [`Self::verify_known`]), or
    /// a new JWT whose keys are at hand and fresh — its signature checked here, on the caller's thread (the
    /// Node package answers such tokens without a trip through the runtime). `None` when it needs the keys
    /// fetched or the introspection endpoint asked.
    pub fn verify_ready(
        &self,
        token: &str,
        client_cert: Option<&[u8]>,
        policy: Option<&Policy>,
    ) -> Option<std::result::Result<Arc<Claims>, Rejection>> {
        if let Some(known) = self.verify_known(token, client_cert, policy) {
            return Some(known);
        }
        let token = token.trim();
        let claims = match self.verify_new_now(token)? {
            Ok(claims) => Arc::new(claims),
            Err(e) => return Some(Err(e)),
        };
        self.inner.remembered.insert(
            remembered::token_hash(token),
            Answer::Verified(Arc::clone(&claims)),
            None,
        );
        Some(self.accept(claims, client_cert, policy))
    }

    /// The answer for a token checked before (or an empty one), without waiting for anything and without a
    /// signature check: `None` when the token is new. The bindings answer the common call here.
    pub fn verify_known(
        &self,
        token: &str,
        client_cert: Option<&[u8]>,
        policy: Option<&Policy>,
    ) -> Option<std::result::Result<Arc<Claims>, Rejection>> {
        let token = token.trim();
        if token.is_empty() {
            return Some(Err(invalid("no access token")));
        }
        let now = now();
        let claims = match self
            .inner
            .remembered
            .get(&remembered::token_hash(token), now)?
        {
            Answer::Verified(claims) => {
                match claims::check_times(&claims.claims, self.inner.leeway.as_secs_f64(), now) {
                    Ok(_) => claims,
                    Err(e) => return Some(Err(invalid(e))),
                }
            }
            Answer::Introspected(Ok(claims)) => claims,
            Answer::Introspected(Err(rejection)) => return Some(Err(rejection)),
        };
        Some(self.accept(claims, client_cert, policy))
    }

    /// Until when (seconds since the epoch) an accepted token's answer holds without another check, when a
    /// binding may mirror it: the token was accepted before and is bound to no certificate (a bound one needs
    /// the request's certificate every time). The Node package answers repeated tokens from such a mirror.
    pub fn accepted_until(&self, token: &str, claims: &Claims) -> Option<f64> {
        if claims.claims.contains_key("cnf") {
            return None;
        }
        self.inner.remembered.accepted_until(
            &remembered::token_hash(token.trim()),
            self.inner.leeway.as_secs_f64(),
        )
    }

    /// The checks of the request rather than of the token: the certificate it came with, the scopes every
    /// token needs, the route's policy.
    fn accept(
        &self,
        claims: Arc<Claims>,
        client_cert: Option<&[u8]>,
        policy: Option<&Policy>,
    ) -> std::result::Result<Arc<Claims>, Rejection> {
        check_binding(&claims, client_cert)?;
        self.inner.policy.check(&claims)?;
        if let Some(policy) = policy {
            policy.check(&claims)?;
        }
        Ok(claims)
    }

    /// A JWT not seen before, when its keys are at hand and fresh: checked without waiting for anything (no
    /// trip through a runtime). `None` when it needs a fetch, or is no JWT.
    fn verify_new_now(&self, token: &str) -> Option<std::result::Result<Claims, Rejection>> {
        if !jws::is_compact_jws(token) {
            return None;
        }
        let jws = match self.parse(token) {
            Ok(jws) => jws,
            Err(e) => return Some(Err(e)),
        };
        let keys = self
            .inner
            .jwks
            .get()?
            .fresh_keys_for(jws.kid.as_deref(), jws.alg)?;
        Some(self.check_signed(jws, &keys))
    }

    fn parse<'t>(&self, token: &'t str) -> std::result::Result<jws::Jws<'t>, Rejection> {
        let inner = &self.inner;
        let jws = jws::parse(token, &inner.algorithms).map_err(invalid)?;
        if !typ_allowed(jws.typ.as_deref(), inner.strict_typ) {
            return Err(invalid(
                "the token is not an access token (typ at+jwt, RFC 9068)",
            ));
        }
        Ok(jws)
    }

    async fn verify_new(&self, token: &str) -> std::result::Result<Claims, Rejection> {
        let jws = self.parse(token)?;
        let keys = self
            .jwks()
            .await?
            .keys_for(jws.kid.as_deref(), jws.alg)
            .await?;
        self.check_signed(jws, &keys)
    }

    fn check_signed(
        &self,
        jws: jws::Jws<'_>,
        keys: &[jws::PublicKey],
    ) -> std::result::Result<Claims, Rejection> {
        let signed = keys
            .iter()
            .any(|k| k.verifies(jws.alg, jws.signing_input.as_bytes(), &jws.signature));
        if !signed {
            return Err(invalid("the token's signature does not verify"));
        }
        claims::check(jws.claims, &self.expected(now())).map_err(invalid)
    }

    fn expected(&self, now: f64) -> Expected<'_> {
        Expected {
            issuer: &self.inner.issuer,
            audiences: &self.inner.audiences,
            leeway: self.inner.leeway.as_secs_f64(),
            now,
        }
    }

    /// An opaque token, asked of the introspection endpoint; its answer (active or not) remembered for the
    /// configured maximum age, an active one never past its `exp`.
    async fn introspect(
        &self,
        token: &str,
        hash: [u8; 32],
        now: f64,
    ) -> std::result::Result<Arc<Claims>, Rejection> {
        let inner = &self.inner;
        let Some(introspection) = &inner.introspection else {
            return Err(invalid(
                "the token is not a JWT, and opaque tokens are not accepted here (no introspection configured)",
            ));
        };
        let url = match &introspection.url {
            Some(url) => url.clone(),
            None => self
                .metadata()
                .await?
                .introspection
                .clone()
                .ok_or_else(|| {
                    Rejection::unavailable(
                        "opaque tokens cannot be checked",
                        "the issuer's metadata names no introspection_endpoint",
                    )
                })?,
        };
        let mut until = now + introspection.max_age.as_secs_f64();
        // An authorization server may answer each protected resource its own way (RFC 7662 §2.2): an answer
        // is shared only by verifiers of the same issuer, endpoint, client and audiences.
        let audiences = inner.audiences.join(" ");
        let name = inner.shared.as_ref().map(|s| {
            s.name(
                "introspection",
                &[
                    &inner.issuer,
                    url.as_str(),
                    introspection.client.client_id(),
                    &audiences,
                    token,
                ],
            )
        });
        let from_fleet = match (&inner.shared, &name) {
            (Some(store), Some(name)) => store
                .get(name)
                .await
                .and_then(|doc| serde_json::from_slice::<SharedAnswer>(&doc).ok())
                .filter(|doc| doc.until > now),
            _ => None,
        };
        let shared_already = from_fleet.is_some();
        let fields = match from_fleet {
            // Another verifier of the fleet asked: its answer holds as long as it holds there, and no longer
            // than this verifier's own maximum age.
            Some(doc) => {
                until = doc.until.min(until);
                doc.fields.ok_or_else(inactive)
            }
            None => {
                if let Some((at, failed)) = &*inner
                    .introspection_failed
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    && at.elapsed() < INTROSPECTION_PAUSE
                {
                    return Err(failed.clone());
                }
                match introspection.introspect(&url, token).await {
                    Ok(fields) => Ok(fields),
                    Err(rejection @ Rejection::TokenInvalid { .. }) => Err(rejection),
                    Err(unavailable) => {
                        *inner
                            .introspection_failed
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner) =
                            Some((Instant::now(), unavailable.clone()));
                        return Err(unavailable);
                    }
                }
            }
        };
        let answer = match fields.clone() {
            Ok(fields) => claims::check_introspected(fields, &self.expected(now), until)
                .map(Arc::new)
                .map_err(invalid),
            Err(rejection) => Err(rejection),
        };
        let keep_until = match &answer {
            Ok(claims) => claims.expires_at.min(until),
            Err(_) => until,
        };
        // Only active answers are shared: made-up tokens, however many, must not fill the shared cache (a file
        // store keeps every entry).
        if let (Some(store), Some(name), false, Ok(fields)) =
            (&inner.shared, &name, shared_already, fields)
        {
            let doc = SharedAnswer {
                until: keep_until,
                fields: Some(fields),
            };
            if let Ok(bytes) = serde_json::to_vec(&doc) {
                let ttl = Duration::try_from_secs_f64(keep_until - now).unwrap_or_default();
                store.put(name, &bytes, ttl).await;
            }
        }
        inner
            .remembered
            .insert(hash, Answer::Introspected(answer.clone()), Some(keep_until));
        answer
    }

    /// The JWKS: configured, or named by the issuer's metadata.
    async fn jwks(&self) -> std::result::Result<&Arc<Jwks>, Rejection> {
        let inner = &self.inner;
        inner
            .jwks
            .get_or_try_init(|| async {
                let url = match &inner.jwks_url {
                    Some(url) => url.clone(),
                    None => self.metadata().await?.jwks.clone().ok_or_else(|| {
                        Rejection::unavailable(
                            "the issuer's keys cannot be fetched",
                            "the issuer's metadata names no jwks_uri",
                        )
                    })?,
                };
                Ok(Arc::new(Jwks::new(
                    url,
                    inner.http.clone(),
                    inner.timeout,
                    (inner.max_age, inner.cooldown),
                    inner.shared.clone(),
                )))
            })
            .await
    }

    /// The issuer's metadata (read as the token client reads it: OpenID Connect, then RFC 8414; for this
    /// issuer only), once it has been read successfully.
    async fn metadata(&self) -> std::result::Result<&Endpoints, Rejection> {
        let inner = &self.inner;
        inner
            .metadata
            .get_or_try_init(|| async {
                if let Some((at, failed)) = &*inner
                    .metadata_failed
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    && at.elapsed() < inner.cooldown
                {
                    return Err(failed.clone());
                }
                let unavailable = |e: Error| {
                    Rejection::unavailable(
                        "the issuer's metadata cannot be read",
                        format!("the issuer's metadata cannot be used: {e}"),
                    )
                };
                let doc = match fetch_metadata(&inner.http, &inner.issuer_url, inner.timeout).await
                {
                    Ok(doc) => doc,
                    Err(e) => {
                        let failed = unavailable(e);
                        *inner
                            .metadata_failed
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner) =
                            Some((Instant::now(), failed.clone()));
                        return Err(failed);
                    }
                };
                let insecure = inner.allow_insecure_http;
                let mtls = inner
                    .introspection
                    .as_ref()
                    .is_some_and(|i| i.client.has_client_certificate());
                let introspection = match mtls {
                    true => doc
                        .endpoint("introspection_endpoint", true, insecure)
                        .transpose(),
                    false => None,
                }
                .or_else(|| {
                    doc.endpoint("introspection_endpoint", false, insecure)
                        .transpose()
                })
                .transpose()
                .map_err(unavailable)?;
                Ok(Endpoints {
                    jwks: doc
                        .endpoint("jwks_uri", false, insecure)
                        .map_err(unavailable)?,
                    introspection,
                })
            })
            .await
    }
}

/// Whether a JWS `typ` may be an access token's: `at+jwt` (RFC 9068, also as a media type or a vendor's
/// `…at+jwt`) always; without `strict_typ` also `JWT` or none, as SecureAuth and many servers issue them. A
/// token that says it is something else (`dpop+jwt`, `logout+jwt`, `secevent+jwt`, …) never is.
fn typ_allowed(typ: Option<&str>, strict: bool) -> bool {
    let Some(typ) = typ.map(str::to_ascii_lowercase) else {
        return !strict;
    };
    let typ = typ.strip_prefix("application/").unwrap_or(&typ);
    typ.ends_with("at+jwt") || (!strict && typ == "jwt")
}

#[cfg(test)]
mod tests {
    use super::typ_allowed;

    #[test]
    fn only_access_token_types_pass() {
        for (typ, strict, allowed) in [
            (None, false, true),
            (None, true, false),
            (Some("JWT"), false, true),
            (Some("JWT"), true, false),
            (Some("at+jwt"), true, true),
            (Some("application/at+JWT"), true, true),
            (Some("dpop+jwt"), false, false),
            (Some("logout+jwt"), false, false),
        ] {
            assert_eq!(typ_allowed(typ, strict), allowed, "{typ:?} strict={strict}");
        }
    }
}
