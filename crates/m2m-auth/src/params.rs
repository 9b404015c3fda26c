//! What one token request asks for, beyond the client itself: scopes, audience, resources. Two requests with
//! the same parameters may share a token, so this is also the in-memory cache key. It never holds a secret.

use crate::config::normalize_scopes;
use crate::error::Result;

/// Scopes (a sorted set), audience and RFC 8707 resources of one token request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TokenParams {
    pub(crate) scopes: Vec<String>,
    pub(crate) audience: Option<String>,
    pub(crate) resources: Vec<String>,
}

impl TokenParams {
    /// Scopes are normalised (sorted, de-duplicated, validated); resources are sorted, since their order
    /// does not change what is granted.
    pub fn new(
        scopes: Vec<String>,
        audience: Option<String>,
        mut resources: Vec<String>,
    ) -> Result<Self> {
        resources.sort();
        resources.dedup();
        Ok(Self {
            scopes: normalize_scopes(scopes)?,
            audience: audience.filter(|a| !a.is_empty()),
            resources,
        })
    }

    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    pub fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    pub fn resources(&self) -> &[String] {
        &self.resources
    }
}
