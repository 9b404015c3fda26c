//! HTTPS clients for a mock started with `tls: true`.

use m2m_auth_mock::{MockConfig, MockServer, RegisteredClient};

pub async fn start_tls(clients: Vec<RegisteredClient>) -> MockServer {
    MockServer::start(MockConfig {
        clients,
        tls: true,
        ..MockConfig::default()
    })
    .await
    .expect("TLS mock server starts")
}

/// An HTTPS client that trusts only the mock's CA and presents `identity` (cert PEM, key PEM).
pub fn https(server: &MockServer, identity: Option<(&str, &str)>) -> reqwest::Client {
    let ca = server.ca_pem().expect("a TLS server has a CA");
    let ca = reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA PEM");
    let mut builder = reqwest::Client::builder().no_proxy().tls_certs_only([ca]);
    if let Some((cert, key)) = identity {
        let pem = format!("{cert}{key}");
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("identity"));
    }
    builder.build().expect("reqwest client")
}

/// The DER of the first certificate of a PEM, for computing thumbprints independently.
pub fn cert_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let b64: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("certificate base64")
}

/// base64url SHA-256 of DER: RFC 8705's `x5t#S256`.
pub fn x5t_s256(der: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der))
}
