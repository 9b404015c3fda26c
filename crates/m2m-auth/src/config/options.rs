//! Client settings as plain data, the shape the Python keyword arguments and the Node options object both
//! convert into, setting by setting through [`ClientOptions::set`] (see `config::settings`). Turning them
//! into a builder (the SecureAuth URLs, keys and certificates from text or files, numbers) happens here once,
//! so the bindings agree on every rule and every error message.

use std::time::Duration;

use zeroize::Zeroizing;

use crate::config::settings::{
    Setting, SettingValue, Surface, ValueOf, core_number, duration_on, find,
};
use crate::config::{TokenClientBuilder, secureauth_issuer, secureauth_token_url};
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
    /// A SecureAuth workspace: the three together name its issuer and token URL.
    pub tenant: Option<String>,
    pub region: Option<String>,
    pub workspace: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub client_secret_file: Option<String>,
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
    /// A Redis URL may hold a password: kept as a secret (out of Debug).
    pub cache_url: Option<SecretString>,
    pub cache_prefix: Option<String>,
    pub cache_timeout_secs: Option<f64>,
    pub cache_lock_ttl_secs: Option<f64>,
    pub cache_encryption_key: Option<SecretString>,
    /// Test hook: every fetch panics inside the core (see `TokenClientBuilder::panic_on_fetch`).
    #[cfg(feature = "test-hooks")]
    pub panic_on_fetch: bool,
}

impl ClientOptions {
    /// Applies these options on top of `builder` (a fresh one, or one from `secureauth` / the environment).
    pub fn apply(self, mut b: TokenClientBuilder) -> Result<TokenClientBuilder> {
        match (&self.tenant, &self.region, &self.workspace) {
            (None, None, None) => {}
            (Some(tenant), Some(region), Some(workspace)) => {
                if let Some(field) = [("token_url", &self.token_url), ("issuer", &self.issuer)]
                    .into_iter()
                    .find_map(|(name, v)| v.is_some().then_some(name))
                {
                    return Err(Error::config(
                        field,
                        "cannot be given with a SecureAuth workspace, whose `tenant`, `region` and `workspace` name the URLs",
                    ));
                }
                b = b
                    .issuer(secureauth_issuer(tenant, region, workspace)?)
                    .token_url(secureauth_token_url(tenant, region, workspace)?);
            }
            (tenant, region, _) => {
                let missing = if tenant.is_none() {
                    "tenant"
                } else if region.is_none() {
                    "region"
                } else {
                    "workspace"
                };
                return Err(Error::config(
                    missing,
                    "is required: a SecureAuth workspace needs `tenant`, `region` and `workspace`",
                ));
            }
        }
        if let Some(v) = self.token_url {
            b = b.token_url(v);
        }
        if let Some(v) = self.issuer {
            b = b.issuer(v);
        }
        if let Some(v) = self.client_id {
            b = b.client_id(v);
        }
        // An empty secret counts as none given (the builder treats it so too); an empty file is a mistake.
        if let Some((bytes, field)) = inline_or_file(
            self.client_secret
                .as_ref()
                .filter(|s| !s.is_empty())
                .map(|s| s.expose().as_bytes()),
            "client_secret",
            self.client_secret_file.as_deref(),
            "client_secret_file",
        )? {
            b = b.client_secret(secret_text(bytes, field)?);
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
            return Err(Error::config(field, "is set but there is no `private_key`"));
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
                // Named as the certificate was given: a file wants a key file.
                let missing = if field == "client_cert_file" {
                    "client_key_file"
                } else {
                    "client_key"
                };
                return Err(Error::config(
                    missing,
                    format!(
                        "is missing: `{field}` is set, and needs `client_key` or `client_key_file`"
                    ),
                ));
            }
            (None, Some((_, field))) => {
                let missing = if field == "client_key_file" {
                    "client_cert_file"
                } else {
                    "client_cert"
                };
                return Err(Error::config(
                    missing,
                    format!(
                        "is missing: `{field}` is set, and needs `client_cert` or `client_cert_file`"
                    ),
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
            b = b.timeout(declared_duration("timeout", v)?);
        }
        if let Some(v) = self.expiry_skew_secs {
            b = b.expiry_skew(declared_duration("expiry_skew", v)?);
        }
        if let Some(v) = self.default_lifetime_secs {
            b = b.default_lifetime(declared_duration("default_lifetime", v)?);
        }
        if let Some(v) = self.max_response_bytes {
            b = b.max_response_bytes(declared("max_response_bytes", v)? as usize);
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
                p.max_attempts = declared("max_attempts", v)? as u32;
            }
            if let Some(v) = self.retry_backoff_secs {
                p.initial_backoff = declared_duration("retry_backoff", v)?;
            }
            if let Some(v) = self.retry_max_backoff_secs {
                p.max_backoff = declared_duration("retry_max_backoff", v)?;
            }
            if let Some(v) = self.retry_deadline_secs {
                p.deadline = declared_duration("retry_deadline", v)?;
            }
            if let Some(v) = self.max_retry_after_secs {
                p.max_retry_after = declared_duration("max_retry_after", v)?;
            }
            b = b.retry(p);
        }
        if let Some(v) = self.refresh_ratio {
            b = b.refresh_ratio(declared("refresh_ratio", v)?);
        }
        if let Some(v) = self.cache_url {
            b = b.cache_url(v.expose());
        }
        if let Some(v) = self.cache_prefix {
            b = b.cache_prefix(v);
        }
        if let Some(v) = self.cache_timeout_secs {
            b = b.cache_timeout(declared_duration("cache_timeout", v)?);
        }
        if let Some(v) = self.cache_lock_ttl_secs {
            b = b.cache_lock_ttl(declared_duration("cache_lock_ttl", v)?);
        }
        if let Some(v) = self.cache_encryption_key {
            b = b.cache_encryption_key(v);
        }
        #[cfg(feature = "test-hooks")]
        if self.panic_on_fetch {
            b = b.panic_on_fetch(true);
        }
        Ok(b)
    }
}

impl ClientOptions {
    /// For the `secureauth` constructors of the bindings: the workspace must be named, all three parts.
    pub fn require_workspace(&self) -> Result<()> {
        for (field, value) in [
            ("tenant", &self.tenant),
            ("region", &self.region),
            ("workspace", &self.workspace),
        ] {
            if value.is_none() {
                return Err(Error::config(
                    field,
                    "is required for a SecureAuth workspace",
                ));
            }
        }
        Ok(())
    }

    /// Sets `setting` to `value` as `surface` gave it (a binding has read it by the setting's kind): numbers
    /// are checked and turned into the core's units here. The one place a declared setting meets its field.
    pub fn set(&mut self, setting: &Setting, value: SettingValue, surface: Surface) -> Result<()> {
        let name = setting.name;
        let value_of = ValueOf { setting, surface };
        let text = |v| value_of.text(v);
        let list = |v| value_of.list(v);
        let number = |v| value_of.number(v);
        match name {
            "token_url" => self.token_url = Some(text(value)?),
            "issuer" => self.issuer = Some(text(value)?),
            "tenant" => self.tenant = Some(text(value)?),
            "region" => self.region = Some(text(value)?),
            "workspace" => self.workspace = Some(text(value)?),
            "client_id" => self.client_id = Some(text(value)?),
            "client_secret" => self.client_secret = Some(SecretString::from(text(value)?)),
            "client_secret_file" => self.client_secret_file = Some(text(value)?),
            "private_key" => self.private_key = Some(SecretString::from(text(value)?)),
            "private_key_file" => self.private_key_file = Some(text(value)?),
            "private_key_id" => self.private_key_id = Some(text(value)?),
            "signing_alg" => self.signing_alg = Some(text(value)?),
            "assertion_audience" => self.assertion_audience = Some(text(value)?),
            "client_cert" => self.client_cert = Some(text(value)?),
            "client_cert_file" => self.client_cert_file = Some(text(value)?),
            "client_key" => self.client_key = Some(SecretString::from(text(value)?)),
            "client_key_file" => self.client_key_file = Some(text(value)?),
            "ca_bundle" => self.ca_bundle = Some(text(value)?),
            "ca_bundle_file" => self.ca_bundle_file = Some(text(value)?),
            "auth_method" => self.auth_method = Some(text(value)?),
            "scopes" => self.scopes = Some(list(value)?),
            "audience" => self.audience = Some(text(value)?),
            "resources" => self.resources = Some(list(value)?),
            "extra_params" => self.extra_params = value_of.pairs(value)?,
            "timeout" => self.timeout_secs = Some(number(value)?),
            "expiry_skew" => self.expiry_skew_secs = Some(number(value)?),
            "default_lifetime" => self.default_lifetime_secs = Some(number(value)?),
            "max_response_bytes" => self.max_response_bytes = Some(number(value)?),
            "allow_insecure_http" => self.allow_insecure_http = Some(value_of.flag(value)?),
            "refresh_ratio" => self.refresh_ratio = Some(number(value)?),
            "max_attempts" => self.max_attempts = Some(number(value)?),
            "retry_backoff" => self.retry_backoff_secs = Some(number(value)?),
            "retry_max_backoff" => self.retry_max_backoff_secs = Some(number(value)?),
            "retry_deadline" => self.retry_deadline_secs = Some(number(value)?),
            "max_retry_after" => self.max_retry_after_secs = Some(number(value)?),
            "cache_url" => self.cache_url = Some(SecretString::from(text(value)?)),
            "cache_prefix" => self.cache_prefix = Some(text(value)?),
            "cache_timeout" => self.cache_timeout_secs = Some(number(value)?),
            "cache_lock_ttl" => self.cache_lock_ttl_secs = Some(number(value)?),
            "cache_encryption_key" => {
                self.cache_encryption_key = Some(SecretString::from(text(value)?));
            }
            other => {
                return Err(Error::Internal(format!(
                    "setting {other} is declared but has no field"
                )));
            }
        }
        Ok(())
    }
}

/// The secret as given, or read from a file: written by `echo` or by Kubernetes, such files end in a newline
/// that is not part of the secret.
fn secret_text(bytes: Zeroizing<Vec<u8>>, field: &'static str) -> Result<SecretString> {
    let text =
        std::str::from_utf8(&bytes).map_err(|_| Error::config(field, "is not UTF-8 text"))?;
    let text = if field == "client_secret_file" {
        text.trim_end_matches(['\n', '\r'])
    } else {
        text
    };
    if text.is_empty() {
        return Err(Error::config(field, "is empty"));
    }
    Ok(SecretString::new(text))
}

/// What a setting given inline or as a file holds (zeroed when dropped: it may be a secret or a key), and
/// which of the two settings gave it.
type Given = (Zeroizing<Vec<u8>>, &'static str);

/// A value given inline or as a file to read, not both: its bytes and the name of the setting it came from.
fn inline_or_file(
    inline: Option<&[u8]>,
    inline_field: &'static str,
    path: Option<&str>,
    file_field: &'static str,
) -> Result<Option<Given>> {
    // What is read may be a secret or a private key: zeroed when dropped.
    match (inline, path) {
        (Some(_), Some(_)) => Err(Error::config(
            inline_field,
            format!("and `{file_field}` are both set; give one of them"),
        )),
        (Some(bytes), None) => Ok(Some((Zeroizing::new(bytes.to_vec()), inline_field))),
        (None, Some(path)) => std::fs::read(path)
            .map(|bytes| Some((Zeroizing::new(bytes), file_field)))
            .map_err(|e| Error::config(file_field, format!(": cannot read {path:?}: {e}"))),
        (None, None) => Ok(None),
    }
}

/// A positive, finite number of seconds of at most a day ([`crate::MAX_DURATION`], the bound of every duration).
pub fn seconds(field: &str, value: f64) -> Result<Duration> {
    duration_on(field, value, Surface::Rust, false)
}

/// `value` of the setting named `name`, checked against its declared bounds: the fields are public, so a
/// value may not have come through [`ClientOptions::set`].
fn declared(name: &str, value: f64) -> Result<f64> {
    let setting = find(Surface::Rust, name)
        .ok_or_else(|| Error::Internal(format!("{name} is not a declared setting")))?;
    core_number(setting, value, Surface::Rust)
}

fn declared_duration(name: &str, value: f64) -> Result<Duration> {
    declared(name, value).map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::{CLIENT_SETTINGS, Kind};

    #[test]
    fn every_declared_setting_has_its_field() {
        for setting in CLIENT_SETTINGS {
            let value = match setting.kind {
                Kind::List | Kind::Names => SettingValue::List(vec!["a".into()]),
                Kind::Pairs => SettingValue::Pairs(vec![("k".into(), "v".into())]),
                Kind::Duration { .. } | Kind::Ratio => SettingValue::Number(1.0),
                Kind::Count { min, .. } => SettingValue::Number(min as f64),
                Kind::Flag => SettingValue::Flag(true),
                _ => SettingValue::Text("x".into()),
            };
            ClientOptions::default()
                .set(setting, value, Surface::Python)
                .unwrap_or_else(|e| panic!("{}: {e}", setting.name));
        }
    }

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
