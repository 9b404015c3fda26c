//! `TokenClient.call` / `call_async`: one request to a protected API through the core, which presents the
//! client certificate (for certificate-bound tokens) and replaces a rejected token once. The answer is an
//! `ApiResponse`.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use m2m_auth::{ApiRequest, ApiResponse};

use crate::errors::{config_error, to_py_err};

#[derive(Debug)]
#[pyclass(name = "ApiResponse", module = "m2m_auth", frozen)]
pub struct PyApiResponse(ApiResponse);

impl From<ApiResponse> for PyApiResponse {
    fn from(r: ApiResponse) -> Self {
        Self(r)
    }
}

#[pymethods]
impl PyApiResponse {
    #[getter]
    fn status(&self) -> u16 {
        self.0.status
    }

    /// The URL that answered (after redirects within the origin).
    #[getter]
    fn url(&self) -> &str {
        &self.0.url
    }

    /// `(name, value)` pairs, names lower-cased, in the order received.
    #[getter]
    fn headers(&self) -> Vec<(String, String)> {
        self.0.headers.clone()
    }

    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.body)
    }

    /// Whether the first token was rejected and the request sent again with a new one.
    #[getter]
    fn retried(&self) -> bool {
        self.0.retried
    }

    /// The body decoded as UTF-8 (undecodable bytes replaced).
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.body).into_owned()
    }

    /// The body parsed as JSON.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?
            .call_method1("loads", (PyString::new(py, &self.text()),))
    }

    fn __repr__(&self) -> String {
        format!(
            "ApiResponse(status={}, url='{}', {} bytes)",
            self.0.status,
            self.0.url,
            self.0.body.len()
        )
    }
}

/// The request of a `call(method, url, headers=…, body=…, timeout=…)`.
pub fn api_request(
    method: &str,
    url: &str,
    headers: Option<&Bound<'_, PyAny>>,
    body: Option<&Bound<'_, PyAny>>,
    timeout: f64,
) -> PyResult<ApiRequest> {
    let mut request = ApiRequest::get(url);
    request.method = method.to_owned();
    if let Some(headers) = headers.filter(|h| !h.is_none()) {
        let items = match headers.cast::<PyDict>() {
            Ok(d) => d.items().into_any(),
            Err(_) => headers.clone(),
        };
        for item in items
            .try_iter()
            .map_err(|_| config_error("headers", "must be a dict or (name, value) pairs"))?
        {
            let (name, value): (String, String) = item?
                .extract()
                .map_err(|_| config_error("headers", "must map str to str"))?;
            request.headers.push((name, value));
        }
    }
    if let Some(body) = body.filter(|b| !b.is_none()) {
        request.body = Some(if let Ok(b) = body.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else if let Ok(s) = body.cast::<PyString>() {
            s.to_cow()?.into_owned().into_bytes()
        } else {
            return Err(config_error("body", "must be bytes or str"));
        });
    }
    // The core's bound of every duration, so that the conversion below cannot panic.
    request.timeout = m2m_auth::seconds("timeout", timeout).map_err(to_py_err)?;
    Ok(request)
}
