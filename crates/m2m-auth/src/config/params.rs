//! What one token request asks for, beyond the client itself: scopes, audience, resources and extra form
//! fields. Two requests with the same parameters may share a token, so this is also the in-memory cache key.
//! It never holds a secret.

use crate::config::normalize_scopes;
use crate::error::{Error, Result};

/// Scopes (a sorted set), audience, RFC 8707 resources and extra form fields of one token request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TokenParams {
    pub(crate) scopes: Vec<String>,
    pub(crate) audience: Option<String>,
    pub(crate) resources: Vec<String>,
    /// Sorted by name, so that the same fields always make the same key.
    pub(crate) extra: Vec<(String, String)>,
}

/// Form parameters that the client sets itself; an "extra" one of these would change the grant or the
/// authentication behind the caller's back.
const RESERVED_PARAMS: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "scope",
    "audience",
    "resource",
];

/// Refuses an extra parameter the client sets itself.
pub(crate) fn check_extra_param(name: &str) -> Result<()> {
    if RESERVED_PARAMS.contains(&name) || name.is_empty() {
        return Err(Error::config(
            "extra_params",
            format!(": {name:?} is set by m2m-auth itself and cannot be an extra parameter"),
        ));
    }
    Ok(())
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
            extra: Vec::new(),
        })
    }

    /// The extra form fields a request with these parameters sends: the client's, with the per-call ones
    /// replacing those of the same name. What the token request sends, and what the shared cache's names hash.
    pub(crate) fn extra_fields<'a>(
        &'a self,
        client_extra: &'a [(String, String)],
    ) -> impl Iterator<Item = &'a (String, String)> {
        client_extra
            .iter()
            .filter(|(name, _)| !self.extra.iter().any(|(n, _)| n == name))
            .chain(&self.extra)
    }

    /// Adds extra form fields for this request; they replace the client's extra fields of the same name.
    pub fn with_extra(mut self, mut extra: Vec<(String, String)>) -> Result<Self> {
        for (name, _) in &extra {
            check_extra_param(name)?;
        }
        extra.sort();
        extra.dedup_by(|a, b| a.0 == b.0);
        self.extra = extra;
        Ok(self)
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

    pub fn extra(&self) -> &[(String, String)] {
        &self.extra
    }
}
