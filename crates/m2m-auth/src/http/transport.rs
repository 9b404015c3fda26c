//! The HTTP side shared by token requests and discovery: the client (TLS settings, no redirects) and one
//! request/response exchange whose answer is read in full but never beyond a size cap.

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use url::Url;

use crate::config::ClientConfig;
use crate::endpoint::retry::parse_retry_after;
use crate::error::{Error, Result};
use crate::http::proxy::proxies_from_env;

pub(crate) const USER_AGENT: &str = concat!("m2m-auth/", env!("CARGO_PKG_VERSION"));

/// What every HTTP client of the library shares: the user agent, Nagle off, and the environment's proxies
/// (never for loopback, see `crate::proxy`).
pub(crate) fn base_builder() -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .tcp_nodelay(true)
        .no_proxy();
    for proxy in proxies_from_env() {
        builder = builder.proxy(proxy);
    }
    builder
}

/// A token client's HTTP clients: the base, with the client certificate and CA bundle when configured — API
/// calls present the same certificate as token requests.
pub(crate) fn client_builder(cfg: &ClientConfig) -> reqwest::ClientBuilder {
    let mut builder = base_builder();
    if let Some(cert) = &cfg.client_cert {
        builder = builder.identity(cert.identity());
    }
    if let Some(bundle) = &cfg.ca_bundle {
        builder = builder.tls_certs_only(bundle.certificates());
    }
    builder
}

/// The HTTP client for token requests and discovery: no redirects (a redirect could carry credentials to
/// another host, and RFC 6749 gives the token endpoint none).
pub(crate) fn http_client(cfg: &ClientConfig) -> Result<reqwest::Client> {
    let builder = client_builder(cfg)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(cfg.timeout);
    builder.build().map_err(|e| {
        // With a client certificate, the likely cause is a key that does not belong to it.
        match &cfg.client_cert {
            Some(_) => Error::config(
                "client_key",
                format!("cannot be used with the client certificate: {}", chain(&e)),
            ),
            None => Error::Internal(format!("cannot build the HTTP client: {}", chain(&e))),
        }
    })
}

/// A whole answer.
#[derive(Debug)]
pub(crate) struct Answer {
    /// Where the answer came from (after any redirects the client followed).
    pub url: Url,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

/// Sends `request` to `url` (named in errors as `what`, e.g. "token endpoint") and reads the answer: at most
/// `max_bytes` of body, all within `timeout`.
pub(crate) async fn exchange(
    request: reqwest::RequestBuilder,
    what: &str,
    url: &Url,
    timeout: Duration,
    max_bytes: usize,
) -> Result<Answer> {
    let mut response = request
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| transport(what, url, &e, timeout))?;
    let status = response.status().as_u16();
    let final_url = response.url().clone();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header(RETRY_AFTER).and_then(|v| parse_retry_after(&v, SystemTime::now()));
    let content_type = header(CONTENT_TYPE);
    let mut body = Vec::new();
    // Chunk by chunk, so that an endless or huge body stops at the cap instead of filling memory.
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport(what, url, &e, timeout))?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(Error::invalid_response(
                Some(status),
                format!("{what} response is larger than {max_bytes} bytes; stopped reading"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        url: final_url,
        status,
        headers,
        content_type,
        retry_after,
        body,
    })
}

fn transport(what: &str, url: &Url, e: &reqwest::Error, timeout: Duration) -> Error {
    let happened = if e.is_timeout() {
        format!("timed out after {timeout:?}")
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_body() || e.is_decode() {
        "failed while reading the answer".to_owned()
    } else {
        "request failed".to_owned()
    };
    let causes = chain(e);
    let detail = if causes.is_empty() {
        String::new()
    } else {
        format!(": {causes}")
    };
    Error::Transport {
        message: format!("{what} {url} {happened}{detail}"),
        timeout: e.is_timeout(),
        attempts: 1,
    }
}

/// The distinct messages below reqwest's own ("error sending request for url (…)"): they say what happened.
fn chain(e: &reqwest::Error) -> String {
    let mut causes: Vec<String> = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !causes.contains(&text) {
            causes.push(text);
        }
        source = s.source();
    }
    causes.join(": ")
}
