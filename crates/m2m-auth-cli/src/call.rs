//! `m2m-auth call URL`: one authenticated request to a protected API, like `curl` with the token handled —
//! fetched (and cached for the call), sent, replaced once if the API rejects it, and presented over the
//! client certificate when the token is bound to one.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use m2m_auth::ApiRequest;

use crate::token::{ClientArgs, exit_code};

#[derive(Debug, Args)]
pub struct CallArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The API URL.
    url: String,
    /// HTTP method (default GET, or POST with --data).
    #[arg(long, short = 'X')]
    method: Option<String>,
    /// Request body; `@FILE` reads it from a file, `@-` from stdin.
    #[arg(long, short = 'd')]
    data: Option<String>,
    /// An extra request header, `Name: value`; repeatable.
    #[arg(long = "request-header", short = 'H')]
    headers: Vec<String>,
    /// Print the status line and the response headers before the body.
    #[arg(long, short = 'i')]
    include: bool,
    /// Seconds the whole call may take.
    #[arg(long = "call-timeout", default_value_t = 30.0)]
    call_timeout: f64,
}

/// Exit status for an API that answered with an HTTP error (as `curl --fail` uses 22).
const HTTP_ERROR: u8 = 22;

fn body(data: &str) -> std::io::Result<Vec<u8>> {
    match data.strip_prefix('@') {
        Some("-") => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
            Ok(buf)
        }
        Some(path) => std::fs::read(path),
        None => Ok(data.as_bytes().to_vec()),
    }
}

pub async fn run(args: CallArgs) -> ExitCode {
    let client = match args.client.client() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut request = ApiRequest::get(&args.url);
    if let Some(data) = &args.data {
        match body(data) {
            Ok(b) => request.body = Some(b),
            Err(e) => {
                eprintln!("m2m-auth: error: --data {data}: {e}");
                return ExitCode::from(2);
            }
        }
        request.method = "POST".into();
    }
    if let Some(method) = &args.method {
        request.method.clone_from(method);
    }
    for header in &args.headers {
        let Some((name, value)) = header.split_once(':') else {
            eprintln!("m2m-auth: error: --request-header {header:?} is not `Name: value`");
            return ExitCode::from(2);
        };
        request
            .headers
            .push((name.trim().to_owned(), value.trim().to_owned()));
    }
    if !(args.call_timeout.is_finite() && args.call_timeout > 0.0 && args.call_timeout <= 86_400.0)
    {
        eprintln!("m2m-auth: error: --call-timeout must be a number of seconds from 0 to 86400");
        return ExitCode::from(2);
    }
    request.timeout = Duration::from_secs_f64(args.call_timeout);
    let answer = match client.call(&request).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("m2m-auth: error: {e}");
            return exit_code(e.kind());
        }
    };
    let mut out = std::io::stdout().lock();
    let mut write = || -> std::io::Result<()> {
        if args.include {
            writeln!(out, "HTTP {}", answer.status)?;
            for (name, value) in &answer.headers {
                writeln!(out, "{name}: {value}")?;
            }
            writeln!(out)?;
        }
        out.write_all(&answer.body)?;
        out.flush()
    };
    if write().is_err() {
        return ExitCode::from(74);
    }
    if answer.status >= 400 {
        eprintln!("m2m-auth: the API answered HTTP {}", answer.status);
        return ExitCode::from(HTTP_ERROR);
    }
    ExitCode::SUCCESS
}
