//! The one error type of the crate: everything that can stop a mock server from starting, or
//! refuse what a test asks of a running one.

/// Why a [`crate::MockServer`] could not be configured or started.
///
/// Messages name the problem (the JSON field, the port) but never contain a client secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// The configuration JSON did not parse, or a parsed configuration is inconsistent.
    #[error("invalid mock server configuration: {0}")]
    Config(String),
    /// Binding the listening socket on 127.0.0.1 failed (port in use, no permission, ...).
    #[error("could not bind 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port that was asked for (0 = any free port).
        port: u16,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// `start` was awaited outside a Tokio runtime, so there is nowhere to spawn the server task.
    #[error("the mock server must be started from within a Tokio runtime")]
    NoRuntime,
    /// The ES256 signing key could not be generated.
    #[error("could not generate the token signing key: {0}")]
    Key(String),
    /// The TLS certificates or configuration could not be set up (`tls: true`).
    #[error("could not set up TLS: {0}")]
    Tls(String),
    /// A request to the running server, such as [`crate::MockServer::mint_tokens`], was refused;
    /// the message is the one the admin API answers with.
    #[error("invalid request: {0}")]
    Request(String),
    /// A test key or certificate could not be made (see [`crate::testkeys`] and
    /// [`crate::MockServer::issue_client_certificate`]).
    #[error("could not generate a test key or certificate: {0}")]
    Generate(String),
}
