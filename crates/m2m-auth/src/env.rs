//! Configuration from environment variables: the same names in Rust, Python, Node and the CLI, so a service
//! can move between languages without touching its deployment.

use std::time::Duration;

use crate::config::{AuthMethod, TokenClientBuilder, secureauth_token_url};
use crate::error::{Error, Result};

pub const TOKEN_URL: &str = "M2M_TOKEN_URL";
pub const CLIENT_ID: &str = "M2M_CLIENT_ID";
pub const CLIENT_SECRET: &str = "M2M_CLIENT_SECRET";
pub const CLIENT_SECRET_FILE: &str = "M2M_CLIENT_SECRET_FILE";
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
    CLIENT_ID,
    CLIENT_SECRET,
    CLIENT_SECRET_FILE,
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

/// Reads settings through `lookup` (the environment, or a map in tests). Empty values count as unset. Every
/// error names the variable to fix.
pub fn builder_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<TokenClientBuilder> {
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let mut b = TokenClientBuilder::new();

    let secureauth = [SECUREAUTH_TENANT, SECUREAUTH_REGION, SECUREAUTH_WORKSPACE].map(get);
    let token_url = match (get(TOKEN_URL), secureauth) {
        (Some(_), [Some(_), ..] | [_, Some(_), _] | [.., Some(_)]) => {
            return Err(Error::config(
                TOKEN_URL,
                format!("set either {TOKEN_URL} or the M2M_SECUREAUTH_* variables, not both"),
            ));
        }
        (Some(url), _) => url,
        (None, [Some(t), Some(r), Some(w)]) => secureauth_token_url(&t, &r, &w)?,
        (None, [None, None, None]) => {
            return Err(Error::config(
                TOKEN_URL,
                format!(
                    "{TOKEN_URL} is not set (or set {SECUREAUTH_TENANT}, {SECUREAUTH_REGION} and {SECUREAUTH_WORKSPACE})"
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
                format!(
                    "{missing} is not set; a SecureAuth workspace needs tenant, region and workspace"
                ),
            ));
        }
    };
    b = b.token_url(token_url);

    b = b.client_id(
        get(CLIENT_ID)
            .ok_or_else(|| Error::config(CLIENT_ID, format!("{CLIENT_ID} is not set")))?,
    );

    let secret = match (get(CLIENT_SECRET), get(CLIENT_SECRET_FILE)) {
        (Some(_), Some(_)) => {
            return Err(Error::config(
                CLIENT_SECRET,
                format!("set either {CLIENT_SECRET} or {CLIENT_SECRET_FILE}, not both"),
            ));
        }
        (Some(secret), None) => secret,
        (None, Some(path)) => read_secret_file(&path)?,
        (None, None) => {
            return Err(Error::config(
                CLIENT_SECRET,
                format!("{CLIENT_SECRET} (or {CLIENT_SECRET_FILE}) is not set"),
            ));
        }
    };
    b = b.client_secret(secret);

    if let Some(method) = get(AUTH_METHOD) {
        let method: AuthMethod = method.trim().parse().map_err(|e: Error| match e {
            Error::Config { message, .. } => Error::config(AUTH_METHOD, message),
            other => other,
        })?;
        b = b.auth_method(method);
    }
    if let Some(scope) = get(SCOPE) {
        b = b.scopes(
            scope
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
    }
    if let Some(audience) = get(AUDIENCE) {
        b = b.audience(audience.trim());
    }
    if let Some(resource) = get(RESOURCE) {
        b = b.resources(resource.split_ascii_whitespace().map(str::to_owned));
    }
    if let Some(timeout) = get(TIMEOUT) {
        let secs: f64 = timeout
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s < 86_400.0)
            .ok_or_else(|| {
                Error::config(
                    TIMEOUT,
                    format!("{TIMEOUT}={timeout:?} is not a number of seconds"),
                )
            })?;
        b = b.timeout(Duration::from_secs_f64(secs));
    }
    if let Some(flag) = get(ALLOW_INSECURE_HTTP) {
        let allow = match flag.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            _ => {
                return Err(Error::config(
                    ALLOW_INSECURE_HTTP,
                    format!("{ALLOW_INSECURE_HTTP}={flag:?} is not true/false"),
                ));
            }
        };
        b = b.allow_insecure_http(allow);
    }
    Ok(b)
}

fn read_secret_file(path: &str) -> Result<String> {
    let content = std::fs::read_to_string(path).map_err(|e| {
        Error::config(
            CLIENT_SECRET_FILE,
            format!("{CLIENT_SECRET_FILE}: cannot read {path:?}: {e}"),
        )
    })?;
    // Secret files written by `echo` or by Kubernetes end in a newline that is not part of the secret.
    let secret = content.trim_end_matches(['\n', '\r']).to_owned();
    if secret.is_empty() {
        return Err(Error::config(
            CLIENT_SECRET_FILE,
            format!("{CLIENT_SECRET_FILE}: {path:?} is empty"),
        ));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

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
            cfg.token_url.as_str(),
            "https://acme.eu.connect.secureauth.com/acme/pay/oauth2/token"
        );
        assert_eq!(cfg.client_secret.expose(), "from-file");
    }
}
