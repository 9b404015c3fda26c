//! `client_secret_jwt` and `private_key_jwt` (RFC 7523 §2.2 and §3, OIDC Core §9): the client proves
//! who it is with a JWT it signed, sent as `client_assertion`.
//!
//! Limits: the clock leeway is [`CLOCK_LEEWAY_SECS`] (5 s) for `exp`, `nbf` and `iat`; `exp` may
//! lie at most [`MAX_ASSERTION_LIFETIME_SECS`] (600 s) ahead, so that the server needs to remember
//! each `jti` only that long; a `jti` is accepted once per client until its `exp`.

use aws_lc_rs::hmac;
use serde_json::Value;

use crate::auth_method::{ASSERTION_SIGNING_ALGS, CLIENT_SECRET_JWT, PRIVATE_KEY_JWT};
use crate::form::truncate;
use crate::jwk::ClientKey;
use crate::jws::{self, CompactJws};
use crate::oauth_error::OAuthError;
use crate::registered_client::RegisteredClient;
use crate::replay::ReplayCache;

/// The only `client_assertion_type` defined for JWTs (RFC 7523 §2.2).
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Tolerated clock difference between client and server, in seconds.
pub const CLOCK_LEEWAY_SECS: i64 = 5;
/// How far ahead of now an assertion's `exp` may lie, in seconds.
pub const MAX_ASSERTION_LIFETIME_SECS: i64 = 600;

fn invalid(description: impl Into<String>) -> OAuthError {
    OAuthError::invalid_client(description)
}

/// A compact JWS taken apart, not yet verified.
#[derive(Debug)]
pub(crate) struct Assertion<'a> {
    alg: String,
    kid: Option<String>,
    claims: Value,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl<'a> Assertion<'a> {
    /// Splits and decodes the JWS; only its structure is checked here.
    pub(crate) fn parse(jwt: &'a str) -> Result<Self, OAuthError> {
        let CompactJws {
            header,
            claims,
            signing_input,
            signature,
        } = CompactJws::decode(jwt).map_err(|e| invalid(format!("client_assertion {e}")))?;
        if header.get("crit").is_some() {
            return Err(invalid(
                "client_assertion header has \"crit\" extensions, which this server does not understand",
            ));
        }
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("client_assertion header has no alg"))?
            .to_owned();
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(invalid("client_assertion header kid is not a string")),
        };
        Ok(Assertion {
            alg,
            kid,
            claims,
            signing_input,
            signature,
        })
    }

    /// The method the algorithm implies: HS256 is `client_secret_jwt`, the asymmetric ones are
    /// `private_key_jwt`.
    pub(crate) fn method(&self) -> Result<&'static str, OAuthError> {
        match self.alg.as_str() {
            "HS256" => Ok(CLIENT_SECRET_JWT),
            "RS256" | "PS256" | "ES256" => Ok(PRIVATE_KEY_JWT),
            other => Err(invalid(format!(
                "client_assertion alg \"{}\" is not allowed (allowed: {})",
                truncate(other, 32),
                ASSERTION_SIGNING_ALGS.join(", ")
            ))),
        }
    }

    /// The `sub` claim: the client the assertion speaks for.
    pub(crate) fn subject(&self) -> Option<&str> {
        self.claims.get("sub").and_then(Value::as_str)
    }

    /// Checks the signature with the client's secret or keys, then the claims, then records the
    /// `jti`. `audiences` are the `aud` values accepted (the endpoint called, and the issuer).
    pub(crate) fn verify(
        &self,
        client: &RegisteredClient,
        audiences: &[&str],
        now: i64,
        replay: &ReplayCache,
    ) -> Result<(), OAuthError> {
        if self.method()? == CLIENT_SECRET_JWT {
            self.verify_hmac(client)?;
        } else {
            self.verify_with_keys(client)?;
        }
        let id = client.client_id.as_str();
        if self.claims.get("iss").and_then(Value::as_str) != Some(id) {
            return Err(invalid(
                "client_assertion iss must be the client_id (and equal sub)",
            ));
        }
        self.check_audience(audiences)?;
        let exp = self.check_times(now)?;
        let jti = self
            .claims
            .get("jti")
            .and_then(Value::as_str)
            .filter(|j| !j.is_empty())
            .ok_or_else(|| invalid("client_assertion has no jti claim"))?;
        if !replay.first_use(id, jti, exp.saturating_add(CLOCK_LEEWAY_SECS), now) {
            return Err(invalid(format!(
                "client_assertion jti \"{}\" was already used (replay)",
                truncate(jti, 64)
            )));
        }
        Ok(())
    }

    fn verify_hmac(&self, client: &RegisteredClient) -> Result<(), OAuthError> {
        if client.client_secret.is_empty() {
            return Err(invalid(
                "this client has no client_secret, so it cannot use client_secret_jwt",
            ));
        }
        let key = hmac::Key::new(hmac::HMAC_SHA256, client.client_secret.as_bytes());
        hmac::verify(&key, self.signing_input.as_bytes(), &self.signature).map_err(|_| {
            invalid("client_assertion signature does not verify with the client secret (HS256)")
        })
    }

    fn verify_with_keys(&self, client: &RegisteredClient) -> Result<(), OAuthError> {
        let keys = client
            .keys()
            .map_err(|e| invalid(format!("the client's registered jwks is unusable: {e}")))?;
        let alg = self.alg.as_str();
        let candidates: Vec<&ClientKey> = match &self.kid {
            Some(kid) => {
                let key = keys
                    .iter()
                    .find(|k| k.kid.as_deref() == Some(kid.as_str()))
                    .ok_or_else(|| {
                        invalid(format!(
                            "unknown kid: no key with kid \"{}\" in the client's registered jwks",
                            truncate(kid, 64)
                        ))
                    })?;
                if !key.fits(alg) {
                    return Err(invalid(format!(
                        "the registered key \"{}\" cannot verify alg {alg}",
                        truncate(kid, 64)
                    )));
                }
                vec![key]
            }
            None => keys.iter().filter(|k| k.fits(alg)).collect(),
        };
        if candidates.is_empty() {
            return Err(invalid(format!(
                "the client's registered jwks has no key for alg {alg}"
            )));
        }
        let message = self.signing_input.as_bytes();
        if candidates
            .iter()
            .any(|k| k.verifies(alg, message, &self.signature))
        {
            return Ok(());
        }
        let hint = if alg == "ES256" && self.signature.len() != 64 {
            " (an ES256 JWS signature is the 64-byte r || s, not DER)"
        } else {
            ""
        };
        Err(invalid(match &self.kid {
            Some(kid) => format!(
                "client_assertion signature does not verify with key \"{}\" ({alg}){hint}",
                truncate(kid, 64)
            ),
            None => format!(
                "client_assertion signature does not verify with any registered {alg} key{hint}"
            ),
        }))
    }

    fn check_audience(&self, accepted: &[&str]) -> Result<(), OAuthError> {
        let matches = |v: &Value| v.as_str().is_some_and(|a| accepted.contains(&a));
        let ok = match self.claims.get("aud") {
            Some(Value::Array(list)) => list.iter().any(matches),
            Some(aud) => matches(aud),
            None => return Err(invalid("client_assertion has no aud claim")),
        };
        if ok {
            return Ok(());
        }
        let aud = self
            .claims
            .get("aud")
            .map(Value::to_string)
            .unwrap_or_default();
        Err(invalid(format!(
            "bad aud: client_assertion aud {} must be (or contain) one of: {}",
            truncate(&aud, 200),
            accepted.join(", ")
        )))
    }

    /// Checks `exp`, `nbf` and `iat`; returns `exp`.
    fn check_times(&self, now: i64) -> Result<i64, OAuthError> {
        let exp = self
            .numeric_date("exp")?
            .ok_or_else(|| invalid("client_assertion has no exp claim"))?;
        if exp.saturating_add(CLOCK_LEEWAY_SECS) <= now {
            return Err(invalid(format!(
                "client_assertion expired at {exp} (now {now})"
            )));
        }
        if exp > now.saturating_add(MAX_ASSERTION_LIFETIME_SECS + CLOCK_LEEWAY_SECS) {
            return Err(invalid(format!(
                "client_assertion exp is {} s ahead; at most {MAX_ASSERTION_LIFETIME_SECS} s are allowed",
                exp.saturating_sub(now)
            )));
        }
        if let Some(nbf) = self.numeric_date("nbf")?
            && nbf > now.saturating_add(CLOCK_LEEWAY_SECS)
        {
            return Err(invalid(format!(
                "client_assertion is not valid before {nbf} (now {now})"
            )));
        }
        if let Some(iat) = self.numeric_date("iat")?
            && iat > now.saturating_add(CLOCK_LEEWAY_SECS)
        {
            return Err(invalid(format!(
                "client_assertion iat {iat} is in the future (now {now})"
            )));
        }
        Ok(exp)
    }

    /// A NumericDate claim (RFC 7519 §2: seconds, possibly fractional), rounded down.
    fn numeric_date(&self, name: &str) -> Result<Option<i64>, OAuthError> {
        match self.claims.get(name) {
            None => Ok(None),
            Some(value) => value
                .as_i64()
                .or_else(|| {
                    value
                        .as_f64()
                        .filter(|f| f.is_finite())
                        .map(|f| f.floor() as i64)
                })
                .map(Some)
                .ok_or_else(|| invalid(format!("client_assertion {name} is not a number"))),
        }
    }
}

/// The `sub` of an assertion without verifying anything, to count and record requests per client.
pub(crate) fn unverified_subject(jwt: &str) -> Option<String> {
    let claims = jws::unverified_claims(jwt)?;
    claims.get("sub").and_then(Value::as_str).map(str::to_owned)
}
