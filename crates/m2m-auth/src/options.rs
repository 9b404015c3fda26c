//! Client settings as plain data, the shape the Python keyword arguments and the Node options object both
//! convert into. Turning them into a builder (parsing names, checking numbers) happens here once, so the
//! bindings agree on every rule and every error message.

use std::time::Duration;

use crate::config::{AuthMethod, TokenClientBuilder};
use crate::error::{Error, Result};

/// Every client setting a binding can pass; `None` keeps the builder's value.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<crate::SecretString>,
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
        if let Some(v) = self.client_id {
            b = b.client_id(v);
        }
        if let Some(v) = self.client_secret {
            b = b.client_secret(v);
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

/// A positive, finite number of seconds of at most a day.
pub fn seconds(field: &str, value: f64) -> Result<Duration> {
    if value.is_finite() && value > 0.0 && value <= 86_400.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Error::config(
            field,
            format!(
                "{field} must be a number of seconds greater than 0 and at most 86400, not {value}"
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
