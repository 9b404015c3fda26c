//! One token request on the wire: the form body, client authentication, and the capped read of the answer.

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};

use crate::config::{AuthMethod, ClientConfig};
use crate::error::{Error, Result};
use crate::params::TokenParams;
use crate::retry::parse_retry_after;
use crate::token::{ParseOptions, Token, parse_token_response};

pub(crate) const USER_AGENT: &str = concat!("m2m-auth/", env!("CARGO_PKG_VERSION"));

/// The HTTP client for token requests: no redirects (a redirect could carry the secret to another host, and
/// RFC 6749 gives the token endpoint none), the configured timeout for the whole exchange.
pub(crate) fn http_client(cfg: &ClientConfig) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(cfg.timeout)
        .user_agent(USER_AGENT)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))
}

/// The form fields of a token request, in the order they are sent. Client credentials are included only
/// for `client_secret_post`.
pub(crate) fn form_fields(cfg: &ClientConfig, params: &TokenParams) -> Vec<(String, String)> {
    let mut fields = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
    if cfg.auth_method == AuthMethod::ClientSecretPost {
        fields.push(("client_id".into(), cfg.client_id.clone()));
        fields.push((
            "client_secret".into(),
            cfg.client_secret.expose().to_owned(),
        ));
    }
    if !params.scopes.is_empty() {
        fields.push(("scope".into(), params.scopes.join(" ")));
    }
    if let Some(audience) = &params.audience {
        fields.push(("audience".into(), audience.clone()));
    }
    for resource in &params.resources {
        fields.push(("resource".into(), resource.clone()));
    }
    fields.extend(cfg.extra_params.iter().cloned());
    fields
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`: RFC 6749 §2.3.1 form-encodes both before joining,
/// which matters for secrets with `:`, `%` or non-ASCII characters.
pub(crate) fn basic_authorization(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret)))
    )
}

/// A failed attempt, with the server's `Retry-After` when it sent one.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: Error,
    pub retry_after: Option<Duration>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }
}

/// One request to the token endpoint, answered within `timeout`.
pub(crate) async fn request_token(
    http: &reqwest::Client,
    cfg: &ClientConfig,
    params: &TokenParams,
    timeout: Duration,
) -> Result<Token, Failure> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form_fields(cfg, params))
        .finish();
    let mut request = http
        .post(cfg.token_url.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json")
        .timeout(timeout)
        .body(body);
    if cfg.auth_method == AuthMethod::ClientSecretBasic {
        let mut value = HeaderValue::from_str(&basic_authorization(
            &cfg.client_id,
            cfg.client_secret.expose(),
        ))
        .map_err(|_| {
            Failure::from(Error::config(
                "client_secret",
                "client credentials cannot form a header",
            ))
        })?;
        value.set_sensitive(true);
        request = request.header(AUTHORIZATION, value);
    }

    let mut response = request
        .send()
        .await
        .map_err(|e| transport(cfg, &e, timeout))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    // Read chunk by chunk so that an endless or huge body stops at the cap instead of filling memory.
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport(cfg, &e, timeout))?
    {
        if body.len() + chunk.len() > cfg.max_response_bytes {
            return Err(Error::invalid_response(
                Some(status),
                format!(
                    "token endpoint response is larger than {} bytes; stopped reading",
                    cfg.max_response_bytes
                ),
            )
            .into());
        }
        body.extend_from_slice(&chunk);
    }
    parse_token_response(
        status,
        content_type.as_deref(),
        &body,
        &ParseOptions {
            default_lifetime: cfg.default_lifetime,
        },
    )
    .map_err(|error| Failure { error, retry_after })
}

fn transport(cfg: &ClientConfig, e: &reqwest::Error, timeout: Duration) -> Failure {
    // reqwest's own message is "error sending request for url (…)"; the causes below it say what happened.
    let mut causes = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !causes.contains(&text) {
            causes.push(text);
        }
        source = s.source();
    }
    let what = if e.is_timeout() {
        format!("timed out after {timeout:?}")
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_body() || e.is_decode() {
        "failed while reading the answer".to_owned()
    } else {
        "request failed".to_owned()
    };
    let detail = if causes.is_empty() {
        String::new()
    } else {
        format!(": {}", causes.join(": "))
    };
    Error::Transport {
        message: format!("token endpoint {} {what}{detail}", cfg.token_url),
        timeout: e.is_timeout(),
        attempts: 1,
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_form_encodes_before_base64() {
        // "a b:c" / "p@ss:w%rd" -> "a+b%3Ac:p%40ss%3Aw%25rd"
        let header = basic_authorization("a b:c", "p@ss:w%rd");
        let decoded = STANDARD
            .decode(header.trim_start_matches("Basic "))
            .expect("base64");
        assert_eq!(
            String::from_utf8(decoded).expect("utf8"),
            "a+b%3Ac:p%40ss%3Aw%25rd"
        );
    }
}
