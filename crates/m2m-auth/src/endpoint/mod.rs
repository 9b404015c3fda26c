//! Where token requests go: the configured token URL, or the one the issuer's metadata names — its mutual-TLS
//! alias when the client presents a certificate. The metadata is read once per client by the first fetch that
//! needs it; concurrent fetches wait for that read; a failed read is tried again by the next attempt.

pub(crate) mod attempts;
pub(crate) mod discovery;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod retry;

use std::time::Duration;

use tokio::sync::OnceCell;
use url::Url;

use crate::config::ClientConfig;
use crate::endpoint::discovery::discover;
use crate::error::{Error, Result};

#[derive(Debug, Default)]
pub(crate) struct Endpoint {
    resolved: OnceCell<Url>,
}

impl Endpoint {
    pub(crate) fn new(cfg: &ClientConfig) -> Self {
        match (&cfg.token_url, needs_discovery(cfg)) {
            (Some(url), false) => Self {
                resolved: OnceCell::new_with(Some(url.clone())),
            },
            _ => Self::default(),
        }
    }

    /// The token URL, if known without a request.
    pub(crate) fn known(&self) -> Option<&Url> {
        self.resolved.get()
    }

    pub(crate) async fn resolve(
        &self,
        http: &reqwest::Client,
        cfg: &ClientConfig,
        timeout: Duration,
    ) -> Result<Url> {
        self.resolved
            .get_or_try_init(|| from_metadata(http, cfg, timeout))
            .await
            .cloned()
    }
}

/// Discovery is needed when only the issuer is known, and for a client certificate, whose requests must go to
/// the server's mutual-TLS alias if it has one.
fn needs_discovery(cfg: &ClientConfig) -> bool {
    cfg.issuer.is_some() && (cfg.token_url.is_none() || cfg.client_cert.is_some())
}

async fn from_metadata(
    http: &reqwest::Client,
    cfg: &ClientConfig,
    timeout: Duration,
) -> Result<Url> {
    let Some(issuer) = &cfg.issuer else {
        return Err(Error::Internal(
            "no issuer to discover the token endpoint from".into(),
        ));
    };
    let metadata = discover(http, cfg, issuer, timeout).await?;
    if let Some(methods) = &metadata.auth_methods
        && !methods.iter().any(|m| m == cfg.auth_method.as_str())
    {
        return Err(Error::config(
            "auth_method",
            format!(
                ": {} is not supported by the authorization server {issuer}; it supports {}",
                cfg.auth_method,
                methods.join(", ")
            ),
        ));
    }
    let url = match (&cfg.client_cert, metadata.mtls_token_endpoint) {
        (Some(_), Some(alias)) => alias,
        _ => cfg.token_url.clone().unwrap_or(metadata.token_endpoint),
    };
    Ok(url)
}
