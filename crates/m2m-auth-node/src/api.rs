//! `client.call()` / certificate-bound `client.fetch()`: one request to a protected API through the core,
//! which presents the client certificate and replaces a rejected token once.

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use m2m_auth::settings::{Surface, duration_on};
use m2m_auth::{ApiRequest, ApiResponse};

#[napi(object)]
#[derive(Default)]
pub struct NativeApiRequest {
    pub method: String,
    pub url: String,
    /// `[name, value]` pairs.
    pub headers: Option<Vec<Vec<String>>>,
    pub body: Option<Buffer>,
    pub timeout_ms: Option<f64>,
}

#[napi(object)]
pub struct NativeApiResponse {
    pub status: u32,
    pub url: String,
    pub headers: Vec<Vec<String>>,
    pub body: Buffer,
    pub retried: bool,
}

// Buffers are not Debug; the method and URL are what a log line needs.
impl std::fmt::Debug for NativeApiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NativeApiRequest({} {})", self.method, self.url)
    }
}

impl std::fmt::Debug for NativeApiResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NativeApiResponse({} {})", self.status, self.url)
    }
}

impl NativeApiRequest {
    pub fn into_core(self) -> Result<ApiRequest, m2m_auth::Error> {
        let mut request = ApiRequest::get(self.url);
        request.method = self.method;
        for pair in self.headers.unwrap_or_default() {
            match pair.as_slice() {
                [name, value] => request.headers.push((name.clone(), value.clone())),
                _ => {
                    return Err(m2m_auth::Error::Config {
                        field: "headers".into(),
                        message: "must be [name, value] pairs".into(),
                    });
                }
            }
        }
        request.body = self.body.map(|b| b.to_vec());
        if let Some(ms) = self.timeout_ms {
            request.timeout = duration_on("timeoutMs", ms, Surface::Node, false)?;
        }
        Ok(request)
    }
}

impl From<ApiResponse> for NativeApiResponse {
    fn from(r: ApiResponse) -> Self {
        Self {
            status: u32::from(r.status),
            url: r.url,
            headers: r.headers.into_iter().map(|(n, v)| vec![n, v]).collect(),
            body: r.body.into(),
            retried: r.retried,
        }
    }
}
