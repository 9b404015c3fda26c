//! `m2m-auth token`. Every flag has an `M2M_*` environment variable behind it, and both go through the core's
//! environment reader, so the CLI, `from_env()` in Python and `fromEnv()` in Node accept exactly the same
//! settings and report the same errors.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Args;
use m2m_auth::{ErrorKind, env};
use serde_json::json;

/// The client settings every command that needs a token takes.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Token endpoint URL.
    #[arg(long, env = env::TOKEN_URL)]
    token_url: Option<String>,
    /// Issuer whose metadata names the token endpoint (and its mutual-TLS alias).
    #[arg(long, env = env::ISSUER)]
    issuer: Option<String>,
    /// SecureAuth tenant (with --region and --workspace, instead of --token-url).
    #[arg(long, env = env::SECUREAUTH_TENANT)]
    tenant: Option<String>,
    #[arg(long, env = env::SECUREAUTH_REGION)]
    region: Option<String>,
    #[arg(long, env = env::SECUREAUTH_WORKSPACE)]
    workspace: Option<String>,
    #[arg(long, env = env::CLIENT_ID)]
    client_id: Option<String>,
    /// Prefer the environment variable or --client-secret-file: a flag is visible to other users in `ps`.
    #[arg(long, env = env::CLIENT_SECRET, hide_env_values = true)]
    client_secret: Option<String>,
    /// A file holding the client secret (a trailing newline is ignored).
    #[arg(long, env = env::CLIENT_SECRET_FILE)]
    client_secret_file: Option<String>,
    /// Private key for private_key_jwt: a PEM (PKCS#8, PKCS#1, SEC1) or JWK file.
    #[arg(long, env = env::PRIVATE_KEY_FILE)]
    private_key_file: Option<String>,
    /// The private key itself (PEM or JWK); only from the environment, never a flag.
    #[arg(skip = std::env::var(env::PRIVATE_KEY).ok())]
    private_key: Option<String>,
    /// The `kid` of client assertions.
    #[arg(long, env = env::PRIVATE_KEY_ID)]
    private_key_id: Option<String>,
    /// RS256 (RSA default), PS256 or ES256.
    #[arg(long, env = env::SIGNING_ALG)]
    signing_alg: Option<String>,
    /// The `aud` of client assertions (default: the token endpoint URL).
    #[arg(long, env = env::ASSERTION_AUDIENCE)]
    assertion_audience: Option<String>,
    /// Client certificate chain (PEM) for mutual TLS.
    #[arg(long, env = env::CLIENT_CERT_FILE)]
    client_cert_file: Option<String>,
    /// Private key (PEM) of the client certificate.
    #[arg(long, env = env::CLIENT_KEY_FILE)]
    client_key_file: Option<String>,
    /// CA certificates (PEM) to trust instead of the system's.
    #[arg(long, env = env::CA_BUNDLE_FILE)]
    ca_bundle_file: Option<String>,
    /// client_secret_post (default with a secret), client_secret_basic, client_secret_jwt, private_key_jwt
    /// (default with a key), tls_client_auth (default with only a certificate), self_signed_tls_client_auth.
    #[arg(long, env = env::AUTH_METHOD)]
    auth_method: Option<String>,
    /// Scopes, space- or comma-separated.
    #[arg(long, env = env::SCOPE)]
    scope: Option<String>,
    #[arg(long, env = env::AUDIENCE)]
    audience: Option<String>,
    /// RFC 8707 resource indicators, space-separated.
    #[arg(long, env = env::RESOURCE)]
    resource: Option<String>,
    /// Seconds one token request may take.
    #[arg(long, env = env::TIMEOUT)]
    timeout: Option<String>,
    /// Allow plain http to a host that is not loopback.
    #[arg(long, env = env::ALLOW_INSECURE_HTTP)]
    allow_insecure_http: Option<String>,
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

    fn lookup(&self, name: &str) -> Option<String> {
        let value = match name {
            env::TOKEN_URL => &self.token_url,
            env::ISSUER => &self.issuer,
            env::PRIVATE_KEY => &self.private_key,
            env::PRIVATE_KEY_FILE => &self.private_key_file,
            env::PRIVATE_KEY_ID => &self.private_key_id,
            env::SIGNING_ALG => &self.signing_alg,
            env::ASSERTION_AUDIENCE => &self.assertion_audience,
            env::CLIENT_CERT_FILE => &self.client_cert_file,
            env::CLIENT_KEY_FILE => &self.client_key_file,
            env::CA_BUNDLE_FILE => &self.ca_bundle_file,
            env::SECUREAUTH_TENANT => &self.tenant,
            env::SECUREAUTH_REGION => &self.region,
            env::SECUREAUTH_WORKSPACE => &self.workspace,
            env::CLIENT_ID => &self.client_id,
            env::CLIENT_SECRET => &self.client_secret,
            env::CLIENT_SECRET_FILE => &self.client_secret_file,
            env::AUTH_METHOD => &self.auth_method,
            env::SCOPE => &self.scope,
            env::AUDIENCE => &self.audience,
            env::RESOURCE => &self.resource,
            env::TIMEOUT => &self.timeout,
            env::ALLOW_INSECURE_HTTP => &self.allow_insecure_http,
            _ => return None,
        };
        value.clone()
    }
}

/// Errors name the environment variable; on the command line the flag is the other way to set it.
fn flag_hint(e: &m2m_auth::Error) -> String {
    match e {
        m2m_auth::Error::Config { field, .. } if field.starts_with("M2M_") => {
            let flag = field
                .trim_start_matches("M2M_")
                .trim_start_matches("SECUREAUTH_")
                .to_ascii_lowercase()
                .replace('_', "-");
            format!(" [flag: --{flag}]")
        }
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
