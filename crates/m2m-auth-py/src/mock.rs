//! The native side of `m2m_auth.testing.MockAuthServer`: the bundled mock authorization server, running on
//! the package's runtime. Structured values cross as JSON text; `testing.py` gives them Python shapes.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use m2m_auth_mock::{Fault, MockConfig, MockError, MockServer, testkeys};

use crate::runtime;

#[derive(Debug)]
#[pyclass(name = "MockServer", module = "m2m_auth._native", frozen)]
pub struct PyMockServer(MockServer);

fn mock_err(e: MockError) -> PyErr {
    match e {
        MockError::Config(_) => PyValueError::new_err(e.to_string()),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}

fn json_err(e: serde_json::Error) -> PyErr {
    PyValueError::new_err(e.to_string())
}

#[pymethods]
impl PyMockServer {
    /// Starts a server on 127.0.0.1 with `config_json` (the mock-server JSON format), or the demo client.
    #[new]
    #[pyo3(signature = (config_json=None))]
    fn new(py: Python<'_>, config_json: Option<&str>) -> PyResult<Self> {
        let config = match config_json {
            Some(text) => MockConfig::from_json(text).map_err(mock_err)?,
            None => MockConfig::default(),
        };
        let rt = runtime::get()?;
        let server = py
            .detach(|| rt.block_on(MockServer::start(config)))
            .map_err(mock_err)?;
        Ok(Self(server))
    }

    #[getter]
    fn url(&self) -> String {
        self.0.url()
    }

    #[getter]
    fn issuer(&self) -> String {
        self.0.issuer()
    }

    #[getter]
    fn token_url(&self) -> String {
        self.0.token_url()
    }

    /// The token endpoint of the mutual-TLS alias (a server started with `tls`).
    #[getter]
    fn mtls_token_url(&self) -> Option<String> {
        self.0.mtls_token_url()
    }

    /// The PEM certificate of the CA that signed the server's certificate and issues client certificates.
    #[getter]
    fn ca_pem(&self) -> Option<String> {
        self.0.ca_pem()
    }

    /// A client certificate for `subject` (e.g. "CN=svc,O=Acme") from the server's CA: `(cert_pem, key_pem)`.
    fn issue_client_certificate(&self, subject: &str) -> PyResult<(String, String)> {
        self.0.issue_client_certificate(subject).map_err(mock_err)
    }

    /// Registers (or replaces) a client; `client_json` is one entry of the config's `clients`.
    fn register_client(&self, client_json: &str) -> PyResult<()> {
        let client = serde_json::from_str(client_json).map_err(json_err)?;
        self.0.register_client(client).map_err(mock_err)
    }

    fn supported_auth_methods(&self) -> Vec<String> {
        self.0.supported_auth_methods()
    }

    #[pyo3(signature = (client_id=None))]
    fn token_requests(&self, client_id: Option<&str>) -> u64 {
        match client_id {
            Some(id) => self.0.token_requests_for(id),
            None => self.0.token_requests(),
        }
    }

    fn tokens_issued(&self) -> u64 {
        self.0.tokens_issued()
    }

    /// `faults_json`: a JSON array of fault objects.
    fn push_faults(&self, faults_json: &str) -> PyResult<()> {
        let faults: Vec<Fault> = serde_json::from_str(faults_json).map_err(json_err)?;
        self.0.push_faults(faults);
        Ok(())
    }

    /// The recorded token requests as a JSON array.
    fn requests_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.0.requests()).map_err(json_err)
    }

    /// The protected resource on the main port, e.g. "http://127.0.0.1:PORT/api".
    #[getter]
    fn api_url(&self) -> String {
        self.0.api_url()
    }

    /// The protected resource on the mutual-TLS alias (a server started with `tls`).
    #[getter]
    fn mtls_api_url(&self) -> Option<String> {
        self.0.mtls_api_url()
    }

    /// The next `count` API requests with an otherwise valid token get 401 invalid_token.
    fn reject_next_api_tokens(&self, count: u64) {
        self.0.reject_next_api_tokens(count);
    }

    /// The recorded API requests as a JSON array.
    fn api_requests_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.0.api_requests()).map_err(json_err)
    }

    fn api_request_count(&self) -> u64 {
        self.0.api_request_count()
    }

    fn set_token_lifetime(&self, secs: u64) {
        self.0.set_token_lifetime(secs);
    }

    fn reset(&self) {
        self.0.reset();
    }

    /// Verifies an access token's signature and expiry; returns its claims as JSON.
    fn verify_access_token(&self, token: &str) -> PyResult<String> {
        let claims = self
            .0
            .verify_access_token(token)
            .map_err(PyValueError::new_err)?;
        serde_json::to_string(&claims).map_err(json_err)
    }

    fn close(&self) {
        self.0.shutdown();
    }

    fn __repr__(&self) -> String {
        format!("MockServer(url='{}')", self.0.url())
    }
}

/// A new signing key for `alg` ("RS256", "PS256", "ES256") as JSON: alg, kid, pkcs8_pem, traditional_pem,
/// private_jwk, public_jwk.
#[pyfunction]
pub fn generate_signing_key(alg: &str) -> PyResult<String> {
    let key = testkeys::generate_signing_key(alg).map_err(mock_err)?;
    serde_json::to_string(&key).map_err(json_err)
}

/// A new self-signed certificate for `subject` as JSON: cert_pem, key_pem, jwk (with x5c), x5t_s256.
#[pyfunction]
pub fn self_signed_certificate(subject: &str) -> PyResult<String> {
    let cert = testkeys::self_signed_certificate(subject).map_err(mock_err)?;
    serde_json::to_string(&cert).map_err(json_err)
}
