//! One token request on the wire: the form body, client authentication by the configured method, and the
//! answer parsed into a token or a typed error.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use url::Url;

use crate::cache::freshness::SentAt;
use crate::config::ClientConfig;
use crate::config::params::TokenParams;
use crate::credentials::assertion::{JWT_BEARER, Signer, client_assertion};
use crate::credentials::auth_method::AuthMethod;
use crate::endpoint::response::{ParseOptions, parse_token_response};
use crate::error::{Error, Result};
use crate::http::transport::exchange;
use crate::token::Token;

/// How a request to one of the server's endpoints authenticates the client: form fields, and the
/// `Authorization` header of `client_secret_basic`. The secret travels only with `client_secret_post`; the JWT
/// methods send a fresh assertion addressed to `endpoint` (or the configured audience); every method but
/// `client_secret_basic` names the client with `client_id` (RFC 8705 §2 requires it for the certificate
/// methods, RFC 7521 §4.2 allows it with assertions). Token requests and introspection (RFC 7662 §2.1) share it.
pub(crate) struct ClientAuthentication {
    pub fields: Vec<(String, String)>,
    pub authorization: Option<HeaderValue>,
}

pub(crate) fn client_authentication(
    cfg: &ClientConfig,
    endpoint: &Url,
) -> Result<ClientAuthentication> {
    let mut fields = Vec::new();
    let secret = || {
        cfg.client_secret
            .as_ref()
            .ok_or_else(|| Error::config("client_secret", "is required"))
    };
    let key = || {
        cfg.private_key
            .as_ref()
            .ok_or_else(|| Error::config("private_key", "is required"))
    };
    if cfg.auth_method != AuthMethod::ClientSecretBasic {
        fields.push(("client_id".into(), cfg.client_id.clone()));
    }
    let signer = match cfg.auth_method {
        AuthMethod::ClientSecretPost => {
            fields.push(("client_secret".into(), secret()?.expose().to_owned()));
            None
        }
        AuthMethod::ClientSecretJwt => Some(Signer::Secret(secret()?)),
        AuthMethod::PrivateKeyJwt => Some(Signer::PrivateKey(key()?)),
        _ => None,
    };
    if let Some(signer) = signer {
        let audience = cfg
            .assertion_audience
            .clone()
            .unwrap_or_else(|| endpoint.to_string());
        fields.push(("client_assertion_type".into(), JWT_BEARER.to_owned()));
        fields.push((
            "client_assertion".into(),
            client_assertion(signer, &cfg.client_id, &audience)?,
        ));
    }
    let authorization = match cfg.auth_method {
        AuthMethod::ClientSecretBasic => {
            let mut value =
                HeaderValue::from_str(&basic_authorization(&cfg.client_id, secret()?.expose()))
                    .map_err(|_| {
                        Error::config(
                            "client_secret",
                            "and `client_id` cannot form an Authorization header",
                        )
                    })?;
            value.set_sensitive(true);
            Some(value)
        }
        _ => None,
    };
    Ok(ClientAuthentication {
        fields,
        authorization,
    })
}

/// The form fields of a token request, in the order they are sent, with the header that authenticates it.
pub(crate) fn form_fields(
    cfg: &ClientConfig,
    token_url: &Url,
    params: &TokenParams,
) -> Result<ClientAuthentication> {
    let auth = client_authentication(cfg, token_url)?;
    let mut fields = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
    fields.extend(auth.fields);
    if !params.scopes.is_empty() {
        fields.push(("scope".into(), params.scopes.join(" ")));
    }
    if let Some(audience) = &params.audience {
        fields.push(("audience".into(), audience.clone()));
    }
    for resource in &params.resources {
        fields.push(("resource".into(), resource.clone()));
    }
    fields.extend(params.extra_fields(&cfg.extra_params).cloned());
    Ok(ClientAuthentication {
        fields,
        authorization: auth.authorization,
    })
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

/// A form POST to `url` with its client authentication, asking for JSON.
pub(crate) fn form_request(
    http: &reqwest::Client,
    url: &Url,
    form: ClientAuthentication,
) -> reqwest::RequestBuilder {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.fields)
        .finish();
    let request = http
        .post(url.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json")
        .body(body);
    match form.authorization {
        Some(value) => request.header(AUTHORIZATION, value),
        None => request,
    }
}

/// One request to the token endpoint at `token_url`, answered within `timeout`.
pub(crate) async fn request_token(
    http: &reqwest::Client,
    cfg: &ClientConfig,
    token_url: &Url,
    params: &TokenParams,
    timeout: Duration,
) -> Result<Token, Failure> {
    let request = form_request(http, token_url, form_fields(cfg, token_url, params)?);
    // The token's lifetime counts from here (see `SentAt`).
    let sent_at = SentAt::now();
    let answer = exchange(
        request,
        "token endpoint",
        token_url,
        timeout,
        cfg.max_response_bytes,
    )
    .await?;
    parse_token_response(
        answer.status,
        answer.content_type.as_deref(),
        &answer.body,
        &ParseOptions {
            default_lifetime: cfg.default_lifetime,
            sent_at,
        },
    )
    .map_err(|error| Failure {
        error,
        retry_after: answer.retry_after,
    })
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
