//! `m2m_auth.Token`: a read-only view of the core's token.

use std::sync::Arc;

use pyo3::prelude::*;

#[derive(Debug)]
#[pyclass(name = "Token", module = "m2m_auth", frozen)]
pub struct PyToken(Arc<m2m_auth::Token>);

impl From<Arc<m2m_auth::Token>> for PyToken {
    fn from(t: Arc<m2m_auth::Token>) -> Self {
        Self(t)
    }
}

#[pymethods]
impl PyToken {
    /// The string for `Authorization: Bearer …`.
    #[getter]
    fn access_token(&self) -> &str {
        self.0.access_token()
    }

    #[getter]
    fn token_type(&self) -> &str {
        self.0.token_type()
    }

    /// Granted scopes, space-separated, if the server said.
    #[getter]
    fn scope(&self) -> Option<&str> {
        self.0.scope()
    }

    /// Seconds left until expiry (0.0 once expired).
    #[getter]
    fn expires_in(&self) -> f64 {
        self.0.expires_in().as_secs_f64()
    }

    /// Expiry as a Unix timestamp.
    #[getter]
    fn expires_at(&self) -> f64 {
        self.0.expires_at_unix()
    }

    fn __repr__(&self) -> String {
        self.0.describe()
    }
}
