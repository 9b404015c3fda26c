//! `m2m-auth mock`: the bundled mock authorization server, for demos and for testing services offline.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use m2m_auth_mock::{MockConfig, MockServer};
use serde_json::json;

#[derive(Debug, Args)]
pub struct MockArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// A JSON file with registered clients (see tests/vectors/mock-server.json). Default: demo-client /
    /// demo-secret with scopes payments.read and payments.write.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long)]
    token_lifetime: Option<u64>,
    /// Print one JSON line ({"url", "token_url", "issuer"}) instead of text.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: MockArgs) -> ExitCode {
    let mut config = match &args.config {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|text| MockConfig::from_json(&text).map_err(|e| e.to_string()))
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("m2m-auth: error: {e}");
                return ExitCode::from(2);
            }
        },
        None => MockConfig::default(),
    };
    config.port = args.port;
    if let Some(secs) = args.token_lifetime {
        config.token_lifetime_secs = secs;
    }
    let clients: Vec<String> = config.clients.iter().map(|c| c.client_id.clone()).collect();
    let server = match MockServer::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("m2m-auth: error: {e}");
            return ExitCode::from(1);
        }
    };
    let banner = if args.json {
        json!({"url": server.url(), "token_url": server.token_url(), "issuer": server.issuer()})
            .to_string()
    } else {
        format!(
            "m2m-auth mock authorization server\n  url:       {}\n  token url: {}\n  clients:   {}\n  admin:     {0}/mock/stats, {0}/mock/faults, {0}/mock/requests, {0}/mock/reset\nPress Ctrl-C to stop.",
            server.url(),
            server.token_url(),
            clients.join(", ")
        )
    };
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{banner}");
        let _ = stdout.flush();
    }
    wait_for_shutdown().await;
    server.shutdown();
    ExitCode::SUCCESS
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
