//! `m2m-auth`: get a token from the command line, call an API with it, verify a token, or run the bundled mock authorization
//! server.

#![forbid(unsafe_code)]

mod call;
mod mock;
mod token;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "m2m-auth",
    version,
    about = "OAuth 2.0 client credentials tokens for machines"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Get an access token and print it (or JSON with --json, or a header with --header).
    Token(Box<token::TokenArgs>),
    /// Call a protected API with the token: print the answer's body (exit 22 for an HTTP error status).
    Call(Box<call::CallArgs>),
    /// Check an access token as the service receiving it would: print its claims as JSON (exit 3 when it is
    /// not accepted, 4 when the keys or introspection endpoint cannot be reached).
    Verify(Box<verify::VerifyArgs>),
    /// Run the bundled mock authorization server on 127.0.0.1 until interrupted.
    Mock(mock::MockArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("m2m-auth: error: cannot start the runtime: {e}");
            return ExitCode::from(70);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Token(args) => token::run(*args).await,
            Command::Call(args) => call::run(*args).await,
            Command::Verify(args) => verify::run(*args).await,
            Command::Mock(args) => mock::run(args).await,
        }
    })
}
