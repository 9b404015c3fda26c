//! `NativeMockServer`: the bundled mock authorization server for `m2m-auth/testing`. It runs on napi's tokio
//! runtime; structured values cross as JSON text and `node/testing.js` parses them.

use napi::Status;
use napi_derive::napi;

use m2m_auth_mock::{Fault, MockConfig, MockServer, testkeys};

fn invalid(message: impl Into<String>) -> napi::Error {
    napi::Error::new(Status::InvalidArg, message.into())
}

#[napi]
#[derive(Debug)]
pub struct NativeMockServer {
    inner: MockServer,
}

#[napi]
impl NativeMockServer {
    /// Starts a server on 127.0.0.1 with `configJson` (the mock-server JSON format), or the demo client.
    #[napi(factory)]
    pub async fn start(config_json: Option<String>) -> napi::Result<NativeMockServer> {
        let config = match config_json {
            Some(text) => MockConfig::from_json(&text).map_err(|e| invalid(e.to_string()))?,
            None => MockConfig::default(),
        };
        let inner = MockServer::start(config)
            .await
            .map_err(|e| napi::Error::from_reason(e.to_string()))?;
        Ok(Self { inner })
    }

    #[napi(getter)]
    pub fn url(&self) -> String {
        self.inner.url()
    }

    #[napi(getter)]
    pub fn issuer(&self) -> String {
        self.inner.issuer()
    }

    #[napi(getter)]
    pub fn token_url(&self) -> String {
        self.inner.token_url()
    }

    #[napi(getter)]
    pub fn mtls_token_url(&self) -> Option<String> {
        self.inner.mtls_token_url()
    }

    #[napi(getter)]
    pub fn ca_pem(&self) -> Option<String> {
        self.inner.ca_pem()
    }

    /// `[certPem, keyPem]` of a client certificate for `subject` from the server's CA.
    #[napi]
    pub fn issue_client_certificate(&self, subject: String) -> napi::Result<Vec<String>> {
        let (cert, key) = self
            .inner
            .issue_client_certificate(&subject)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(vec![cert, key])
    }

    /// Registers (or replaces) a client; `clientJson` is one entry of the config's `clients`.
    #[napi]
    pub fn register_client(&self, client_json: String) -> napi::Result<()> {
        let client = serde_json::from_str(&client_json).map_err(|e| invalid(e.to_string()))?;
        self.inner
            .register_client(client)
            .map_err(|e| invalid(e.to_string()))
    }

    #[napi]
    pub fn supported_auth_methods(&self) -> Vec<String> {
        self.inner.supported_auth_methods()
    }

    #[napi]
    pub fn token_requests(&self, client_id: Option<String>) -> f64 {
        match client_id {
            Some(id) => self.inner.token_requests_for(&id) as f64,
            None => self.inner.token_requests() as f64,
        }
    }

    #[napi]
    pub fn tokens_issued(&self) -> f64 {
        self.inner.tokens_issued() as f64
    }

    /// `faultsJson`: a JSON array of fault objects.
    #[napi]
    pub fn push_faults(&self, faults_json: String) -> napi::Result<()> {
        let faults: Vec<Fault> =
            serde_json::from_str(&faults_json).map_err(|e| invalid(e.to_string()))?;
        self.inner.push_faults(faults);
        Ok(())
    }

    #[napi]
    pub fn requests_json(&self) -> napi::Result<String> {
        serde_json::to_string(&self.inner.requests())
            .map_err(|e| napi::Error::from_reason(e.to_string()))
    }

    /// The protected resource on the main port, e.g. "http://127.0.0.1:PORT/api".
    #[napi(getter)]
    pub fn api_url(&self) -> String {
        self.inner.api_url()
    }

    /// The protected resource on the mutual-TLS alias (a server started with `tls`).
    #[napi(getter)]
    pub fn mtls_api_url(&self) -> Option<String> {
        self.inner.mtls_api_url()
    }

    /// The next `count` API requests with an otherwise valid token get 401 invalid_token.
    #[napi]
    pub fn reject_next_api_tokens(&self, count: u32) {
        self.inner.reject_next_api_tokens(u64::from(count));
    }

    #[napi]
    pub fn api_requests_json(&self) -> napi::Result<String> {
        serde_json::to_string(&self.inner.api_requests())
            .map_err(|e| napi::Error::from_reason(e.to_string()))
    }

    #[napi]
    pub fn api_request_count(&self) -> f64 {
        self.inner.api_request_count() as f64
    }

    #[napi]
    pub fn set_token_lifetime(&self, secs: u32) {
        self.inner.set_token_lifetime(u64::from(secs));
    }

    #[napi]
    pub fn reset(&self) {
        self.inner.reset();
    }

    /// Verifies a token's signature and expiry; returns its claims as JSON.
    #[napi]
    pub fn verify_access_token(&self, token: String) -> napi::Result<String> {
        let claims = self.inner.verify_access_token(&token).map_err(invalid)?;
        serde_json::to_string(&claims).map_err(|e| napi::Error::from_reason(e.to_string()))
    }

    #[napi]
    pub fn close(&self) {
        self.inner.shutdown();
    }
}

/// A new signing key for `alg` as JSON: alg, kid, pkcs8_pem, traditional_pem, private_jwk, public_jwk.
#[napi]
// Called only through napi's module registration, which the unit-test build leaves out.
#[cfg_attr(test, allow(dead_code))]
pub fn generate_signing_key(alg: String) -> napi::Result<String> {
    let key = testkeys::generate_signing_key(&alg).map_err(|e| invalid(e.to_string()))?;
    serde_json::to_string(&key).map_err(|e| napi::Error::from_reason(e.to_string()))
}

/// A new self-signed certificate for `subject` as JSON: cert_pem, key_pem, jwk (with x5c), x5t_s256.
#[napi]
// Called only through napi's module registration, which the unit-test build leaves out.
#[cfg_attr(test, allow(dead_code))]
pub fn self_signed_certificate(subject: String) -> napi::Result<String> {
    let cert = testkeys::self_signed_certificate(&subject).map_err(|e| invalid(e.to_string()))?;
    serde_json::to_string(&cert).map_err(|e| napi::Error::from_reason(e.to_string()))
}
