//! `m2m-auth mock`: the bundled mock authorization server, for demos and for testing services offline.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use m2m_auth_mock::{MockConfig, MockServer};
use serde_json::{Value, json};

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
    /// Milliseconds the token endpoint waits before answering each request, like a real identity
    /// provider's round trip (for benchmarks). Default: 0, or "token_latency_ms" in --config.
    #[arg(long, value_name = "MS")]
    token_latency_ms: Option<u64>,
    /// Serve HTTPS with a CA generated at start, plus the mTLS endpoint alias (RFC 8705) on a
    /// second port, where clients may present a certificate for tls_client_auth or
    /// self_signed_tls_client_auth and get certificate-bound tokens. Clients must trust the CA:
    /// see --ca-out and --json.
    #[arg(long)]
    tls: bool,
    /// With TLS: the port of the mTLS endpoint alias (0 picks a free one).
    #[arg(long)]
    mtls_port: Option<u16>,
    /// With TLS (--tls, or "tls": true in --config): write the CA certificate (PEM) to this file,
    /// for clients to trust.
    #[arg(long, value_name = "PATH")]
    ca_out: Option<PathBuf>,
    /// Print one JSON line instead of text: {"url", "token_url", "issuer"}, and with --tls also
    /// "mtls_token_url" and "ca_pem" (plus "ca_file" with --ca-out).
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
    config.tls |= args.tls;
    if let Some(port) = args.mtls_port {
        config.mtls_port = port;
    }
    if let Some(secs) = args.token_lifetime {
        config.token_lifetime_secs = secs;
    }
    if let Some(ms) = args.token_latency_ms {
        config.token_latency_ms = ms;
    }
    if !config.tls && (args.ca_out.is_some() || args.mtls_port.is_some()) {
        eprintln!(
            "m2m-auth: error: --ca-out and --mtls-port need --tls (or \"tls\": true in --config)"
        );
        return ExitCode::from(2);
    }
    let clients: Vec<String> = config.clients.iter().map(|c| c.client_id.clone()).collect();
    let server = match MockServer::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("m2m-auth: error: {e}");
            return ExitCode::from(1);
        }
    };
    if let (Some(path), Some(ca)) = (&args.ca_out, server.ca_pem())
        && let Err(e) = std::fs::write(path, ca)
    {
        eprintln!("m2m-auth: error: cannot write {}: {e}", path.display());
        return ExitCode::from(1);
    }
    let banner = if args.json {
        json_banner(&server, args.ca_out.as_deref())
    } else {
        text_banner(&server, &clients, args.ca_out.as_deref())
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

fn json_banner(server: &MockServer, ca_file: Option<&Path>) -> String {
    let mut banner =
        json!({"url": server.url(), "token_url": server.token_url(), "issuer": server.issuer()});
    if let (Some(alias), Some(ca)) = (server.mtls_token_url(), server.ca_pem()) {
        banner["mtls_token_url"] = Value::String(alias);
        banner["ca_pem"] = Value::String(ca);
    }
    if let Some(path) = ca_file {
        banner["ca_file"] = Value::String(path.display().to_string());
    }
    banner.to_string()
}

fn text_banner(server: &MockServer, clients: &[String], ca_file: Option<&Path>) -> String {
    let mut text = format!(
        "m2m-auth mock authorization server\n  url:       {}\n  token url: {}\n",
        server.url(),
        server.token_url()
    );
    if let Some(alias) = server.mtls_token_url() {
        text.push_str(&format!("  mTLS url:  {alias}\n"));
    }
    let url = server.url();
    text.push_str(&format!(
        "  clients:   {}\n  introspection: {url}/oauth2/introspect\n  admin:     {url}/mock/stats, {url}/mock/faults, {url}/mock/requests, {url}/mock/reset\n  for verifiers: {url}/mock/tokens, {url}/mock/keys/rotate, {url}/mock/outage\n",
        clients.join(", ")
    ));
    match (ca_file, server.ca_pem()) {
        (Some(path), Some(_)) => text.push_str(&format!("  CA:        {}\n", path.display())),
        // Without a file to point to, the CA itself: clients cannot connect without trusting it.
        (None, Some(ca)) => {
            text.push_str(&format!("  CA certificate (trust it in clients):\n{ca}"))
        }
        _ => {}
    }
    text.push_str("Press Ctrl-C to stop.");
    text
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
