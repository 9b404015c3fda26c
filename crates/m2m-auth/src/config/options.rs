//! Client settings as plain data, the shape the Python keyword arguments and the Node options object both
//! convert into. Turning them into a builder (parsing names, checking numbers) happens here once, so the
//! bindings agree on every rule and every error message.

use std::time::Duration;

use crate::config::{MAX_DURATION, TokenClientBuilder};
use crate::credentials::auth_method::AuthMethod;
use crate::credentials::secret::SecretString;
use crate::credentials::signing_key::{SigningAlg, SigningKey};
use crate::credentials::tls::{CaBundle, ClientCertificate};
use crate::error::{Error, Result};

/// Every client setting a binding can pass; `None` keeps the builder's value.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub token_url: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// PEM (PKCS#8, PKCS#1, SEC1) or JWK text.
    pub private_key: Option<SecretString>,
    pub private_key_file: Option<String>,
    pub private_key_id: Option<String>,
    pub signing_alg: Option<String>,
    pub assertion_audience: Option<String>,
    /// PEM certificate chain, leaf first.
    pub client_cert: Option<String>,
    pub client_cert_file: Option<String>,
    /// PEM private key of the client certificate.
    pub client_key: Option<SecretString>,
    pub client_key_file: Option<String>,
    /// PEM CA certificates to trust instead of the system's.
    pub ca_bundle: Option<String>,
    pub ca_bundle_file: Option<String>,
    pub auth_method: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub audience: Option<String>,
    pub resources: Option<Vec<String>>,
    pub extra_params: Vec<(String, String)>,
    pub timeout_secs: Option<f64>,
    pub expiry_skew_secs: Option<f64>,
    pub default_lifetime_secs: Option<f64>,
    pub max_response_bytes: Option<f64>,
    pub allow_insecure_http: Option<bool>,
    pub max_attempts: Option<f64>,
    pub retry_backoff_secs: Option<f64>,
    pub retry_max_backoff_secs: Option<f64>,
    pub retry_deadline_secs: Option<f64>,
    pub max_retry_after_secs: Option<f64>,
    pub refresh_ratio: Option<f64>,
    /// Test hook: every fetch panics inside the core (see `TokenClientBuilder::panic_on_fetch`).
    pub panic_on_fetch: bool,
}

impl ClientOptions {
    /// Applies these options on top of `builder` (a fresh one, or one from `secureauth` / the environment).
    pub fn apply(self, mut b: TokenClientBuilder) -> Result<TokenClientBuilder> {
        if let Some(v) = self.token_url {
            b = b.token_url(v);
        }
        if let Some(v) = self.issuer {
            b = b.issuer(v);
        }
        if let Some(v) = self.client_id {
            b = b.client_id(v);
        }
        if let Some(v) = self.client_secret {
            b = b.client_secret(v);
        }
        let key_text = inline_or_file(
            self.private_key.as_ref().map(|k| k.expose().as_bytes()),
            "private_key",
            self.private_key_file.as_deref(),
            "private_key_file",
        )?;
        if let Some((text, field)) = key_text {
            let mut key = SigningKey::from_text(&text).map_err(|e| e.renamed(field))?;
            if let Some(kid) = self.private_key_id.filter(|k| !k.is_empty()) {
                key = key.with_kid(kid);
            }
            if let Some(alg) = self.signing_alg {
                key = key.with_alg(SigningAlg::parse(&alg, "signing_alg")?)?;
            }
            b = b.private_key(key);
        } else if self.private_key_id.is_some() || self.signing_alg.is_some() {
            let field = if self.private_key_id.is_some() {
                "private_key_id"
            } else {
                "signing_alg"
            };
            return Err(Error::config(
                field,
                format!("{field} is set but there is no private_key"),
            ));
        }
        if let Some(v) = self.assertion_audience {
            b = b.assertion_audience(v);
        }
        let cert = inline_or_file(
            self.client_cert.as_deref().map(str::as_bytes),
            "client_cert",
            self.client_cert_file.as_deref(),
            "client_cert_file",
        )?;
        let cert_key = inline_or_file(
            self.client_key.as_ref().map(|k| k.expose().as_bytes()),
            "client_key",
            self.client_key_file.as_deref(),
            "client_key_file",
        )?;
        match (cert, cert_key) {
            (Some((cert, cert_field)), Some((key, key_field))) => {
                let cert = ClientCertificate::from_pem(&cert, &key).map_err(|e| match e {
                    e @ Error::Config { .. } if e.config_field() == Some("client_key") => {
                        e.renamed(key_field)
                    }
                    other => other.renamed(cert_field),
                })?;
                b = b.client_certificate(cert);
            }
            (None, None) => {}
            (Some((_, field)), None) => {
                return Err(Error::config(
                    "client_key",
                    format!("{field} is set but client_key (or client_key_file) is not"),
                ));
            }
            (None, Some((_, field))) => {
                return Err(Error::config(
                    "client_cert",
                    format!("{field} is set but client_cert (or client_cert_file) is not"),
                ));
            }
        }
        if let Some((pem, field)) = inline_or_file(
            self.ca_bundle.as_deref().map(str::as_bytes),
            "ca_bundle",
            self.ca_bundle_file.as_deref(),
            "ca_bundle_file",
        )? {
            b = b.ca_bundle(CaBundle::from_pem(&pem).map_err(|e| e.renamed(field))?);
        }
        if let Some(v) = self.auth_method {
            b = b.auth_method(v.parse::<AuthMethod>()?);
        }
        if let Some(v) = self.scopes {
            b = b.scopes(v);
        }
        if let Some(v) = self.audience {
            b = b.audience(v);
        }
        if let Some(v) = self.resources {
            b = b.resources(v);
        }
        for (k, v) in self.extra_params {
            b = b.extra_param(k, v);
        }
        if let Some(v) = self.timeout_secs {
            b = b.timeout(seconds("timeout", v)?);
        }
        if let Some(v) = self.expiry_skew_secs {
            b = b.expiry_skew(seconds_or_zero("expiry_skew", v)?);
        }
        if let Some(v) = self.default_lifetime_secs {
            b = b.default_lifetime(seconds("default_lifetime", v)?);
        }
        if let Some(v) = self.max_response_bytes {
            if !(v.is_finite() && v >= 1.0 && v.fract() == 0.0 && v <= (1u64 << 40) as f64) {
                return Err(Error::config(
                    "max_response_bytes",
                    format!("max_response_bytes must be a positive whole number, not {v}"),
                ));
            }
            b = b.max_response_bytes(v as usize);
        }
        if let Some(v) = self.allow_insecure_http {
            b = b.allow_insecure_http(v);
        }
        let retry_set = self.max_attempts.is_some()
            || self.retry_backoff_secs.is_some()
            || self.retry_max_backoff_secs.is_some()
            || self.retry_deadline_secs.is_some()
            || self.max_retry_after_secs.is_some();
        if retry_set {
            let mut p = b.retry.clone().unwrap_or_default();
            if let Some(v) = self.max_attempts {
                if !(v.is_finite() && v >= 1.0 && v.fract() == 0.0 && v <= 100.0) {
                    return Err(Error::config(
                        "max_attempts",
                        format!("max_attempts must be a whole number from 1 to 100, not {v}"),
                    ));
                }
                p.max_attempts = v as u32;
            }
            if let Some(v) = self.retry_backoff_secs {
                p.initial_backoff = seconds_or_zero("retry_backoff", v)?;
            }
            if let Some(v) = self.retry_max_backoff_secs {
                p.max_backoff = seconds_or_zero("retry_max_backoff", v)?;
            }
            if let Some(v) = self.retry_deadline_secs {
                p.deadline = seconds("retry_deadline", v)?;
            }
            if let Some(v) = self.max_retry_after_secs {
                p.max_retry_after = seconds_or_zero("max_retry_after", v)?;
            }
            b = b.retry(p);
        }
        if let Some(v) = self.refresh_ratio {
            b = b.refresh_ratio(v);
        }
        if self.panic_on_fetch {
            b = b.panic_on_fetch(true);
        }
        Ok(b)
    }
}

/// A value given inline or as a file to read, not both: its bytes and the name of the setting it came from.
fn inline_or_file(
    inline: Option<&[u8]>,
    inline_field: &'static str,
    path: Option<&str>,
    file_field: &'static str,
) -> Result<Option<(Vec<u8>, &'static str)>> {
    match (inline, path) {
        (Some(_), Some(_)) => Err(Error::config(
            inline_field,
            format!("set either {inline_field} or {file_field}, not both"),
        )),
        (Some(bytes), None) => Ok(Some((bytes.to_vec(), inline_field))),
        (None, Some(path)) => std::fs::read(path)
            .map(|bytes| Some((bytes, file_field)))
            .map_err(|e| {
                Error::config(
                    file_field,
                    format!("{file_field}: cannot read {path:?}: {e}"),
                )
            }),
        (None, None) => Ok(None),
    }
}

/// A positive, finite number of seconds of at most a day ([`MAX_DURATION`], the bound of every duration).
pub fn seconds(field: &str, value: f64) -> Result<Duration> {
    let max = MAX_DURATION.as_secs_f64();
    if value.is_finite() && value > 0.0 && value <= max {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Error::config(
            field,
            format!(
                "{field} must be a number of seconds greater than 0 and at most {max}, not {value}"
            ),
        ))
    }
}

fn seconds_or_zero(field: &str, value: f64) -> Result<Duration> {
    if value == 0.0 {
        Ok(Duration::ZERO)
    } else {
        seconds(field, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_numbers_name_their_field() {
        for (opts, field) in [
            (
                ClientOptions {
                    timeout_secs: Some(-1.0),
                    ..Default::default()
                },
                "timeout",
            ),
            (
                ClientOptions {
                    default_lifetime_secs: Some(f64::NAN),
                    ..Default::default()
                },
                "default_lifetime",
            ),
            (
                ClientOptions {
                    max_response_bytes: Some(1.5),
                    ..Default::default()
                },
                "max_response_bytes",
            ),
            (
                ClientOptions {
                    auth_method: Some("nope".into()),
                    ..Default::default()
                },
                "auth_method",
            ),
        ] {
            match opts.apply(TokenClientBuilder::new()) {
                Err(Error::Config { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected a config error for {field}, got {other:?}"),
            }
        }
    }
}
