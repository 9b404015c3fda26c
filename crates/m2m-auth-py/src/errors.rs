//! The Python exception hierarchy. Classes are created here and re-exported by `m2m_auth/exceptions.py`;
//! which class an error becomes, and its message, come from the core.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::{PyErr, create_exception};

use m2m_auth::{Error, ErrorKind};

create_exception!(
    m2m_auth,
    M2MAuthError,
    PyException,
    "Base class of every m2m-auth error."
);
create_exception!(
    m2m_auth,
    OAuthError,
    M2MAuthError,
    "The token endpoint answered with an RFC 6749 error: see .error, .error_description, .error_uri, .status."
);
create_exception!(
    m2m_auth,
    TransportError,
    M2MAuthError,
    "The token endpoint could not be reached or did not answer in time (.timeout)."
);
create_exception!(
    m2m_auth,
    InvalidResponse,
    M2MAuthError,
    "The token endpoint answered with something that is not a usable token response (.status)."
);
create_exception!(
    m2m_auth,
    ConfigError,
    M2MAuthError,
    "The client is configured wrongly; .field names the setting or environment variable."
);
create_exception!(
    m2m_auth,
    InternalError,
    M2MAuthError,
    "A bug in m2m-auth (for example a caught Rust panic). Please report it."
);

/// Converts a core error into the matching Python exception, with its fields as attributes. Every
/// exception has `.code` (the same string the Node package uses) and `.status` (None when not HTTP).
pub fn to_py_err(e: Error) -> PyErr {
    Python::attach(|py| {
        let message = e.to_string();
        let err = match e.kind() {
            ErrorKind::OAuth => OAuthError::new_err(message),
            ErrorKind::Transport => TransportError::new_err(message),
            ErrorKind::InvalidResponse => InvalidResponse::new_err(message),
            ErrorKind::Config => ConfigError::new_err(message),
            ErrorKind::Internal => InternalError::new_err(message),
        };
        let value = err.value(py);
        // Setting attributes on a fresh exception instance cannot fail in practice; if it did, the
        // exception is still raised with its message, which is the important part.
        let _ = value.setattr("code", e.kind().code());
        let _ = value.setattr("status", e.status());
        let _ = value.setattr("attempts", e.attempts());
        match &e {
            Error::OAuth(o) => {
                let _ = value.setattr("error", &o.error);
                let _ = value.setattr("error_description", &o.error_description);
                let _ = value.setattr("error_uri", &o.error_uri);
            }
            Error::Transport { timeout, .. } => {
                let _ = value.setattr("timeout", *timeout);
            }
            Error::Config { field, .. } => {
                let _ = value.setattr("field", field);
            }
            _ => {}
        }
        err
    })
}

/// A ConfigError for a setting a caller passed wrongly (e.g. a keyword argument of the wrong type).
pub fn config_error(field: &str, message: impl Into<String>) -> PyErr {
    to_py_err(Error::Config {
        field: field.to_owned(),
        message: message.into(),
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<M2MAuthError>();
    // Class-level defaults, so that an exception raised by user code (e.g. `raise OAuthError("…")` in a test
    // double) has every attribute too; errors from the core overwrite them on the instance.
    base.setattr("code", "ERR_M2M_AUTH")?;
    base.setattr("status", py.None())?;
    base.setattr("attempts", 0)?;
    m.add("M2MAuthError", base)?;
    for (name, class, kind) in [
        ("OAuthError", py.get_type::<OAuthError>(), ErrorKind::OAuth),
        (
            "TransportError",
            py.get_type::<TransportError>(),
            ErrorKind::Transport,
        ),
        (
            "InvalidResponse",
            py.get_type::<InvalidResponse>(),
            ErrorKind::InvalidResponse,
        ),
        (
            "ConfigError",
            py.get_type::<ConfigError>(),
            ErrorKind::Config,
        ),
        (
            "InternalError",
            py.get_type::<InternalError>(),
            ErrorKind::Internal,
        ),
    ] {
        class.setattr("code", kind.code())?;
        match kind {
            ErrorKind::OAuth => {
                class.setattr("error", "")?;
                class.setattr("error_description", py.None())?;
                class.setattr("error_uri", py.None())?;
            }
            ErrorKind::Transport => class.setattr("timeout", false)?,
            ErrorKind::Config => class.setattr("field", "")?,
            _ => {}
        }
        m.add(name, class)?;
    }
    Ok(())
}
