//! `m2m-auth token`. Every flag has an `M2M_*` environment variable behind it, and both go through the core's
//! environment reader, so the CLI, `from_env()` in Python and `fromEnv()` in Node accept exactly the same
//! settings and report the same errors.

use std::io::Write as _;
use std::process::ExitCode;

use std::collections::HashMap;

use clap::Args;
use m2m_auth::settings::{CLIENT_SETTINGS, Kind, Setting};
use m2m_auth::{ErrorKind, env};
use serde_json::json;

/// The client settings every command that needs a token takes: one flag per declared setting that has one
/// (`m2m_auth::settings`), each with its environment variable behind it.
#[derive(Debug, Clone, Default)]
pub struct ClientArgs {
    /// Flag values (or their variables' values, which clap reads), by variable name.
    values: HashMap<&'static str, String>,
}

/// The settings the command line takes: those with both a flag and a variable.
fn flags() -> impl Iterator<Item = (&'static Setting, &'static str, &'static str)> {
    CLIENT_SETTINGS
        .iter()
        .filter_map(|s| Some((s, s.cli?, s.env?)))
}

impl Args for ClientArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        flags().fold(cmd, |cmd, (setting, flag, variable)| {
            cmd.arg(
                clap::Arg::new(flag)
                    .long(flag)
                    .env(variable)
                    // --help shows no variable's value: secrets, and URLs with passwords (cache_url).
                    .hide_env_values(true)
                    .value_name(match setting.kind {
                        Kind::Duration { .. } => "SECONDS",
                        Kind::Count { .. } => "N",
                        Kind::Ratio => "RATIO",
                        Kind::Flag => "BOOL",
                        Kind::Path => "PATH",
                        Kind::List | Kind::Names => "LIST",
                        _ => "VALUE",
                    })
                    .help(setting.doc),
            )
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for ClientArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let values = flags()
            .filter_map(|(_, flag, variable)| {
                matches
                    .get_one::<String>(flag)
                    .map(|v| (variable, v.clone()))
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
pub struct TokenArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Print the token response as JSON.
    #[arg(long, conflicts_with = "header")]
    json: bool,
    /// Print `Authorization: Bearer …`, for curl -H.
    #[arg(long)]
    header: bool,
}

impl ClientArgs {
    /// The client these settings (flags, else environment variables) describe; on a mistake, the message
    /// is printed and the exit code returned.
    pub fn client(&self) -> Result<m2m_auth::TokenClient, ExitCode> {
        env::builder_from_lookup(|name| self.lookup(name))
            .and_then(|b| b.build())
            .map_err(|e| {
                eprintln!("m2m-auth: error: {e}{}", flag_hint(&e));
                exit_code(e.kind())
            })
    }

    /// A setting's value by its variable: the flag (or the variable, as clap read it), else the variable of
    /// a setting that has no flag (a private key is never a flag).
    fn lookup(&self, name: &str) -> Option<String> {
        self.values
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
    }
}

/// Errors name the environment variable; on the command line the flag is the other way to set it.
fn flag_hint(e: &m2m_auth::Error) -> String {
    match e {
        m2m_auth::Error::Config { field, .. } => flags()
            .find(|(_, _, variable)| variable == field)
            .map(|(_, flag, _)| format!(" [flag: --{flag}]"))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Exit codes a script can branch on.
pub fn exit_code(kind: ErrorKind) -> ExitCode {
    ExitCode::from(match kind {
        ErrorKind::Config => 2,
        ErrorKind::OAuth => 3,
        ErrorKind::Transport => 4,
        ErrorKind::InvalidResponse => 5,
        ErrorKind::Internal => 70,
    })
}

pub async fn run(args: TokenArgs) -> ExitCode {
    let client = match args.client.client() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let token = match client.token().await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("m2m-auth: error: {e}");
            return exit_code(e.kind());
        }
    };
    let out = if args.json {
        json!({
            "access_token": token.access_token(),
            "token_type": token.token_type(),
            "expires_in": token.expires_in().as_secs(),
            "expires_at": token.expires_at_unix().floor() as u64,
            "scope": token.scope(),
        })
        .to_string()
    } else if args.header {
        format!("Authorization: Bearer {}", token.access_token())
    } else {
        token.access_token().to_owned()
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`m2m-auth token | head -c0`) is not worth a panic.
    if writeln!(stdout, "{out}").is_err() {
        return ExitCode::from(74);
    }
    ExitCode::SUCCESS
}
