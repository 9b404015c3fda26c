//! The constructors' keyword arguments, converted one by one into the core's `ClientOptions`, so that a value
//! of the wrong type is a `ConfigError` naming the keyword (as in Node), and a misspelt keyword a `TypeError`
//! (as for any Python function).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyMapping, PyString};

use m2m_auth::settings::{self, Group, Kind, SettingValue, Surface};
use m2m_auth::{ClientOptions, TokenClient, TokenParams};

use crate::errors::{config_error, to_py_err};

/// Which keywords a constructor takes beyond the common ones (see `settings::Group`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constructor {
    /// `TokenClient(...)`: `token_url`, `issuer` and the test hook `_panic_on_fetch` too.
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

    fn takes(self, group: Group) -> bool {
        match group {
            Group::Common => true,
            Group::Endpoint => self == Self::New,
            Group::Workspace => self == Self::SecureAuth,
        }
    }
}

/// The keyword arguments of a constructor, each looked up among the declared settings and read by its kind.
pub fn client_options(
    kwargs: Option<&Bound<'_, PyDict>>,
    constructor: Constructor,
) -> PyResult<ClientOptions> {
    let mut o = ClientOptions::default();
    let Some(kwargs) = kwargs else {
        return Ok(o);
    };
    for (key, value) in kwargs.iter() {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        #[cfg(feature = "test-hooks")]
        if key == "_panic_on_fetch" && constructor == Constructor::New {
            o.panic_on_fetch = flag(&key, &value)?;
            continue;
        }
        let setting = settings::find(Surface::Python, &key)
            .filter(|s| constructor.takes(s.group))
            .ok_or_else(|| unexpected(constructor, &key))?;
        let value = read(setting.name, setting.kind, &value)?;
        o.set(setting, value, Surface::Python).map_err(to_py_err)?;
    }
    Ok(o)
}

/// A keyword's value, as its setting's kind says it is written in Python.
pub fn read(field: &str, kind: Kind, v: &Bound<'_, PyAny>) -> PyResult<SettingValue> {
    Ok(match kind {
        Kind::Text | Kind::Secret => SettingValue::Text(text(field, v)?),
        Kind::Key => SettingValue::Text(key_text(field, v)?),
        Kind::Pem | Kind::SecretPem => SettingValue::Text(pem(field, v)?),
        Kind::Path => SettingValue::Text(path(field, v)?),
        Kind::List => SettingValue::List(strings(field, v)?),
        // One audience, or several.
        Kind::Names if v.is_instance_of::<PyString>() => SettingValue::Text(text(field, v)?),
        Kind::Names => SettingValue::List(strings(field, v)?),
        Kind::Pairs => SettingValue::Pairs(pairs(field, v)?),
        Kind::Duration { .. } | Kind::Count { .. } | Kind::Ratio => {
            SettingValue::Number(number(field, v)?)
        }
        Kind::Flag => SettingValue::Flag(flag(field, v)?),
    })
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
    config_error(field, format!("must be {expected}, not {}", type_name(v)))
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
        .map_err(|_| config_error(field, "is too large"))
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
            .map_err(|_| config_error(field, "is not PEM text"));
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
