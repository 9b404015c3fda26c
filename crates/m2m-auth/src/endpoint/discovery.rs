//! Authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0): where the token endpoint and its
//! mutual-TLS alias (RFC 8705 §5) are, and which client authentication methods the server takes.

use reqwest::header::ACCEPT;
use serde_json::Value;
use url::Url;

use crate::config::ClientConfig;
use crate::error::server_text;
use crate::error::{Error, Result};
use crate::http::transport::exchange;
use crate::http::url_policy::check_endpoint_url;

/// Largest metadata document read.
const MAX_METADATA_BYTES: usize = 256 * 1024;

/// What the client takes from the metadata.
#[derive(Debug, Clone)]
pub(crate) struct Metadata {
    pub token_endpoint: Url,
    pub mtls_token_endpoint: Option<Url>,
    /// `token_endpoint_auth_methods_supported`, when the document lists it.
    pub auth_methods: Option<Vec<String>>,
}

/// The two places metadata may be: OIDC appends to the issuer; RFC 8414 §3.1 inserts the well-known segment
/// between the host and the issuer's path.
pub(crate) fn metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let mut oidc = issuer.clone();
    oidc.set_path(&format!("{path}/.well-known/openid-configuration"));
    let mut oauth = issuer.clone();
    oauth.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    vec![oidc, oauth]
}

/// Reads the metadata of `issuer`, trying the OIDC location first and RFC 8414's when that is not found.
pub(crate) async fn discover(
    http: &reqwest::Client,
    cfg: &ClientConfig,
    issuer: &Url,
    timeout: std::time::Duration,
) -> Result<Metadata> {
    let mut not_found = Vec::new();
    for url in metadata_urls(issuer) {
        let request = http.get(url.clone()).header(ACCEPT, "application/json");
        let answer = exchange(
            request,
            "discovery document",
            &url,
            timeout,
            MAX_METADATA_BYTES,
        )
        .await?;
        match answer.status {
            200 => return parse_metadata(cfg, issuer, &url, &answer.body),
            404 | 410 => not_found.push(url.to_string()),
            status => {
                return Err(Error::invalid_response(
                    Some(status),
                    format!("discovery document {url} answered HTTP {status}"),
                ));
            }
        }
    }
    Err(Error::config(
        "issuer",
        format!(
            "{issuer} has no metadata: {} not found",
            not_found.join(" and ")
        ),
    ))
}

pub(crate) fn parse_metadata(
    cfg: &ClientConfig,
    issuer: &Url,
    url: &Url,
    body: &[u8],
) -> Result<Metadata> {
    let invalid = |what: String| {
        Error::invalid_response(Some(200), format!("discovery document {url} {what}"))
    };
    let doc: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("is not JSON: {e}")))?;
    let doc = doc
        .as_object()
        .ok_or_else(|| invalid("is not a JSON object".into()))?;
    // RFC 8414 §3.3: a document for another issuer must not be used (it could send the credentials elsewhere).
    let stated = doc
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // Compared as URLs (host case, default port), not bytes: the issuer asked for was parsed the same way.
    let same = Url::parse(stated)
        .is_ok_and(|s| s.as_str().trim_end_matches('/') == issuer.as_str().trim_end_matches('/'));
    if !same {
        return Err(Error::config(
            "issuer",
            format!(
                ": the discovery document {url} is for issuer {:?}, not {issuer}",
                server_text(stated)
            ),
        ));
    }
    let endpoint = |value: Option<&Value>, name: &str| -> Result<Option<Url>> {
        let Some(text) = value.and_then(Value::as_str) else {
            return Ok(None);
        };
        check_endpoint_url(text, name, cfg.allow_insecure_http).map(Some)
    };
    let token_endpoint = endpoint(doc.get("token_endpoint"), "token_endpoint")?
        .ok_or_else(|| invalid("has no token_endpoint".into()))?;
    let mtls_token_endpoint = endpoint(
        doc.get("mtls_endpoint_aliases")
            .and_then(|a| a.get("token_endpoint")),
        "mtls_endpoint_aliases.token_endpoint",
    )?;
    let auth_methods = doc
        .get("token_endpoint_auth_methods_supported")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        });
    Ok(Metadata {
        token_endpoint,
        mtls_token_endpoint,
        auth_methods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_metadata_locations_keep_the_issuer_path() {
        let urls = metadata_urls(&Url::parse("https://idp.example/acme/ws").expect("url"));
        assert_eq!(
            urls[0].as_str(),
            "https://idp.example/acme/ws/.well-known/openid-configuration"
        );
        assert_eq!(
            urls[1].as_str(),
            "https://idp.example/.well-known/oauth-authorization-server/acme/ws"
        );
        let root = metadata_urls(&Url::parse("https://idp.example").expect("url"));
        assert_eq!(
            root[1].as_str(),
            "https://idp.example/.well-known/oauth-authorization-server"
        );
    }
}
