//! Configuration from environment variables: the same names in Rust, Python, Node and the CLI, so a service
//! can move between languages without touching its deployment.

use std::collections::HashMap;

use crate::config::options::ClientOptions;
use crate::config::{TokenClientBuilder, secureauth_issuer, secureauth_token_url};
use crate::credentials::auth_method::AuthMethod;
use crate::credentials::secret::SecretString;
use crate::error::{Error, Result};

pub const TOKEN_URL: &str = "M2M_TOKEN_URL";
pub const ISSUER: &str = "M2M_ISSUER";
pub const CLIENT_ID: &str = "M2M_CLIENT_ID";
pub const CLIENT_SECRET: &str = "M2M_CLIENT_SECRET";
pub const CLIENT_SECRET_FILE: &str = "M2M_CLIENT_SECRET_FILE";
pub const PRIVATE_KEY: &str = "M2M_PRIVATE_KEY";
pub const PRIVATE_KEY_FILE: &str = "M2M_PRIVATE_KEY_FILE";
pub const PRIVATE_KEY_ID: &str = "M2M_PRIVATE_KEY_ID";
pub const SIGNING_ALG: &str = "M2M_SIGNING_ALG";
pub const ASSERTION_AUDIENCE: &str = "M2M_ASSERTION_AUDIENCE";
pub const CLIENT_CERT_FILE: &str = "M2M_CLIENT_CERT_FILE";
pub const CLIENT_KEY_FILE: &str = "M2M_CLIENT_KEY_FILE";
pub const CA_BUNDLE_FILE: &str = "M2M_CA_BUNDLE_FILE";
pub const AUTH_METHOD: &str = "M2M_AUTH_METHOD";
pub const SCOPE: &str = "M2M_SCOPE";
pub const AUDIENCE: &str = "M2M_AUDIENCE";
pub const RESOURCE: &str = "M2M_RESOURCE";
pub const TIMEOUT: &str = "M2M_TIMEOUT";
pub const ALLOW_INSECURE_HTTP: &str = "M2M_ALLOW_INSECURE_HTTP";
pub const SECUREAUTH_TENANT: &str = "M2M_SECUREAUTH_TENANT";
pub const SECUREAUTH_REGION: &str = "M2M_SECUREAUTH_REGION";
pub const SECUREAUTH_WORKSPACE: &str = "M2M_SECUREAUTH_WORKSPACE";

/// Every variable read, for help texts and docs.
pub const ALL: &[&str] = &[
    TOKEN_URL,
    ISSUER,
    CLIENT_ID,
    CLIENT_SECRET,
    CLIENT_SECRET_FILE,
    PRIVATE_KEY,
    PRIVATE_KEY_FILE,
    PRIVATE_KEY_ID,
    SIGNING_ALG,
    ASSERTION_AUDIENCE,
    CLIENT_CERT_FILE,
    CLIENT_KEY_FILE,
    CA_BUNDLE_FILE,
    AUTH_METHOD,
    SCOPE,
    AUDIENCE,
    RESOURCE,
    TIMEOUT,
    ALLOW_INSECURE_HTTP,
    SECUREAUTH_TENANT,
    SECUREAUTH_REGION,
    SECUREAUTH_WORKSPACE,
];

/// Reads the process environment.
pub fn builder_from_env() -> Result<TokenClientBuilder> {
    builder_from_lookup(|name| std::env::var(name).ok())
}

/// Reads settings through `lookup` (the environment, or a map in tests). Empty values count as unset. The
/// settings are checked together before this returns, and every error names the variable to fix.
pub fn builder_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<TokenClientBuilder> {
    let mut from = Sources::default();
    let builder = read(
        &|name| lookup(name).filter(|v| !v.trim().is_empty()),
        &mut from,
    )?;
    match builder.clone().validate() {
        Ok(_) => Ok(builder),
        Err(Error::Config { field, message }) => Err(Error::config(from.variable(&field), message)),
        Err(other) => Err(other),
    }
}

/// Which variable each builder setting came from, so that a check failing on a setting names the variable.
#[derive(Default)]
struct Sources(HashMap<&'static str, &'static str>);

impl Sources {
    fn set(&mut self, field: &'static str, variable: &'static str) {
        self.0.insert(field, variable);
    }

    fn variable(&self, field: &str) -> String {
        self.0
            .get(field)
            .map_or_else(|| field.to_owned(), |v| (*v).to_owned())
    }
}

/// One of two variables that say the same thing in two ways (inline or from a file), or neither.
fn one_of(
    get: &dyn Fn(&str) -> Option<String>,
    inline: &'static str,
    file: &'static str,
) -> Result<Option<(String, &'static str)>> {
    match (get(inline), get(file)) {
        (Some(_), Some(_)) => Err(Error::config(
            inline,
            format!("and {file} are both set; set one of them"),
        )),
        (Some(value), None) => Ok(Some((value, inline))),
        (None, Some(path)) => Ok(Some((path, file))),
        (None, None) => Ok(None),
    }
}

fn read(get: &dyn Fn(&str) -> Option<String>, from: &mut Sources) -> Result<TokenClientBuilder> {
    let mut b = TokenClientBuilder::new();

    let secureauth = [SECUREAUTH_TENANT, SECUREAUTH_REGION, SECUREAUTH_WORKSPACE].map(get);
    let explicit = [(TOKEN_URL, get(TOKEN_URL)), (ISSUER, get(ISSUER))];
    match (explicit.iter().find(|(_, v)| v.is_some()), secureauth) {
        (Some((name, _)), [Some(_), ..] | [_, Some(_), _] | [.., Some(_)]) => {
            return Err(Error::config(
                *name,
                "and the M2M_SECUREAUTH_* variables are both set; set one of them",
            ));
        }
        (Some(_), _) => {
            if let (_, Some(url)) = &explicit[0] {
                b = b.token_url(url.trim());
                from.set("token_url", TOKEN_URL);
            }
            if let (_, Some(issuer)) = &explicit[1] {
                b = b.issuer(issuer.trim());
                from.set("issuer", ISSUER);
            }
        }
        (None, [Some(t), Some(r), Some(w)]) => {
            b = b
                .issuer(secureauth_issuer(&t, &r, &w)?)
                .token_url(secureauth_token_url(&t, &r, &w)?);
            from.set("token_url", SECUREAUTH_TENANT);
            from.set("issuer", SECUREAUTH_TENANT);
        }
        (None, [None, None, None]) => {
            return Err(Error::config(
                TOKEN_URL,
                format!(
                    "(or {ISSUER}, or {SECUREAUTH_TENANT}, {SECUREAUTH_REGION} and {SECUREAUTH_WORKSPACE}) is not set"
                ),
            ));
        }
        (None, parts) => {
            let missing = [SECUREAUTH_TENANT, SECUREAUTH_REGION, SECUREAUTH_WORKSPACE]
                .into_iter()
                .zip(parts)
                .find(|(_, v)| v.is_none())
                .map_or(SECUREAUTH_TENANT, |(n, _)| n);
            return Err(Error::config(
                missing,
                "is not set; a SecureAuth workspace needs tenant, region and workspace",
            ));
        }
    }

    b = b.client_id(get(CLIENT_ID).ok_or_else(|| Error::config(CLIENT_ID, "is not set"))?);
    from.set("client_id", CLIENT_ID);

    let secret = one_of(get, CLIENT_SECRET, CLIENT_SECRET_FILE)?;
    let key = one_of(get, PRIVATE_KEY, PRIVATE_KEY_FILE)?;
    let cert = match (get(CLIENT_CERT_FILE), get(CLIENT_KEY_FILE)) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => {
            return Err(Error::config(
                CLIENT_KEY_FILE,
                format!("is not set, but {CLIENT_CERT_FILE} is"),
            ));
        }
        (None, Some(_)) => {
            return Err(Error::config(
                CLIENT_CERT_FILE,
                format!("is not set, but {CLIENT_KEY_FILE} is"),
            ));
        }
    };
    if secret.is_none() && key.is_none() && cert.is_none() {
        return Err(Error::config(
            CLIENT_SECRET,
            format!(
                "(or {CLIENT_SECRET_FILE}, {PRIVATE_KEY_FILE}, or {CLIENT_CERT_FILE} and {CLIENT_KEY_FILE}) is not set"
            ),
        ));
    }
    if let Some((value, variable)) = secret {
        let secret = if variable == CLIENT_SECRET_FILE {
            read_secret_file(&value)?
        } else {
            value
        };
        b = b.client_secret(secret);
        from.set("client_secret", variable);
    }
    // Keys, certificates and the CA bundle are loaded exactly as the bindings' options load them; only the
    // names in errors change, to the variables.
    let (key_variable, key) = match key {
        Some((value, PRIVATE_KEY)) => (PRIVATE_KEY, (Some(SecretString::from(value)), None)),
        Some((path, variable)) => (variable, (None, Some(path))),
        None => (PRIVATE_KEY, (None, None)),
    };
    let has_key = key.0.is_some() || key.1.is_some();
    let material = ClientOptions {
        private_key: key.0,
        private_key_file: key.1,
        // Without a key these have nothing to apply to, and are ignored.
        private_key_id: get(PRIVATE_KEY_ID)
            .filter(|_| has_key)
            .map(|v| v.trim().to_owned()),
        signing_alg: get(SIGNING_ALG)
            .filter(|_| has_key)
            .map(|v| v.trim().to_owned()),
        client_cert_file: cert.as_ref().map(|(c, _)| c.clone()),
        client_key_file: cert.as_ref().map(|(_, k)| k.clone()),
        ca_bundle_file: get(CA_BUNDLE_FILE),
        ..ClientOptions::default()
    };
    b = material.apply(b).map_err(|e| {
        let variable = match e.config_field() {
            Some("private_key" | "private_key_file") => key_variable,
            Some("private_key_id") => PRIVATE_KEY_ID,
            Some("signing_alg") => SIGNING_ALG,
            Some("client_cert" | "client_cert_file") => CLIENT_CERT_FILE,
            Some("client_key" | "client_key_file") => CLIENT_KEY_FILE,
            Some("ca_bundle" | "ca_bundle_file") => CA_BUNDLE_FILE,
            _ => return e,
        };
        e.renamed(variable)
    })?;
    if has_key {
        from.set("private_key", key_variable);
    }
    if cert.is_some() {
        from.set("client_cert", CLIENT_CERT_FILE);
        from.set("client_key", CLIENT_KEY_FILE);
    }
    if let Some(audience) = get(ASSERTION_AUDIENCE) {
        b = b.assertion_audience(audience.trim());
    }

    if let Some(method) = get(AUTH_METHOD) {
        let method: AuthMethod = method
            .trim()
            .parse()
            .map_err(|e: Error| e.renamed(AUTH_METHOD))?;
        b = b.auth_method(method);
        from.set("auth_method", AUTH_METHOD);
    }
    if let Some(scope) = get(SCOPE) {
        b = b.scopes(
            scope
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        from.set("scopes", SCOPE);
    }
    if let Some(audience) = get(AUDIENCE) {
        b = b.audience(audience.trim());
    }
    if let Some(resource) = get(RESOURCE) {
        b = b.resources(resource.split_ascii_whitespace().map(str::to_owned));
    }
    if let Some(timeout) = get(TIMEOUT) {
        let secs: f64 = timeout.trim().parse().map_err(|_| {
            Error::config(TIMEOUT, format!("={timeout:?} is not a number of seconds"))
        })?;
        b = b.timeout(crate::config::options::seconds(TIMEOUT, secs)?);
        from.set("timeout", TIMEOUT);
    }
    if let Some(flag) = get(ALLOW_INSECURE_HTTP) {
        let allow = match flag.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            _ => {
                return Err(Error::config(
                    ALLOW_INSECURE_HTTP,
                    format!("={flag:?} is not true/false"),
                ));
            }
        };
        b = b.allow_insecure_http(allow);
    }
    Ok(b)
}

fn read_secret_file(path: &str) -> Result<String> {
    let content = std::fs::read_to_string(path)
        .map_err(|e| Error::config(CLIENT_SECRET_FILE, format!(": cannot read {path:?}: {e}")))?;
    // Secret files written by `echo` or by Kubernetes end in a newline that is not part of the secret.
    let secret = content.trim_end_matches(['\n', '\r']).to_owned();
    if secret.is_empty() {
        return Err(Error::config(
            CLIENT_SECRET_FILE,
            format!(": {path:?} is empty"),
        ));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<TokenClientBuilder> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        builder_from_lookup(|k| map.get(k).cloned())
    }

    fn field(r: Result<TokenClientBuilder>) -> String {
        match r {
            Err(Error::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn reads_every_setting() {
        let b = from(&[
            (TOKEN_URL, "https://idp.example/t"),
            (CLIENT_ID, "svc"),
            (CLIENT_SECRET, "s3cret"),
            (AUTH_METHOD, "client_secret_basic"),
            (SCOPE, "b a,c"),
            (AUDIENCE, "api"),
            (RESOURCE, "https://r1 https://r2"),
            (TIMEOUT, "2.5"),
        ])
        .expect("builder");
        let cfg = b.validate().expect("valid");
        assert_eq!(cfg.auth_method, AuthMethod::ClientSecretBasic);
        assert_eq!(cfg.scopes, ["a", "b", "c"]);
        assert_eq!(cfg.audience.as_deref(), Some("api"));
        assert_eq!(cfg.resources, ["https://r1", "https://r2"]);
        assert_eq!(cfg.timeout, Duration::from_millis(2500));
    }

    #[test]
    fn missing_and_contradictory_settings_name_the_variable() {
        assert_eq!(field(from(&[])), TOKEN_URL);
        assert_eq!(field(from(&[(TOKEN_URL, "https://x/t")])), CLIENT_ID);
        assert_eq!(
            field(from(&[(TOKEN_URL, "https://x/t"), (CLIENT_ID, "a")])),
            CLIENT_SECRET
        );
        assert_eq!(
            field(from(&[
                (TOKEN_URL, "https://x/t"),
                (CLIENT_ID, "a"),
                (CLIENT_SECRET, "s"),
                (CLIENT_SECRET_FILE, "/f"),
            ])),
            CLIENT_SECRET
        );
        assert_eq!(
            field(from(&[
                (TOKEN_URL, "https://x/t"),
                (CLIENT_ID, "a"),
                (CLIENT_SECRET, "s"),
                (AUTH_METHOD, "magic"),
            ])),
            AUTH_METHOD
        );
        assert_eq!(
            field(from(&[
                (SECUREAUTH_TENANT, "acme"),
                (SECUREAUTH_REGION, "us")
            ])),
            SECUREAUTH_WORKSPACE
        );
        assert_eq!(
            field(from(&[
                (TOKEN_URL, "https://x/t"),
                (CLIENT_ID, "a"),
                (CLIENT_SECRET_FILE, "/nonexistent/secret"),
            ])),
            CLIENT_SECRET_FILE
        );
    }

    #[test]
    fn secureauth_variables_build_the_url_and_secret_file_is_trimmed() {
        let dir = std::env::temp_dir().join(format!("m2m-env-test-{}", std::process::id()));
        std::fs::write(&dir, "from-file\n").expect("write");
        let b = from(&[
            (SECUREAUTH_TENANT, "acme"),
            (SECUREAUTH_REGION, "eu"),
            (SECUREAUTH_WORKSPACE, "pay"),
            (CLIENT_ID, "svc"),
            (CLIENT_SECRET_FILE, dir.to_str().expect("utf8")),
        ])
        .expect("builder");
        let _ = std::fs::remove_file(&dir);
        let cfg = b.validate().expect("valid");
        assert_eq!(
            cfg.token_url.as_ref().map(url::Url::as_str),
            Some("https://acme.eu.connect.secureauth.com/acme/pay/oauth2/token")
        );
        assert_eq!(
            cfg.issuer.as_ref().map(url::Url::as_str),
            Some("https://acme.eu.connect.secureauth.com/acme/pay")
        );
        assert_eq!(
            cfg.client_secret.as_ref().map(|s| s.expose()),
            Some("from-file")
        );
    }
}
