//! Every setting of a `TokenClient`, declared once: its name on each surface (Rust and Python, Node, the
//! environment, the CLI), the kind of value it takes, its default and a line of documentation. The Python and
//! Node conversions look settings up here and convert values by their kind; an error carries the setting's
//! core name and each surface renders its own (see [`render`]). Adding a setting is a line here and its use
//! in [`crate::ClientOptions::set`].

use std::time::Duration as StdDuration;

use crate::config::MAX_DURATION;
use crate::error::{Error, Result};

/// Where a setting is written. Each names it its own way; Node counts time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Rust and Python: the core name (`token_url`, `timeout` in seconds).
    Rust,
    Python,
    /// camelCase, durations in milliseconds (`timeoutMs`).
    Node,
    /// `M2M_*` environment variables (`from_env()`, `fromEnv()`, the CLI).
    Env,
}

/// What a setting takes, and so how each surface reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Text never shown (the client secret).
    Secret,
    /// A private key: PEM or JWK text (Python also bytes or a dict, Node a Buffer or an object).
    Key,
    /// PEM text (Python also bytes, Node a Buffer).
    Pem,
    /// PEM text of a private key, never shown.
    SecretPem,
    /// A file path.
    Path,
    /// A list of strings (the environment: separated by spaces or commas).
    List,
    /// One string, or a list of them (an audience or several).
    Names,
    /// Names and values (a dict / an object).
    Pairs,
    /// A duration: seconds, or milliseconds in Node; at most a day. `zero_ok`: zero turns the thing off.
    Duration {
        zero_ok: bool,
    },
    /// A whole number from `min` to `max`.
    Count {
        min: u64,
        max: u64,
    },
    /// A share: greater than 0, at most 1.
    Ratio,
    Flag,
}

/// Which constructors take a setting besides the common ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Every constructor.
    Common,
    /// The endpoint itself: `TokenClient(token_url=…, issuer=…)`, not `secureauth()` or `from_issuer()`.
    Endpoint,
    /// The parts of a SecureAuth workspace: `secureauth()` only.
    Workspace,
}

/// One setting.
#[derive(Debug)]
pub struct Setting {
    /// The core's name: the Rust builder's and Python's keyword.
    pub name: &'static str,
    /// The Node option.
    pub node: &'static str,
    /// The environment variable, where the environment can set it.
    pub env: Option<&'static str>,
    /// The CLI flag (without `--`), where the command line can set it (never for a private key: a flag is
    /// visible to other users in `ps`).
    pub cli: Option<&'static str>,
    pub kind: Kind,
    pub group: Group,
    /// The default, as the README says it.
    pub default: &'static str,
    pub doc: &'static str,
}

impl Setting {
    /// Its name on `surface` (the environment variable, or the core name where the environment has none).
    pub fn name_on(&self, surface: Surface) -> &'static str {
        match surface {
            Surface::Rust | Surface::Python => self.name,
            Surface::Node => self.node,
            Surface::Env => self.env.unwrap_or(self.name),
        }
    }
}

pub(crate) const fn setting(
    name: &'static str,
    node: &'static str,
    (env, cli): (Option<&'static str>, Option<&'static str>),
    kind: Kind,
    group: Group,
    default: &'static str,
    doc: &'static str,
) -> Setting {
    Setting {
        name,
        node,
        env,
        cli,
        kind,
        group,
        default,
        doc,
    }
}

use Group::{Common, Endpoint, Workspace};
use Kind::*;

pub(crate) const DURATION: Kind = Duration { zero_ok: false };
pub(crate) const DURATION_OR_OFF: Kind = Duration { zero_ok: true };

/// Every setting of a `TokenClient`, in the order the README's configuration table lists them. Columns: the
/// core (Rust, Python) name, the Node option, (environment variable, CLI flag), kind, group, default, doc.
#[rustfmt::skip]
pub const CLIENT_SETTINGS: &[Setting] = &[
    setting("token_url", "tokenUrl", (Some("M2M_TOKEN_URL"), Some("token-url")), Text, Endpoint,
        "required (or issuer)", "The token endpoint URL."),
    setting("issuer", "issuer", (Some("M2M_ISSUER"), Some("issuer")), Text, Endpoint, "none",
        "The issuer whose metadata names the token endpoint (and its mutual-TLS alias)."),
    setting("tenant", "tenant", (Some("M2M_SECUREAUTH_TENANT"), Some("tenant")), Text, Workspace, "none",
        "SecureAuth tenant: with region and workspace, instead of token_url."),
    setting("region", "region", (Some("M2M_SECUREAUTH_REGION"), Some("region")), Text, Workspace, "none",
        "SecureAuth region."),
    setting("workspace", "workspace", (Some("M2M_SECUREAUTH_WORKSPACE"), Some("workspace")), Text, Workspace,
        "none", "SecureAuth workspace."),
    setting("client_id", "clientId", (Some("M2M_CLIENT_ID"), Some("client-id")), Text, Common, "required",
        "The client's id."),
    setting("client_secret", "clientSecret", (Some("M2M_CLIENT_SECRET"), Some("client-secret")), Secret, Common,
        "none", "The client secret. On the command line prefer the variable or a file: a flag shows in `ps`."),
    setting("client_secret_file", "clientSecretFile", (Some("M2M_CLIENT_SECRET_FILE"), Some("client-secret-file")),
        Path, Common, "none", "A file holding the client secret (a trailing newline is not part of it)."),
    setting("private_key", "privateKey", (Some("M2M_PRIVATE_KEY"), None), Key, Common, "none",
        "The private key for private_key_jwt: PEM (PKCS#8, PKCS#1, SEC1) or a JWK."),
    setting("private_key_file", "privateKeyFile", (Some("M2M_PRIVATE_KEY_FILE"), Some("private-key-file")), Path,
        Common, "none", "A file holding the private key."),
    setting("private_key_id", "privateKeyId", (Some("M2M_PRIVATE_KEY_ID"), Some("private-key-id")), Text, Common,
        "the JWK's kid", "The kid of client assertions."),
    setting("signing_alg", "signingAlg", (Some("M2M_SIGNING_ALG"), Some("signing-alg")), Text, Common,
        "RS256 or ES256 by key", "RS256, PS256 or ES256."),
    setting("assertion_audience", "assertionAudience", (Some("M2M_ASSERTION_AUDIENCE"), Some("assertion-audience")),
        Text, Common, "the token endpoint URL", "The aud of client assertions."),
    setting("client_cert", "clientCert", (None, None), Pem, Common, "none",
        "The client certificate chain (PEM), leaf first, for mutual TLS."),
    setting("client_cert_file", "clientCertFile", (Some("M2M_CLIENT_CERT_FILE"), Some("client-cert-file")), Path,
        Common, "none", "A file holding the client certificate chain."),
    setting("client_key", "clientKey", (None, None), SecretPem, Common, "none",
        "The private key (PEM) of the client certificate."),
    setting("client_key_file", "clientKeyFile", (Some("M2M_CLIENT_KEY_FILE"), Some("client-key-file")), Path,
        Common, "none", "A file holding the client certificate's private key."),
    setting("ca_bundle", "caBundle", (None, None), Pem, Common, "the system's CAs",
        "CA certificates (PEM) to trust instead of the system's."),
    setting("ca_bundle_file", "caBundleFile", (Some("M2M_CA_BUNDLE_FILE"), Some("ca-bundle-file")), Path, Common,
        "the system's CAs", "A file holding the CA certificates."),
    setting("auth_method", "authMethod", (Some("M2M_AUTH_METHOD"), Some("auth-method")), Text, Common,
        "from the credential", "How the client authenticates at the token endpoint."),
    setting("scopes", "scopes", (Some("M2M_SCOPE"), Some("scope")), List, Common, "none",
        "The scopes to ask for (the environment and flag: separated by spaces or commas)."),
    setting("audience", "audience", (Some("M2M_AUDIENCE"), Some("audience")), Text, Common, "none",
        "The audience to ask for."),
    setting("resources", "resources", (Some("M2M_RESOURCE"), Some("resource")), List, Common, "none",
        "RFC 8707 resource indicators."),
    setting("extra_params", "extraParams", (None, None), Pairs, Common, "none",
        "Extra form fields of every token request."),
    setting("timeout", "timeoutMs", (Some("M2M_TIMEOUT"), Some("timeout")), DURATION, Common, "10 s",
        "How long one request to the token endpoint may take."),
    setting("expiry_skew", "expirySkewMs", (Some("M2M_EXPIRY_SKEW"), Some("expiry-skew")), DURATION_OR_OFF, Common,
        "30 s", "No token is handed out this close to its expiry (capped at a tenth of its lifetime)."),
    setting("default_lifetime", "defaultLifetimeMs", (Some("M2M_DEFAULT_LIFETIME"), Some("default-lifetime")),
        DURATION, Common, "300 s", "The lifetime when neither expires_in nor a JWT exp says."),
    setting("max_response_bytes", "maxResponseBytes", (None, None), Count { min: 1, max: 64 << 20 }, Common,
        "1 MiB", "The largest token response read."),
    setting("allow_insecure_http", "allowInsecureHttp", (Some("M2M_ALLOW_INSECURE_HTTP"), Some("allow-insecure-http")),
        Flag, Common, "false", "Allow plain http to hosts other than loopback."),
    setting("refresh_ratio", "refreshRatio", (Some("M2M_REFRESH_RATIO"), Some("refresh-ratio")), Ratio, Common,
        "0.8", "The share of a token's lifetime after which a background refresh starts (1: none)."),
    setting("max_attempts", "maxAttempts", (Some("M2M_MAX_ATTEMPTS"), Some("max-attempts")),
        Count { min: 1, max: 100 }, Common, "4", "Requests per fetch (1 turns retries off)."),
    setting("retry_backoff", "retryBackoffMs", (None, None), DURATION_OR_OFF, Common, "0.2 s",
        "The wait before the first retry; it doubles per retry, with full jitter."),
    setting("retry_max_backoff", "retryMaxBackoffMs", (None, None), DURATION_OR_OFF, Common, "10 s",
        "The longest wait between retries."),
    setting("retry_deadline", "retryDeadlineMs", (Some("M2M_RETRY_DEADLINE"), Some("retry-deadline")), DURATION,
        Common, "30 s", "All attempts of one fetch end within this."),
    setting("max_retry_after", "maxRetryAfterMs", (None, None), DURATION_OR_OFF, Common, "60 s",
        "A longer Retry-After ends the retries."),
    setting("cache_url", "cacheUrl", (Some("M2M_CACHE_URL"), Some("cache-url")), Text, Common, "memory:",
        "Where tokens are cached: memory:, file:DIR (one host), redis://…, rediss://…, redis+cluster://…, redis+sentinel://… (a fleet)."),
    setting("cache_prefix", "cachePrefix", (Some("M2M_CACHE_PREFIX"), Some("cache-prefix")), Text, Common,
        "m2m-auth:", "Put before every name in the shared cache."),
    setting("cache_timeout", "cacheTimeoutMs", (Some("M2M_CACHE_TIMEOUT"), Some("cache-timeout")), DURATION,
        Common, "0.25 s", "The longest one shared-cache operation may take; slower counts as down."),
    setting("cache_lock_ttl", "cacheLockTtlMs", (Some("M2M_CACHE_LOCK_TTL"), Some("cache-lock-ttl")), DURATION,
        Common, "5 s", "How long the fleet-wide lock outlives a process that died holding it."),
    setting("cache_encryption_key", "cacheEncryptionKey", (Some("M2M_CACHE_ENCRYPTION_KEY"), None), Secret,
        Common, "from the credential",
        "32 bytes, base64: seals shared entries, so services with different credentials of one client share."),
];

/// The setting `name` has on `surface`, if any.
pub fn find(surface: Surface, name: &str) -> Option<&'static Setting> {
    CLIENT_SETTINGS.iter().find(|s| s.name_on(surface) == name)
}

/// The name on `surface` of the setting (of a client or a verifier) whose core name is `name`; other names (an environment variable, a
/// field that is no setting) stay as they are.
pub fn name_on(name: &str, surface: Surface) -> &str {
    CLIENT_SETTINGS
        .iter()
        .chain(crate::verify::VERIFIER_SETTINGS)
        .find(|s| s.name == name)
        .map_or(name, |s| s.name_on(surface))
}

/// A configuration error as `surface` shows it: its setting's name, then what is wrong, with every
/// `` `setting` `` the message refers to named as on `surface`.
pub fn render(field: &str, message: &str, surface: Surface) -> String {
    let mut out = String::from(name_on(field, surface));
    if !message.starts_with([':', '=', ',']) {
        out.push(' ');
    }
    out.push_str(&render_references(message, surface));
    out
}

/// `message` with every `` `setting` `` named as on `surface` (the marks removed).
pub fn render_references(message: &str, surface: Surface) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find('`') {
        let Some(len) = rest[start + 1..].find('`') else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(name_on(&rest[start + 1..start + 1 + len], surface));
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// A value as a binding read it, before the core checks it against its setting.
#[derive(Debug, Clone)]
pub enum SettingValue {
    Text(String),
    List(Vec<String>),
    Pairs(Vec<(String, String)>),
    Number(f64),
    Flag(bool),
}

/// Takes a value a binding read for `setting` apart by the kind the field wants; a value of another kind is
/// the binding's mistake, named. The client's and the verifier's options set their fields through it.
pub(crate) struct ValueOf<'a> {
    pub setting: &'a Setting,
    pub surface: Surface,
}

impl ValueOf<'_> {
    fn wrong(&self) -> Error {
        Error::config(
            self.setting.name,
            format!("has a value of the wrong kind ({:?})", self.setting.kind),
        )
    }

    pub fn text(&self, v: SettingValue) -> Result<String> {
        match v {
            SettingValue::Text(s) => Ok(s),
            _ => Err(self.wrong()),
        }
    }

    /// A list; one text where the setting takes one name or several.
    pub fn list(&self, v: SettingValue) -> Result<Vec<String>> {
        match v {
            SettingValue::List(l) => Ok(l),
            SettingValue::Text(s) if self.setting.kind == Names => Ok(vec![s]),
            _ => Err(self.wrong()),
        }
    }

    /// A number, in the core's units and within the setting's bounds.
    pub fn number(&self, v: SettingValue) -> Result<f64> {
        match v {
            SettingValue::Number(n) => core_number(self.setting, n, self.surface),
            _ => Err(self.wrong()),
        }
    }

    pub fn flag(&self, v: SettingValue) -> Result<bool> {
        match v {
            SettingValue::Flag(f) => Ok(f),
            _ => Err(self.wrong()),
        }
    }

    pub fn pairs(&self, v: SettingValue) -> Result<Vec<(String, String)>> {
        match v {
            SettingValue::Pairs(p) => Ok(p),
            _ => Err(self.wrong()),
        }
    }
}

/// How a number of `setting`, given on `surface`, reads in the core's units, if it is within bounds:
/// durations become seconds (Node gives milliseconds), counts whole numbers.
pub fn core_number(setting: &Setting, value: f64, surface: Surface) -> Result<f64> {
    let problem = |what: String| {
        Err(Error::config(
            setting.name,
            format!("must be {what}, not {value}"),
        ))
    };
    match setting.kind {
        Duration { zero_ok } => {
            duration_on(setting.name, value, surface, zero_ok).map(|d| d.as_secs_f64())
        }
        Count { min, max } => {
            if value.is_finite()
                && value.fract() == 0.0
                && value >= min as f64
                && value <= max as f64
            {
                Ok(value)
            } else {
                problem(format!("a whole number from {min} to {max}"))
            }
        }
        Ratio => {
            if value > 0.0 && value <= 1.0 {
                Ok(value)
            } else {
                problem("greater than 0 and at most 1".to_owned())
            }
        }
        _ => problem("no number".to_owned()),
    }
}

/// A duration given on `surface` (seconds, or milliseconds in Node): finite, above zero (or zero when
/// `zero_ok`), at most [`MAX_DURATION`]. The one bound of every duration, settings and per-call ones alike.
pub fn duration_on(
    field: &str,
    value: f64,
    surface: Surface,
    zero_ok: bool,
) -> Result<StdDuration> {
    let (unit, scale) = match surface {
        Surface::Node => ("milliseconds", 1000.0),
        _ => ("seconds", 1.0),
    };
    let max = MAX_DURATION.as_secs_f64() * scale;
    let low_ok = if zero_ok { value >= 0.0 } else { value > 0.0 };
    if value.is_finite() && low_ok && value <= max {
        return Ok(StdDuration::from_secs_f64(value / scale));
    }
    let what = if zero_ok {
        format!("a number of {unit} from 0 to {max}")
    } else {
        format!("a number of {unit} greater than 0 and at most {max}")
    };
    Err(Error::config(field, format!("must be {what}, not {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_on_every_surface() {
        for surface in [Surface::Rust, Surface::Node, Surface::Env] {
            let mut names: Vec<&str> = CLIENT_SETTINGS
                .iter()
                .filter(|s| surface != Surface::Env || s.env.is_some())
                .map(|s| s.name_on(surface))
                .collect();
            let n = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), n, "{surface:?}");
        }
    }

    #[test]
    fn node_durations_end_in_ms() {
        for s in CLIENT_SETTINGS {
            assert_eq!(
                matches!(s.kind, Duration { .. }),
                s.node.ends_with("Ms"),
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn errors_render_each_surface_name() {
        let message = "is set but `client_key` is not";
        assert_eq!(
            render("client_cert_file", message, Surface::Node),
            "clientCertFile is set but clientKey is not"
        );
        assert_eq!(
            render("client_cert_file", message, Surface::Env),
            "M2M_CLIENT_CERT_FILE is set but client_key is not"
        );
        assert_eq!(render("url", ": bad", Surface::Node), "url: bad");
    }

    #[test]
    fn numbers_in_the_surface_unit() {
        let timeout = find(Surface::Node, "timeoutMs").expect("timeoutMs");
        assert_eq!(
            core_number(timeout, 2500.0, Surface::Node).expect("ok"),
            2.5
        );
        let Error::Config { field, message } =
            core_number(timeout, -1.0, Surface::Node).expect_err("negative")
        else {
            panic!("a config error")
        };
        assert_eq!(
            render(&field, &message, Surface::Node),
            "timeoutMs must be a number of milliseconds greater than 0 and at most 86400000, not -1"
        );
        let attempts = find(Surface::Python, "max_attempts").expect("max_attempts");
        assert!(core_number(attempts, 1.5, Surface::Python).is_err());
    }
}
