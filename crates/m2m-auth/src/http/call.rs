//! Calling a protected API with the client's token: what `m2m-auth call` does, and what a binding can use when
//! the token is bound to the client certificate (RFC 8705 §3) and so must travel over a connection that
//! presents it. The token goes on the request, only to an https URL (or plain http to loopback, or where
//! allowed); redirects are followed within the origin only — one that leaves it is answered to the caller as
//! it came, so that no credential (the token, a cookie, a proxy's) travels to another origin; a 401
//! `invalid_token` drops the token and the request is sent once more with a new one.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue, WWW_AUTHENTICATE};
use url::Url;

use crate::client::TokenClient;
use crate::config::{ClientConfig, MAX_DURATION, bounded};
use crate::error::{Error, Result};
use crate::http::challenge::replay_with_new_token;
use crate::http::transport::client_builder;
use crate::http::url_policy::{check_api_url, same_origin};

/// Largest API answer read into memory.
pub const MAX_API_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// A request to a protected API.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// For the whole exchange, redirects included.
    pub timeout: Duration,
}

impl ApiRequest {
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: "GET".to_owned(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout: Duration::from_secs(30),
        }
    }
}

/// The API's answer, whatever its status.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// The URL that answered, after redirects.
    pub url: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the first token was rejected and the request sent again with a new one.
    pub retried: bool,
}

/// Most redirects one API call follows.
const MAX_REDIRECTS: usize = 10;

/// The HTTP client for API calls: the token client's TLS settings, and redirects followed only within the
/// origin of the request (at most [`MAX_REDIRECTS`]).
pub(crate) fn api_http_client(cfg: &ClientConfig) -> Result<reqwest::Client> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let leaves = attempt
            .previous()
            .first()
            .is_some_and(|first| !same_origin(first, attempt.url()));
        if leaves {
            attempt.stop()
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else {
            attempt.follow()
        }
    });
    client_builder(cfg)
        .redirect(policy)
        .build()
        .map_err(|e| Error::Internal(format!("cannot build the API HTTP client: {e}")))
}

impl TokenClient {
    /// `url` parsed, if this client may send its token there: https, or plain http to loopback or with
    /// `allow_insecure_http` (see [`crate::http::url_policy::check_api_url`]). Every integration asks this before
    /// it gets a token for a request.
    pub fn check_api_url(&self, url: &str) -> Result<Url> {
        check_api_url(url, self.allows_insecure_http())
    }

    /// Sends `request` with the client's token (see the module docs). HTTP error statuses are answers, not
    /// errors; errors are a bad request, no connection, or no token.
    pub async fn call(&self, request: &ApiRequest) -> Result<ApiResponse> {
        let method =
            Method::from_bytes(request.method.to_ascii_uppercase().as_bytes()).map_err(|_| {
                Error::config(
                    "method",
                    format!(": {:?} is not an HTTP method", request.method),
                )
            })?;
        let url = self.check_api_url(&request.url)?;
        bounded(request.timeout, "timeout", false, MAX_DURATION)?;
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                Error::config("headers", format!(": {name:?} is not a header name"))
            })?;
            if name == AUTHORIZATION {
                // The token is this call's Authorization; a second one would be ambiguous at best.
                return Err(Error::config(
                    "headers",
                    "must not contain Authorization: call() sends the client's token in it",
                ));
            }
            let value = HeaderValue::from_str(value).map_err(|_| {
                Error::config(
                    "headers",
                    format!(": the value of {name} is not a header value"),
                )
            })?;
            headers.append(name, value);
        }
        let token = self.token().await?;
        let first = self
            .send_api(&method, &url, &headers, request, token.access_token())
            .await?;
        // The body is in memory, so it can always be sent again.
        let replay = replay_with_new_token(
            first.status,
            first
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(WWW_AUTHENTICATE.as_str()))
                .map(|(_, v)| v.as_str()),
            Url::parse(&first.url).is_ok_and(|u| same_origin(&u, &url)),
            true,
            false,
        );
        if !replay {
            return Ok(first);
        }
        self.invalidate_token(token.access_token());
        let token = self.token().await?;
        let mut again = self
            .send_api(&method, &url, &headers, request, token.access_token())
            .await?;
        again.retried = true;
        Ok(again)
    }

    async fn send_api(
        &self,
        method: &Method,
        url: &Url,
        headers: &reqwest::header::HeaderMap,
        request: &ApiRequest,
        token: &str,
    ) -> Result<ApiResponse> {
        let mut authorization = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| Error::Internal("the access token cannot form a header".into()))?;
        authorization.set_sensitive(true);
        let mut builder = self
            .api_http()?
            .request(method.clone(), url.clone())
            .headers(headers.clone())
            .header(AUTHORIZATION, authorization)
            .timeout(request.timeout);
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let answer = crate::http::transport::exchange(
            builder,
            "API",
            url,
            request.timeout,
            MAX_API_RESPONSE_BYTES,
        )
        .await?;
        Ok(ApiResponse {
            url: answer.url.to_string(),
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
            retried: false,
        })
    }
}
