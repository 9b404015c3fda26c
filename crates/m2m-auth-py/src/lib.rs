//! `m2m_auth._native`: the Python face of the m2m-auth core. The `m2m_auth` package re-exports it.

mod api;
mod asyncio;
mod client;
mod errors;
mod logging;
mod mirror;
mod mock;
mod options;
mod redis_server;
mod runtime;
mod token;
mod verifier;

use pyo3::prelude::*;

/// Whether an API's answer says the access token it was sent is no good (401 with a Bearer `invalid_token`
/// challenge), so that the HTTP integrations drop it and replay the request once. The rule is the core's, so
/// that Python and Node decide alike.
#[pyfunction]
fn token_rejected(status: u16, www_authenticate: Vec<String>) -> bool {
    m2m_auth::challenge::token_rejected(status, www_authenticate.iter().map(String::as_str))
}

/// Whether to drop the token and send a request once more with a new one, after an API's answer (see
/// `m2m_auth::challenge::replay_with_new_token`): the core's rule for every integration.
#[pyfunction]
fn replay_with_new_token(
    status: u16,
    www_authenticate: Vec<String>,
    answered_by_token_origin: bool,
    body_replayable: bool,
    already_replayed: bool,
) -> bool {
    m2m_auth::challenge::replay_with_new_token(
        status,
        www_authenticate.iter().map(String::as_str),
        answered_by_token_origin,
        body_replayable,
        already_replayed,
    )
}

/// Whether a request to `b` may carry the credentials of a request to `a` (the same origin). The HTTP
/// integrations ask it on every redirect; the rule is the core's.
#[pyfunction]
fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => m2m_auth::url_policy::same_origin(&a, &b),
        _ => false,
    }
}

/// Called in the child after `os.fork()`; registered by `m2m_auth/__init__.py`.
#[pyfunction]
fn _after_fork_in_child() {
    runtime::after_fork_in_child();
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::PyTokenClient>()?;
    m.add_class::<token::PyToken>()?;
    m.add_class::<api::PyApiResponse>()?;
    m.add_class::<mock::PyMockServer>()?;
    m.add_class::<redis_server::PyRedisServer>()?;
    m.add_class::<verifier::PyVerifier>()?;
    m.add_class::<verifier::PyClaims>()?;
    m.add_class::<verifier::PyPolicy>()?;
    m.add_function(wrap_pyfunction!(verifier::www_authenticate, m)?)?;
    m.add_function(wrap_pyfunction!(verifier::bearer_token, m)?)?;
    m.add_function(wrap_pyfunction!(verifier::forwarded_certificate, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(token_rejected, m)?)?;
    m.add_function(wrap_pyfunction!(same_origin, m)?)?;
    m.add_function(wrap_pyfunction!(replay_with_new_token, m)?)?;
    m.add_function(wrap_pyfunction!(mock::generate_signing_key, m)?)?;
    m.add_function(wrap_pyfunction!(mock::self_signed_certificate, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    Ok(())
}
