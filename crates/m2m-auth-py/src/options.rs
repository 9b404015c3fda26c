//! The constructors' keyword arguments, converted one by one into the core's `ClientOptions`, so that a value
//! of the wrong type is a `ConfigError` naming the keyword (as in Node), and a misspelt keyword a `TypeError`
//! (as for any Python function).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyMapping, PyString};

use m2m_auth::{ClientOptions, SecretString, TokenClient, TokenParams};

use crate::errors::{config_error, to_py_err};

/// SecureAuth Connect workspace parts, for `TokenClient.secureauth(...)`.
#[derive(Debug, Default)]
pub struct Workspace {
    pub tenant: Option<String>,
    pub region: Option<String>,
    pub workspace: Option<String>,
}

/// Which keywords a constructor takes beyond the common ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constructor {
    /// `TokenClient(...)`: `token_url`, `issuer`, `allow_insecure_http`, `_panic_on_fetch` too.
    New,
    /// `TokenClient.secureauth(...)`: `tenant`, `region`, `workspace` instead of URLs.
    SecureAuth,
    /// `TokenClient.from_issuer(issuer, ...)`: the issuer is positional.
    FromIssuer,
}

impl Constructor {
    fn name(self) -> &'static str {
        match self {
            Self::New => "TokenClient()",
            Self::SecureAuth => "TokenClient.secureauth()",
            Self::FromIssuer => "TokenClient.from_issuer()",
        }
    }
}

pub fn client_options(
    kwargs: Option<&Bound<'_, PyDict>>,
    constructor: Constructor,
) -> PyResult<(ClientOptions, Workspace)> {
    let mut o = ClientOptions::default();
    let mut w = Workspace::default();
    let Some(kwargs) = kwargs else {
        return Ok((o, w));
    };
    for (key, value) in kwargs.iter() {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        let v = &value;
        let k = key.as_str();
        match (k, constructor) {
            ("token_url" | "allow_insecure_http" | "_panic_on_fetch", Constructor::New)
            | ("issuer", Constructor::New) => {}
            ("tenant" | "region" | "workspace", Constructor::SecureAuth) => {}
            (
                "token_url"
                | "issuer"
                | "allow_insecure_http"
                | "_panic_on_fetch"
                | "tenant"
                | "region"
                | "workspace",
                _,
            ) => return Err(unexpected(constructor, k)),
            _ => {}
        }
        match k {
            "token_url" => o.token_url = Some(text(k, v)?),
            "issuer" => o.issuer = Some(text(k, v)?),
            "tenant" => w.tenant = Some(text(k, v)?),
            "region" => w.region = Some(text(k, v)?),
            "workspace" => w.workspace = Some(text(k, v)?),
            "client_id" => o.client_id = Some(text(k, v)?),
            "client_secret" => o.client_secret = Some(SecretString::from(text(k, v)?)),
            "auth_method" => o.auth_method = Some(text(k, v)?),
            "private_key" => o.private_key = Some(SecretString::from(key_text(k, v)?)),
            "private_key_file" => o.private_key_file = Some(path(k, v)?),
            "private_key_id" => o.private_key_id = Some(text(k, v)?),
            "signing_alg" => o.signing_alg = Some(text(k, v)?),
            "assertion_audience" => o.assertion_audience = Some(text(k, v)?),
            "client_cert" => o.client_cert = Some(pem(k, v)?),
            "client_cert_file" => o.client_cert_file = Some(path(k, v)?),
            "client_key" => o.client_key = Some(SecretString::from(pem(k, v)?)),
            "client_key_file" => o.client_key_file = Some(path(k, v)?),
            "ca_bundle" => o.ca_bundle = Some(pem(k, v)?),
            "ca_bundle_file" => o.ca_bundle_file = Some(path(k, v)?),
            "scopes" => o.scopes = Some(strings(k, v)?),
            "audience" => o.audience = Some(text(k, v)?),
            "resources" => o.resources = Some(strings(k, v)?),
            "extra_params" => o.extra_params = pairs(k, v)?,
            "timeout" => o.timeout_secs = Some(number(k, v)?),
            "expiry_skew" => o.expiry_skew_secs = Some(number(k, v)?),
            "default_lifetime" => o.default_lifetime_secs = Some(number(k, v)?),
            "max_response_bytes" => o.max_response_bytes = Some(number(k, v)?),
            "allow_insecure_http" => o.allow_insecure_http = Some(flag(k, v)?),
            "max_attempts" => o.max_attempts = Some(number(k, v)?),
            "retry_backoff" => o.retry_backoff_secs = Some(number(k, v)?),
            "retry_max_backoff" => o.retry_max_backoff_secs = Some(number(k, v)?),
            "retry_deadline" => o.retry_deadline_secs = Some(number(k, v)?),
            "max_retry_after" => o.max_retry_after_secs = Some(number(k, v)?),
            "refresh_ratio" => o.refresh_ratio = Some(number(k, v)?),
            "_panic_on_fetch" => o.panic_on_fetch = flag(k, v)?,
            other => return Err(unexpected(constructor, other)),
        }
    }
    Ok((o, w))
}

/// The per-call keyword arguments of `get_token` and friends: `None` when there are none.
pub fn call_params(
    client: &TokenClient,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Option<TokenParams>> {
    let Some(kwargs) = kwargs.filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    let (mut scopes, mut audience, mut resources, mut extra) = (None, None, None, None);
    for (key, value) in kwargs.iter() {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        let k = key.as_str();
        match k {
            "scopes" => scopes = Some(strings(k, &value)?),
            "audience" => audience = Some(text(k, &value)?),
            "resources" => resources = Some(strings(k, &value)?),
            "extra_params" => extra = Some(pairs(k, &value)?),
            other => {
                return Err(PyTypeError::new_err(format!(
                    "got an unexpected keyword argument '{other}'"
                )));
            }
        }
    }
    if scopes.is_none() && audience.is_none() && resources.is_none() && extra.is_none() {
        return Ok(None);
    }
    let params = client
        .params(scopes, audience, resources)
        .map_err(to_py_err)?;
    match extra {
        Some(extra) => params.with_extra(extra).map_err(to_py_err),
        None => Ok(params),
    }
    .map(Some)
}

fn unexpected(constructor: Constructor, key: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{} got an unexpected keyword argument '{key}'",
        constructor.name()
    ))
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

fn wrong(field: &str, expected: &str, v: &Bound<'_, PyAny>) -> PyErr {
    config_error(
        field,
        format!("{field} must be {expected}, not {}", type_name(v)),
    )
}

pub fn text(field: &str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    v.cast::<PyString>()
        .map_err(|_| wrong(field, "a str", v))?
        .to_cow()
        .map(std::borrow::Cow::into_owned)
}

/// A number (int or float), not a bool: `timeout=True` is a mistake, not one second.
fn number(field: &str, v: &Bound<'_, PyAny>) -> PyResult<f64> {
    if v.is_instance_of::<PyBool>()
        || !(v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>())
    {
        return Err(wrong(field, "a number", v));
    }
    v.extract::<f64>()
        .map_err(|_| config_error(field, format!("{field} is too large")))
}

fn flag(field: &str, v: &Bound<'_, PyAny>) -> PyResult<bool> {
    v.cast::<PyBool>()
        .map(|b| b.is_true())
        .map_err(|_| wrong(field, "a bool", v))
}

/// An iterable of str, but not a str itself: iterating "payments.read" would give one scope per letter, and
/// the Node package refuses a string here too.
fn strings(field: &str, v: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if v.is_instance_of::<PyString>() || v.is_instance_of::<PyBytes>() {
        return Err(wrong(field, "a list of str", v));
    }
    let items = v.try_iter().map_err(|_| wrong(field, "a list of str", v))?;
    items
        .map(|item| text(field, &item?))
        .collect::<PyResult<Vec<_>>>()
}

/// A mapping of str to str, or an iterable of (name, value) pairs.
fn pairs(field: &str, v: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let expected = "a dict of str to str or a list of (str, str) pairs";
    let items = match v.cast::<PyMapping>() {
        Ok(m) => m.items()?.into_any(),
        Err(_) => v.clone(),
    };
    let iter = items.try_iter().map_err(|_| wrong(field, expected, v))?;
    let mut out = Vec::new();
    for item in iter {
        let item = item?;
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
            item.extract().map_err(|_| wrong(field, expected, v))?;
        out.push((text(field, &name)?, text(field, &value)?));
    }
    Ok(out)
}

/// PEM text, as str or bytes.
fn pem(field: &str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(b) = v.cast::<PyBytes>() {
        return String::from_utf8(b.as_bytes().to_vec())
            .map_err(|_| config_error(field, format!("{field} is not PEM text")));
    }
    text(field, v).map_err(|_| wrong(field, "PEM text (str or bytes)", v))
}

/// A private key: PEM or JWK text, or a JWK as a dict.
fn key_text(field: &str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    if v.cast::<PyMapping>().is_ok() {
        let json = v.py().import("json")?.call_method1("dumps", (v,))?;
        return text(field, &json);
    }
    pem(field, v).map_err(|_| wrong(field, "PEM or JWK text, bytes, or a JWK dict", v))
}

/// A file path: str or os.PathLike.
fn path(field: &str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    let fspath = v
        .py()
        .import("os")?
        .call_method1("fspath", (v,))
        .map_err(|_| wrong(field, "a path (str or os.PathLike)", v))?;
    text(field, &fspath).map_err(|_| wrong(field, "a str path", v))
}
