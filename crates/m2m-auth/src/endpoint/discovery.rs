//! Authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0): where the token endpoint and its
//! mutual-TLS alias (RFC 8705 §5) are, and which client authentication methods the server takes.

use reqwest::header::ACCEPT;
use serde_json::{Map, Value};
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

/// The metadata document of `issuer`, from the first of its two locations that has one, checked to be for
/// this issuer (RFC 8414 §3.3: a document for another issuer must not be used — it could send the credentials
/// elsewhere). The token client and the verifier both read it here.
pub(crate) async fn fetch_metadata(
    http: &reqwest::Client,
    issuer: &Url,
    timeout: std::time::Duration,
) -> Result<Document> {
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
            200 => return metadata_document(issuer, url, &answer.body),
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

/// A metadata document: where it was read, and its fields.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub url: Url,
    pub fields: Map<String, Value>,
}

impl Document {
    /// The endpoint URL in field `name` (`mtls_endpoint_aliases.NAME` with `mtls`), if the document has one,
    /// checked as every configured endpoint is.
    pub(crate) fn endpoint(
        &self,
        name: &str,
        mtls: bool,
        allow_insecure_http: bool,
    ) -> Result<Option<Url>> {
        let value = match mtls {
            false => self.fields.get(name),
            true => self
                .fields
                .get("mtls_endpoint_aliases")
                .and_then(|a| a.get(name)),
        };
        let Some(text) = value.and_then(Value::as_str) else {
            return Ok(None);
        };
        let field = match mtls {
            false => name.to_owned(),
            true => format!("mtls_endpoint_aliases.{name}"),
        };
        check_endpoint_url(text, &field, allow_insecure_http).map(Some)
    }

    fn invalid(&self, what: &str) -> Error {
        Error::invalid_response(Some(200), format!("discovery document {} {what}", self.url))
    }
}

fn metadata_document(issuer: &Url, url: Url, body: &[u8]) -> Result<Document> {
    let invalid = |what: String| {
        Error::invalid_response(Some(200), format!("discovery document {url} {what}"))
    };
    let doc: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("is not JSON: {e}")))?;
    let Value::Object(fields) = doc else {
        return Err(invalid("is not a JSON object".into()));
    };
    let stated = fields
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
    Ok(Document { url, fields })
}

/// Reads what the token client needs from the metadata of `issuer`.
pub(crate) async fn discover(
    http: &reqwest::Client,
    cfg: &ClientConfig,
    issuer: &Url,
    timeout: std::time::Duration,
) -> Result<Metadata> {
    token_metadata(cfg, &fetch_metadata(http, issuer, timeout).await?)
}

#[cfg(test)]
pub(crate) fn parse_metadata(
    cfg: &ClientConfig,
    issuer: &Url,
    url: &Url,
    body: &[u8],
) -> Result<Metadata> {
    token_metadata(cfg, &metadata_document(issuer, url.clone(), body)?)
}

fn token_metadata(cfg: &ClientConfig, doc: &Document) -> Result<Metadata> {
    let insecure = cfg.allow_insecure_http;
    let token_endpoint = doc
        .endpoint("token_endpoint", false, insecure)?
        .ok_or_else(|| doc.invalid("has no token_endpoint"))?;
    let mtls_token_endpoint = doc.endpoint("token_endpoint", true, insecure)?;
    let auth_methods = doc
        .fields
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
