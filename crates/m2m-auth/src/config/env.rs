//! Configuration from environment variables: the same names in Rust, Python, Node and the CLI, so a service
//! can move between languages without touching its deployment. Which variables there are, and what each
//! takes, is the settings' declaration (`config::settings`); this reads them by it.

use crate::config::TokenClientBuilder;
use crate::config::options::ClientOptions;
use crate::config::settings::{self, CLIENT_SETTINGS, Kind, Setting, SettingValue, Surface};
use crate::error::{Error, Result};

/// Reads the process environment.
pub fn builder_from_env() -> Result<TokenClientBuilder> {
    builder_from_lookup(|name| std::env::var(name).ok())
}

/// Reads every declared setting that has a variable through `lookup` (the environment, the CLI's flags, or a
/// map in tests). Empty values count as unset. The settings are checked together before this returns, and
/// every error names the variable to fix.
pub fn builder_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<TokenClientBuilder> {
    let mut options = ClientOptions::default();
    for setting in CLIENT_SETTINGS {
        let Some(variable) = setting.env else {
            continue;
        };
        let Some(text) = lookup(variable).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let value = parse(setting, &text)?;
        options
            .set(setting, value, Surface::Env)
            .map_err(in_variables)?;
    }
    let builder = options
        .apply(TokenClientBuilder::new())
        .map_err(in_variables)?;
    builder.clone().validate().map_err(in_variables)?;
    Ok(builder)
}

/// A variable's text, read as its setting's kind says.
fn parse(setting: &Setting, text: &str) -> Result<SettingValue> {
    let trimmed = text.trim();
    let problem = |what: &str| {
        in_variables(Error::config(
            setting.name,
            format!("={text:?} is not {what}"),
        ))
    };
    Ok(match setting.kind {
        // A secret is taken as it is: spaces may be part of it.
        Kind::Secret | Kind::SecretPem => SettingValue::Text(text.to_owned()),
        Kind::Text | Kind::Key | Kind::Pem | Kind::Path => SettingValue::Text(trimmed.to_owned()),
        Kind::List | Kind::Names => SettingValue::List(
            trimmed
                .split([' ', ',', '\t', '\n'])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        Kind::Pairs => return Err(problem("settable from the environment")),
        Kind::Duration { .. } | Kind::Count { .. } | Kind::Ratio => {
            SettingValue::Number(trimmed.parse().map_err(|_| problem("a number"))?)
        }
        Kind::Flag => SettingValue::Flag(match trimmed.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            _ => return Err(problem("true/false")),
        }),
    })
}

/// A configuration error as the environment shows it: the variable, and the variables it refers to.
fn in_variables(e: Error) -> Error {
    match e {
        Error::Config { field, message } => Error::Config {
            field: settings::name_on(&field, Surface::Env).to_owned(),
            message: settings::render_references(&message, Surface::Env),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;
    use crate::credentials::auth_method::AuthMethod;

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
            ("M2M_TOKEN_URL", "https://idp.example/t"),
            ("M2M_CLIENT_ID", "svc"),
            ("M2M_CLIENT_SECRET", "s3cret"),
            ("M2M_AUTH_METHOD", "client_secret_basic"),
            ("M2M_SCOPE", "b a,c"),
            ("M2M_AUDIENCE", "api"),
            ("M2M_RESOURCE", "https://r1 https://r2"),
            ("M2M_TIMEOUT", "2.5"),
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
        assert_eq!(field(from(&[])), "M2M_TOKEN_URL");
        assert_eq!(
            field(from(&[("M2M_TOKEN_URL", "https://x/t")])),
            "M2M_CLIENT_ID"
        );
        assert_eq!(
            field(from(&[
                ("M2M_TOKEN_URL", "https://x/t"),
                ("M2M_CLIENT_ID", "a")
            ])),
            "M2M_CLIENT_SECRET"
        );
        assert_eq!(
            field(from(&[
                ("M2M_TOKEN_URL", "https://x/t"),
                ("M2M_CLIENT_ID", "a"),
                ("M2M_CLIENT_SECRET", "s"),
                ("M2M_CLIENT_SECRET_FILE", "/f"),
            ])),
            "M2M_CLIENT_SECRET"
        );
        assert_eq!(
            field(from(&[
                ("M2M_TOKEN_URL", "https://x/t"),
                ("M2M_CLIENT_ID", "a"),
                ("M2M_CLIENT_SECRET", "s"),
                ("M2M_AUTH_METHOD", "magic"),
            ])),
            "M2M_AUTH_METHOD"
        );
        assert_eq!(
            field(from(&[
                ("M2M_SECUREAUTH_TENANT", "acme"),
                ("M2M_SECUREAUTH_REGION", "us")
            ])),
            "M2M_SECUREAUTH_WORKSPACE"
        );
        assert_eq!(
            field(from(&[
                ("M2M_TOKEN_URL", "https://x/t"),
                ("M2M_CLIENT_ID", "a"),
                ("M2M_CLIENT_SECRET_FILE", "/nonexistent/secret"),
            ])),
            "M2M_CLIENT_SECRET_FILE"
        );
    }

    #[test]
    fn secureauth_variables_build_the_url_and_secret_file_is_trimmed() {
        let dir = std::env::temp_dir().join(format!("m2m-env-test-{}", std::process::id()));
        std::fs::write(&dir, "from-file\n").expect("write");
        let b = from(&[
            ("M2M_SECUREAUTH_TENANT", "acme"),
            ("M2M_SECUREAUTH_REGION", "eu"),
            ("M2M_SECUREAUTH_WORKSPACE", "pay"),
            ("M2M_CLIENT_ID", "svc"),
            ("M2M_CLIENT_SECRET_FILE", dir.to_str().expect("utf8")),
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
