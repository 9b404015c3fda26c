//! `m2m-auth verify [TOKEN|-]`: checks an access token as a service receiving it would, and prints its claims
//! as JSON, or why it is not accepted. The flags are the verifier's declared settings
//! (`m2m_auth::verify::VERIFIER_SETTINGS`) and, for opaque tokens, the client credentials the verifier
//! introspects with; both go through the same `VerifierOptions` as the Python and Node `Verifier`.

use std::io::Read as _;
use std::process::ExitCode;

use clap::Args;
use m2m_auth::settings::{self, CLIENT_SETTINGS, Kind, Setting, SettingValue, Surface};
use m2m_auth::verify::{VERIFIER_SETTINGS, certificate_der, find_verifier_setting};
use m2m_auth::{Rejection, VerifierOptions};
use serde_json::json;

use crate::token::exit_code;

/// The settings `verify` takes on the command line: the verifier's own with a flag, and the introspection
/// credentials. Flags only: the `M2M_*` variables describe the token client of `token` and `call`, and a
/// service that has them set must not introspect with them by accident (a secret goes in a file).
fn flags() -> impl Iterator<Item = (&'static Setting, &'static str)> {
    let own = VERIFIER_SETTINGS.iter();
    let credentials = CLIENT_SETTINGS.iter().filter(|s| {
        find_verifier_setting(Surface::Rust, s.name).is_some()
            && !VERIFIER_SETTINGS.iter().any(|own| own.name == s.name)
    });
    own.chain(credentials).filter_map(|s| Some((s, s.cli?)))
}

#[derive(Debug, Clone, Default)]
pub struct VerifierArgs {
    /// (setting, values as given), in the order of the declaration.
    values: Vec<(&'static Setting, Vec<String>)>,
}

impl Args for VerifierArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        flags().fold(cmd, |cmd, (setting, flag)| {
            let mut arg = clap::Arg::new(flag)
                .long(flag)
                .help(setting.doc)
                .value_name(match setting.kind {
                    Kind::Duration { .. } => "SECONDS",
                    Kind::Flag => "BOOL",
                    Kind::Path => "PATH",
                    _ => "VALUE",
                });
            if matches!(setting.kind, Kind::List | Kind::Names) {
                // Repeatable: --audience a --audience b.
                arg = arg.action(clap::ArgAction::Append);
            }
            if matches!(setting.kind, Kind::Duration { .. }) {
                // So that a negative number reaches the core's bounds check, which names it.
                arg = arg.allow_negative_numbers(true);
            }
            cmd.arg(arg)
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for VerifierArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let values = flags()
            .filter_map(|(setting, flag)| {
                let given: Vec<String> = matches.get_many::<String>(flag)?.cloned().collect();
                Some((setting, given))
            })
            .collect();
        Ok(Self { values })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The access token; `-` or nothing reads it from standard input (a token on the command line shows in
    /// `ps`).
    // An opaque token may start with `-` (base64url): it is the token, not a flag.
    #[arg(allow_hyphen_values = true)]
    token: Option<String>,
    #[command(flatten)]
    verifier: VerifierArgs,
    /// The client certificate (PEM file) the request came with, for certificate-bound tokens.
    #[arg(long, value_name = "PATH")]
    request_cert_file: Option<String>,
}

/// A flag's text as the setting's kind reads it.
fn value_of(setting: &Setting, given: Vec<String>) -> Result<SettingValue, m2m_auth::Error> {
    let bad = |what: &str| m2m_auth::Error::Config {
        field: setting.name.into(),
        message: format!("must be {what}"),
    };
    let last = given.last().cloned().unwrap_or_default();
    Ok(match setting.kind {
        Kind::List | Kind::Names => SettingValue::List(
            given
                .iter()
                .flat_map(|v| v.split([' ', ',']))
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        Kind::Duration { .. } | Kind::Count { .. } | Kind::Ratio => {
            SettingValue::Number(last.trim().parse().map_err(|_| bad("a number"))?)
        }
        Kind::Flag => SettingValue::Flag(match last.trim().to_ascii_lowercase().as_str() {
            "" | "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            _ => return Err(bad("true or false")),
        }),
        _ => SettingValue::Text(last),
    })
}

fn read_token(given: Option<String>) -> Result<String, String> {
    match given.as_deref() {
        Some(token) if token != "-" => Ok(token.to_owned()),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
            Ok(text.trim().to_owned())
        }
    }
}

/// Exit codes as for `token`: a token refused is 3 (as an OAuth refusal), a verifier that cannot reach the
/// keys or the introspection endpoint 4 (as an unreachable endpoint).
fn rejection_exit_code(rejection: &Rejection) -> ExitCode {
    ExitCode::from(match rejection {
        Rejection::Unavailable { .. } => 4,
        _ => 3,
    })
}

pub async fn run(args: VerifyArgs) -> ExitCode {
    let mut options = VerifierOptions::default();
    for (setting, given) in args.verifier.values {
        let set = value_of(setting, given).and_then(|v| options.set(setting, v, Surface::Rust));
        if let Err(e) = set {
            eprintln!("m2m-auth: error: {}", on_the_command_line(&e));
            return exit_code(e.kind());
        }
    }
    let verifier = match options.build() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("m2m-auth: error: {}", on_the_command_line(&e));
            return exit_code(e.kind());
        }
    };
    let token = match read_token(args.token) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("m2m-auth: error: {e}");
            return ExitCode::from(2);
        }
    };
    let cert = match args
        .request_cert_file
        .as_deref()
        .map(std::fs::read_to_string)
    {
        None => None,
        Some(Ok(pem)) => match certificate_der(&pem) {
            Some(der) => Some(der),
            None => {
                eprintln!("m2m-auth: error: --request-cert-file holds no PEM certificate");
                return ExitCode::from(2);
            }
        },
        Some(Err(e)) => {
            eprintln!("m2m-auth: error: --request-cert-file cannot be read: {e}");
            return ExitCode::from(2);
        }
    };
    match verifier.verify(&token, cert.as_deref()).await {
        Ok(claims) => {
            let out = json!({
                "issuer": claims.issuer,
                "subject": claims.subject,
                "client_id": claims.client_id,
                "scopes": claims.scopes,
                "audience": claims.audience,
                "expires_at": claims.expires_at,
                "claims": claims.claims,
            });
            println!("{out:#}");
            ExitCode::SUCCESS
        }
        Err(rejection) => {
            eprintln!("m2m-auth: {}: {rejection}", rejection.status());
            eprintln!("WWW-Authenticate: {}", rejection.www_authenticate(None));
            rejection_exit_code(&rejection)
        }
    }
}

/// A configuration error with the setting named as its flag.
fn on_the_command_line(e: &m2m_auth::Error) -> String {
    match e {
        m2m_auth::Error::Config { field, message } => {
            let flag = flags()
                .find(|(s, _)| s.name == field)
                .map_or_else(|| field.clone(), |(_, flag)| format!("--{flag}"));
            format!(
                "{flag}{}",
                settings::render(field, message, Surface::Rust).trim_start_matches(field.as_str())
            )
        }
        other => other.to_string(),
    }
}
