//! Every setting of a `Verifier`, declared once as the token client's are (`crate::settings`): its name on each
//! surface, its kind, default and documentation. The Python and Node `Verifier` constructors look keywords up
//! with [`find_verifier_setting`] and set them through [`VerifierOptions::set`]; [`VerifierOptions::build`]
//! turns them into a [`Verifier`], so both bindings agree on every rule and error. The credentials for
//! introspection are the token client's own settings (the verifier authenticates as a client), read by the
//! same code.

use std::time::Duration;

use crate::TokenClientBuilder;
use crate::config::options::ClientOptions;
use crate::config::settings::{
    self, DURATION, DURATION_OR_OFF, Group, Kind, Setting, SettingValue, Surface, ValueOf,
    core_number,
};
use crate::credentials::secret::SecretString;
use crate::credentials::tls::CaBundle;
use crate::error::{Error, Result};
use crate::verify::{Verifier, VerifierBuilder};

use Group::Common;
use Kind::{Flag, List, Names, Path, Pem, Secret, Text};

/// The verifier's own settings, in the order the README lists them. Columns as in `CLIENT_SETTINGS`.
#[rustfmt::skip]
pub const VERIFIER_SETTINGS: &[Setting] = &[
    settings::setting("issuer", "issuer", (None, Some("issuer")), Text, Common, "required",
        "The issuer: every token's iss, and whose metadata names the JWKS and introspection endpoint."),
    settings::setting("audience", "audience", (None, Some("audience")), Names, Common, "required",
        "The audience (or several): the token's aud must name one."),
    settings::setting("jwks_url", "jwksUrl", (None, Some("jwks-url")), Text, Common, "from the metadata",
        "The JWKS URL, instead of the metadata's jwks_uri."),
    settings::setting("algorithms", "algorithms", (None, Some("algorithm")), List, Common,
        "RS256 PS256 ES256 EdDSA", "The signature algorithms accepted (never none, never HMAC)."),
    settings::setting("leeway", "leewayMs", (None, Some("leeway")), DURATION_OR_OFF, Common, "30 s",
        "Clock difference forgiven in exp, nbf and iat."),
    settings::setting("required_scopes", "requiredScopes", (None, Some("required-scope")), List, Common, "none",
        "Scopes every token must have."),
    settings::setting("jwks_cooldown", "jwksCooldownMs", (None, None), DURATION, Common, "30 s",
        "The shortest time between two JWKS fetches for unknown kids."),
    settings::setting("jwks_max_age", "jwksMaxAgeMs", (None, None), DURATION, Common, "10 min",
        "How long fetched keys are used (shorter when the JWKS's Cache-Control says so)."),
    settings::setting("strict_typ", "strictTyp", (None, Some("strict-typ")), Flag, Common, "false",
        "Require RFC 9068's typ at+jwt (SecureAuth issues typ JWT)."),
    settings::setting("timeout", "timeoutMs", (None, Some("timeout")), DURATION, Common, "5 s",
        "How long one request to the metadata, JWKS or introspection endpoint may take."),
    settings::setting("allow_insecure_http", "allowInsecureHttp", (None, Some("allow-insecure-http")), Flag,
        Common, "false", "Allow plain http to hosts other than loopback."),
    settings::setting("ca_bundle", "caBundle", (None, None), Pem, Common, "the system's CAs",
        "CA certificates (PEM) to trust instead of the system's."),
    settings::setting("ca_bundle_file", "caBundleFile", (None, Some("ca-bundle-file")), Path, Common,
        "the system's CAs", "A file holding the CA certificates."),
    settings::setting("introspection_url", "introspectionUrl", (None, Some("introspection-url")), Text, Common,
        "from the metadata", "The introspection endpoint for opaque tokens (with client_id and credentials)."),
    settings::setting("introspection_max_age", "introspectionMaxAgeMs", (None, None), DURATION, Common, "60 s",
        "How long an introspection answer is used at most (never past the token's exp)."),
    settings::setting("realm", "realm", (None, None), Text, Common, "none",
        "The realm of the WWW-Authenticate challenges."),
    settings::setting("cache_url", "cacheUrl", (None, Some("cache-url")), Text, Common, "memory:",
        "Where a fleet of verifiers shares the issuer's keys and introspection answers: redis://…, file:DIR."),
    settings::setting("cache_prefix", "cachePrefix", (None, Some("cache-prefix")), Text, Common, "m2m-auth:",
        "Put before every name in the shared cache."),
    settings::setting("cache_timeout", "cacheTimeoutMs", (None, None), DURATION, Common, "0.25 s",
        "The longest one shared-cache operation may take; slower counts as a miss."),
    settings::setting("cache_encryption_key", "cacheEncryptionKey", (None, None), Secret, Common,
        "required with a shared cache_url", "32 bytes, base64: seals the shared entries (the same for the fleet)."),
];

/// The token client's settings a verifier takes too: the credentials it introspects opaque tokens with.
const INTROSPECTION_CREDENTIALS: &[&str] = &[
    "client_id",
    "client_secret",
    "client_secret_file",
    "private_key",
    "private_key_file",
    "private_key_id",
    "signing_alg",
    "assertion_audience",
    "client_cert",
    "client_cert_file",
    "client_key",
    "client_key_file",
    "auth_method",
];

/// The verifier setting `name` has on `surface`: its own, or a credential for introspection.
pub fn find_verifier_setting(surface: Surface, name: &str) -> Option<&'static Setting> {
    VERIFIER_SETTINGS
        .iter()
        .find(|s| s.name_on(surface) == name)
        .or_else(|| {
            settings::find(surface, name).filter(|s| INTROSPECTION_CREDENTIALS.contains(&s.name))
        })
}

/// Every verifier setting a binding can pass; `None` keeps the default.
#[derive(Debug, Clone, Default)]
pub struct VerifierOptions {
    pub issuer: Option<String>,
    pub audience: Option<Vec<String>>,
    pub jwks_url: Option<String>,
    pub algorithms: Option<Vec<String>>,
    pub leeway_secs: Option<f64>,
    pub required_scopes: Option<Vec<String>>,
    pub jwks_cooldown_secs: Option<f64>,
    pub jwks_max_age_secs: Option<f64>,
    pub strict_typ: Option<bool>,
    pub timeout_secs: Option<f64>,
    pub allow_insecure_http: Option<bool>,
    pub ca_bundle: Option<String>,
    pub ca_bundle_file: Option<String>,
    pub introspection_url: Option<String>,
    pub introspection_max_age_secs: Option<f64>,
    pub realm: Option<String>,
    /// A Redis URL may hold a password: kept as a secret (out of Debug).
    pub cache_url: Option<SecretString>,
    pub cache_prefix: Option<String>,
    pub cache_timeout_secs: Option<f64>,
    pub cache_encryption_key: Option<SecretString>,
    /// The credentials for introspection, as a token client takes them.
    pub client: ClientOptions,
}

impl VerifierOptions {
    /// Sets `setting` (found by [`find_verifier_setting`]) to `value`, given on `surface`.
    pub fn set(&mut self, setting: &Setting, value: SettingValue, surface: Surface) -> Result<()> {
        if INTROSPECTION_CREDENTIALS.contains(&setting.name)
            && !VERIFIER_SETTINGS.iter().any(|s| s.name == setting.name)
        {
            return self.client.set(setting, value, surface);
        }
        let value_of = ValueOf { setting, surface };
        let text = |v| value_of.text(v);
        let list = |v| value_of.list(v);
        let number = |v| value_of.number(v);
        let flag = |v| value_of.flag(v);
        match setting.name {
            "issuer" => self.issuer = Some(text(value)?),
            "audience" => self.audience = Some(list(value)?),
            "jwks_url" => self.jwks_url = Some(text(value)?),
            "algorithms" => self.algorithms = Some(list(value)?),
            "leeway" => self.leeway_secs = Some(number(value)?),
            "required_scopes" => self.required_scopes = Some(list(value)?),
            "jwks_cooldown" => self.jwks_cooldown_secs = Some(number(value)?),
            "jwks_max_age" => self.jwks_max_age_secs = Some(number(value)?),
            "strict_typ" => self.strict_typ = Some(flag(value)?),
            "timeout" => self.timeout_secs = Some(number(value)?),
            "allow_insecure_http" => self.allow_insecure_http = Some(flag(value)?),
            "ca_bundle" => self.ca_bundle = Some(text(value)?),
            "ca_bundle_file" => self.ca_bundle_file = Some(text(value)?),
            "introspection_url" => self.introspection_url = Some(text(value)?),
            "introspection_max_age" => self.introspection_max_age_secs = Some(number(value)?),
            "realm" => self.realm = Some(text(value)?),
            "cache_url" => self.cache_url = Some(SecretString::from(text(value)?)),
            "cache_prefix" => self.cache_prefix = Some(text(value)?),
            "cache_timeout" => self.cache_timeout_secs = Some(number(value)?),
            "cache_encryption_key" => {
                self.cache_encryption_key = Some(SecretString::from(text(value)?));
            }
            other => {
                return Err(Error::Internal(format!(
                    "verifier setting {other} is declared but has no field"
                )));
            }
        }
        Ok(())
    }

    pub fn build(self) -> Result<Verifier> {
        let mut b = VerifierBuilder::default();
        let secs = |name: &str, v: f64| -> Result<Duration> {
            let setting = VERIFIER_SETTINGS
                .iter()
                .find(|s| s.name == name)
                .ok_or_else(|| Error::Internal(format!("{name} is not a verifier setting")))?;
            core_number(setting, v, Surface::Rust).map(Duration::from_secs_f64)
        };
        if let Some(v) = &self.issuer {
            b = b.issuer(v);
        }
        for audience in self.audience.into_iter().flatten() {
            b = b.audience(audience);
        }
        if let Some(v) = self.jwks_url {
            b = b.jwks_url(v);
        }
        if let Some(v) = self.algorithms {
            b = b.algorithms(v);
        }
        if let Some(v) = self.leeway_secs {
            b = b.leeway(secs("leeway", v)?);
        }
        if let Some(v) = self.required_scopes {
            b = b.required_scopes(v);
        }
        if let Some(v) = self.jwks_cooldown_secs {
            b = b.jwks_cooldown(secs("jwks_cooldown", v)?);
        }
        if let Some(v) = self.jwks_max_age_secs {
            b = b.jwks_max_age(secs("jwks_max_age", v)?);
        }
        if let Some(v) = self.strict_typ {
            b = b.strict_typ(v);
        }
        let timeout = self.timeout_secs.map(|v| secs("timeout", v)).transpose()?;
        if let Some(v) = timeout {
            b = b.timeout(v);
        }
        let insecure = self.allow_insecure_http.unwrap_or(false);
        b = b.allow_insecure_http(insecure);
        let ca_pem = match (self.ca_bundle, self.ca_bundle_file) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "ca_bundle",
                    "and `ca_bundle_file` are both set; give one of them",
                ));
            }
            (Some(pem), None) => Some((pem, "ca_bundle")),
            (None, Some(path)) => Some((
                std::fs::read_to_string(&path).map_err(|e| {
                    Error::config("ca_bundle_file", format!(": cannot read {path:?}: {e}"))
                })?,
                "ca_bundle_file",
            )),
            (None, None) => None,
        };
        if let Some((pem, field)) = &ca_pem {
            b = b.ca_bundle(CaBundle::from_pem(pem.as_bytes()).map_err(|e| e.renamed(field))?);
        }
        if let Some(v) = self.introspection_url {
            b = b.introspection_url(v);
        }
        if let Some(v) = self.introspection_max_age_secs {
            b = b.introspection_max_age(secs("introspection_max_age", v)?);
        }
        if let Some(v) = self.realm {
            b = b.realm(v);
        }
        if let Some(v) = self.cache_url {
            b = b.cache_url(v);
        }
        if let Some(v) = self.cache_prefix {
            b = b.cache_prefix(v);
        }
        if let Some(v) = self.cache_timeout_secs {
            b = b.cache_timeout(secs("cache_timeout", v)?);
        }
        if let Some(v) = self.cache_encryption_key {
            b = b.cache_encryption_key(v);
        }
        if self.client.client_id.is_some() {
            // The introspection client: the verifier's issuer (its metadata names the endpoint, and the
            // mutual-TLS alias), its timeout, CA bundle and http rule.
            let mut client = self.client;
            client.issuer = self.issuer;
            client.timeout_secs = timeout.map(|t| t.as_secs_f64());
            client.allow_insecure_http = Some(insecure);
            client.ca_bundle = ca_pem.map(|(pem, _)| pem);
            b = b.introspection(client.apply(TokenClientBuilder::new())?.build()?);
        } else if let Some(field) = credential_without_id(&self.client) {
            return Err(Error::config(
                field,
                "is set, but no `client_id`: introspection needs the verifier's client id too",
            ));
        }
        b.build()
    }
}

/// A credential given without the client id it belongs to.
fn credential_without_id(client: &ClientOptions) -> Option<&'static str> {
    [
        ("client_secret", client.client_secret.is_some()),
        ("client_secret_file", client.client_secret_file.is_some()),
        ("private_key", client.private_key.is_some()),
        ("private_key_file", client.private_key_file.is_some()),
        ("client_cert", client.client_cert.is_some()),
        ("client_cert_file", client.client_cert_file.is_some()),
    ]
    .into_iter()
    .find_map(|(name, given)| given.then_some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_setting_has_its_field() {
        for surface in [Surface::Rust, Surface::Node] {
            let mut names: Vec<&str> = VERIFIER_SETTINGS
                .iter()
                .map(|s| s.name_on(surface))
                .collect();
            let n = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), n, "{surface:?}");
        }
        for setting in VERIFIER_SETTINGS {
            assert_eq!(
                matches!(setting.kind, Kind::Duration { .. }),
                setting.node.ends_with("Ms"),
                "{}",
                setting.name
            );
            let value = match setting.kind {
                List | Names => SettingValue::List(vec!["a".into()]),
                Kind::Duration { .. } => SettingValue::Number(1.0),
                Flag => SettingValue::Flag(true),
                _ => SettingValue::Text("x".into()),
            };
            VerifierOptions::default()
                .set(setting, value, Surface::Rust)
                .unwrap_or_else(|e| panic!("{}: {e}", setting.name));
        }
        // Errors name settings by their core name; one name must read the same on every surface.
        for setting in VERIFIER_SETTINGS {
            if let Some(client) = settings::CLIENT_SETTINGS
                .iter()
                .find(|c| c.name == setting.name)
            {
                assert_eq!(client.node, setting.node, "{}", setting.name);
            }
        }
        for name in INTROSPECTION_CREDENTIALS {
            assert!(
                find_verifier_setting(Surface::Python, name).is_some(),
                "{name}"
            );
        }
        assert!(find_verifier_setting(Surface::Python, "scopes").is_none());
        assert_eq!(
            find_verifier_setting(Surface::Node, "leewayMs").map(|s| s.name),
            Some("leeway")
        );
    }

    #[test]
    fn a_single_audience_or_several() {
        let audience = find_verifier_setting(Surface::Python, "audience").expect("audience");
        let mut o = VerifierOptions::default();
        o.set(audience, SettingValue::Text("api".into()), Surface::Python)
            .expect("one");
        assert_eq!(o.audience.as_deref(), Some(&["api".to_owned()][..]));
        let scopes = find_verifier_setting(Surface::Python, "required_scopes").expect("scopes");
        assert!(
            o.set(scopes, SettingValue::Text("read".into()), Surface::Python)
                .is_err()
        );
    }

    #[test]
    fn credentials_without_a_client_id_are_named() {
        let mut o = VerifierOptions {
            issuer: Some("https://as.example".into()),
            audience: Some(vec!["api".into()]),
            ..VerifierOptions::default()
        };
        o.client.client_secret = Some("s".into());
        let e = o.build().expect_err("no client id");
        assert_eq!(e.config_field(), Some("client_secret"));
    }
}
