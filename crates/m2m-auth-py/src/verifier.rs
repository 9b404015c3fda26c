//! `m2m_auth.Verifier`, `Claims` and `Policy`: converts keyword arguments (the core's `VERIFIER_SETTINGS`),
//! answers tokens checked before without leaving Python's thread, releases the GIL while keys or introspection
//! are fetched, bridges asyncio, and maps rejections to `TokenInvalid`, `InsufficientScope` and
//! `VerifierUnavailable`. Every check is the core's.

use std::sync::{Arc, PoisonError, RwLock};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use serde_json::Value;

use m2m_auth::settings::Surface;
use m2m_auth::verify::{certificate_der, find_verifier_setting};
use m2m_auth::{Claims, Policy, Rejection, Verifier, VerifierOptions};

use crate::asyncio::{ToPy, spawn_for_asyncio};
use crate::errors::{InternalError, to_py_err};
use crate::options::{read, text};
use crate::runtime;

#[derive(Debug)]
#[pyclass(name = "Verifier", module = "m2m_auth", frozen, subclass)]
pub struct PyVerifier {
    /// Kept to build the verifier again in a forked child, whose copy of the connections is dead.
    options: VerifierOptions,
    current: RwLock<(u64, Verifier)>,
}

impl PyVerifier {
    fn verifier(&self) -> PyResult<Verifier> {
        let generation = runtime::generation();
        {
            let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
            if current.0 == generation {
                return Ok(current.1.clone());
            }
        }
        let fresh = self.options.clone().build().map_err(to_py_err)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = (generation, fresh.clone());
        Ok(fresh)
    }
}

/// The certificate a request came with: DER bytes, or text (PEM, URL-encoded PEM, base64 DER) as a proxy
/// passes it. Text that is none of them counts as no certificate.
fn client_cert_der(cert: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
    let Some(cert) = cert.filter(|c| !c.is_none()) else {
        return Ok(None);
    };
    if let Ok(bytes) = cert.cast::<PyBytes>() {
        return Ok(Some(bytes.as_bytes().to_vec()));
    }
    if let Ok(text) = cert.cast::<PyString>() {
        return Ok(certificate_der(&text.to_cow()?));
    }
    Err(PyTypeError::new_err(
        "client_cert must be bytes (DER) or str (PEM, URL-encoded PEM or base64 DER)",
    ))
}

fn policy_of(policy: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Arc<Policy>>> {
    match policy.filter(|p| !p.is_none()) {
        None => Ok(None),
        Some(p) => Ok(Some(Arc::clone(
            &p.cast::<PyPolicy>()
                .map_err(|_| PyTypeError::new_err("policy must be an m2m_auth.Policy"))?
                .get()
                .0,
        ))),
    }
}

/// The Python exception of a rejection, with `.status`, `.code`, `.error`, `.error_description` and
/// `.required_scopes`; `m2m_auth/exceptions.py` gives the classes their `www_authenticate()`.
pub fn rejection_to_py(py: Python<'_>, rejection: &Rejection) -> PyErr {
    static EXCEPTIONS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let class = EXCEPTIONS
        .get_or_try_init(py, || py.import("m2m_auth.exceptions").map(Bound::unbind))
        .and_then(|m| m.bind(py).getattr(rejection.class_name()));
    match class.and_then(|c| c.call1((rejection.to_string(),))) {
        Ok(value) => {
            // Attributes of a fresh exception cannot fail to be set in practice; the message stays regardless.
            let _ = value.setattr("status", rejection.status());
            let _ = value.setattr("code", rejection.code());
            let _ = value.setattr("error", rejection.error_code());
            let _ = value.setattr("error_description", rejection.description());
            let _ = value.setattr("required_scopes", rejection.required_scopes().to_vec());
            PyErr::from_value(value)
        }
        Err(e) => e,
    }
}

/// `f`'s result, or `InternalError` when the core panicked (never a `PanicException` in the caller's code).
fn catch_panic<T>(f: impl FnOnce() -> T) -> PyResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        InternalError::new_err(format!(
            "m2m-auth panicked: {}",
            m2m_auth::panic_message(panic)
        ))
    })
}

fn answer(py: Python<'_>, result: Result<Arc<Claims>, Rejection>) -> PyResult<PyClaims> {
    result
        .map(PyClaims)
        .map_err(|rejection| rejection_to_py(py, &rejection))
}

#[pymethods]
impl PyVerifier {
    /// Keyword arguments as in the stub (`_native.pyi`); see `m2m_auth::verify::VERIFIER_SETTINGS`.
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut options = VerifierOptions::default();
        for (key, value) in kwargs.into_iter().flatten() {
            let key: String = key.extract()?;
            if value.is_none() {
                continue;
            }
            let setting = find_verifier_setting(Surface::Python, &key).ok_or_else(|| {
                PyTypeError::new_err(format!(
                    "Verifier() got an unexpected keyword argument '{key}'"
                ))
            })?;
            let value = read(setting.name, setting.kind, &value)?;
            options
                .set(setting, value, Surface::Python)
                .map_err(to_py_err)?;
        }
        let verifier = options.clone().build().map_err(to_py_err)?;
        Ok(Self {
            options,
            current: RwLock::new((runtime::generation(), verifier)),
        })
    }

    /// The token's claims if it is valid here (and meets `policy`), else `TokenInvalid`, `InsufficientScope`
    /// or `VerifierUnavailable`.
    #[pyo3(signature = (token, client_cert=None, policy=None))]
    fn verify(
        &self,
        py: Python<'_>,
        token: &str,
        client_cert: Option<&Bound<'_, PyAny>>,
        policy: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyClaims> {
        let verifier = self.verifier()?;
        let cert = client_cert_der(client_cert)?;
        let policy = policy_of(policy)?;
        let known =
            catch_panic(|| verifier.verify_known(token, cert.as_deref(), policy.as_deref()))?;
        if let Some(known) = known {
            return answer(py, known);
        }
        let rt = runtime::get()?;
        // Off the GIL: a new token's signature check, or the fetch of its keys.
        let result = py.detach(|| {
            catch_panic(|| {
                verifier
                    .verify_ready(token, cert.as_deref(), policy.as_deref())
                    .unwrap_or_else(|| {
                        rt.block_on(verifier.verify_for(token, cert.as_deref(), policy.as_deref()))
                    })
            })
        })?;
        answer(py, result)
    }

    /// Awaitable `verify` for asyncio.
    #[pyo3(signature = (token, client_cert=None, policy=None))]
    fn verify_async<'py>(
        &self,
        py: Python<'py>,
        token: String,
        client_cert: Option<&Bound<'_, PyAny>>,
        policy: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let verifier = self.verifier()?;
        let cert = client_cert_der(client_cert)?;
        let policy = policy_of(policy)?;
        let ready =
            catch_panic(|| verifier.verify_known(&token, cert.as_deref(), policy.as_deref()))?
                .map(|known| -> PyResult<Py<PyAny>> {
                    match known {
                        Ok(claims) => Ok(Py::new(py, PyClaims(claims))?.into_any()),
                        Err(rejection) => {
                            Ok(rejection_to_py(py, &rejection).into_value(py).into_any())
                        }
                    }
                })
                .transpose()?;
        if let Some(ready) = ready {
            return ready_future(py, ready);
        }
        spawn_for_asyncio(py, None, async move {
            let result = verifier
                .verify_for(&token, cert.as_deref(), policy.as_deref())
                .await;
            Ok(Box::new(move |py: Python<'_>| match result {
                Ok(claims) => Ok(Py::new(py, PyClaims(claims))?.into_any()),
                Err(rejection) => Err(rejection_to_py(py, &rejection)),
            }) as ToPy)
        })
    }

    /// The realm of the `WWW-Authenticate` challenges (the `realm` setting).
    #[getter]
    fn realm(&self) -> Option<String> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .realm()
            .map(str::to_owned)
    }
}

/// A future of the running loop already settled with `value` (claims, or an exception to raise).
fn ready_future<'py>(py: Python<'py>, value: Py<PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let future = py
        .import("asyncio")?
        .call_method0("get_running_loop")?
        .call_method0("create_future")?;
    let value = value.into_bound(py);
    if value.is_instance_of::<pyo3::exceptions::PyBaseException>() {
        future.call_method1("set_exception", (value,))?;
    } else {
        future.call_method1("set_result", (value,))?;
    }
    Ok(future)
}

/// `RFC 6750 §3` challenge of a verification error, as its class, description and scopes describe it: the
/// exceptions' `www_authenticate()` (kept in the core, so that Python and Node render it alike).
#[pyfunction]
#[pyo3(signature = (class_name, description, required_scopes, realm=None))]
pub fn www_authenticate(
    class_name: &str,
    description: String,
    required_scopes: Vec<String>,
    realm: Option<&str>,
) -> PyResult<String> {
    Rejection::of_class(class_name, description, required_scopes)
        .map(|r| r.www_authenticate(realm))
        .ok_or_else(|| PyTypeError::new_err(format!("{class_name} is not a verification error")))
}

/// The token of an `Authorization` header value (RFC 6750 §2.1), else `TokenInvalid` (with no error code
/// when there is no bearer token at all): what every web framework integration reads first.
#[pyfunction]
#[pyo3(signature = (authorization))]
pub fn bearer_token(py: Python<'_>, authorization: Option<&str>) -> PyResult<String> {
    m2m_auth::verify::bearer_token(authorization)
        .map(str::to_owned)
        .map_err(|rejection| rejection_to_py(py, &rejection))
}

/// The certificate a trusted proxy passed, from every value the request has of its header (`None` unless
/// exactly one): the core's rule, shared with Node.
#[pyfunction]
pub fn forwarded_certificate(values: Vec<String>) -> Option<String> {
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    m2m_auth::verify::forwarded_certificate(&values).map(str::to_owned)
}

/// A verified token's claims.
#[derive(Debug)]
#[pyclass(name = "Claims", module = "m2m_auth", frozen)]
pub struct PyClaims(Arc<Claims>);

#[pymethods]
impl PyClaims {
    #[getter]
    fn issuer(&self) -> &str {
        &self.0.issuer
    }

    #[getter]
    fn subject(&self) -> Option<&str> {
        self.0.subject.as_deref()
    }

    /// `client_id`, else `azp`, else `sub`.
    #[getter]
    fn client_id(&self) -> Option<&str> {
        self.0.client_id.as_deref()
    }

    #[getter]
    fn scopes(&self) -> Vec<String> {
        self.0.scopes.clone()
    }

    #[getter]
    fn audience(&self) -> Vec<String> {
        self.0.audience.clone()
    }

    /// `exp` as a Unix timestamp.
    #[getter]
    fn expires_at(&self) -> f64 {
        self.0.expires_at
    }

    /// Every claim, as the token has it.
    #[getter]
    fn claims<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, value) in &self.0.claims {
            dict.set_item(name, to_python(py, value)?)?;
        }
        Ok(dict)
    }

    fn __getitem__<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        match self.0.claims.get(name) {
            Some(value) => to_python(py, value),
            None => Err(pyo3::exceptions::PyKeyError::new_err(name.to_owned())),
        }
    }

    #[pyo3(signature = (name, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match self.0.claims.get(name) {
            Some(value) => to_python(py, value),
            None => Ok(default.unwrap_or_else(|| py.None().into_bound(py))),
        }
    }

    fn __contains__(&self, name: &str) -> bool {
        self.0.claims.contains_key(name)
    }

    fn __repr__(&self) -> String {
        let client_id = self
            .0
            .client_id
            .as_ref()
            .map_or_else(|| "None".to_owned(), |c| format!("{c:?}"));
        format!(
            "Claims(issuer={:?}, client_id={client_id}, scopes={:?}, expires_at={})",
            self.0.issuer, self.0.scopes, self.0.expires_at
        )
    }
}

/// A JSON value as Python has it.
fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(f)) => f.into_pyobject(py)?.into_any(),
            (None, None) => py.None().into_bound(py),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_python(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A Python value as JSON (through `json.dumps`: what is not JSON is a `TypeError` naming it).
fn to_json(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    let text = value.py().import("json")?.call_method1("dumps", (value,))?;
    serde_json::from_str(&text.extract::<String>()?)
        .map_err(|e| PyTypeError::new_err(format!("the value is not JSON: {e}")))
}

/// What a route asks of a token: built once per route, checked by the core for every request.
#[derive(Debug)]
#[pyclass(name = "Policy", module = "m2m_auth", frozen)]
pub struct PyPolicy(Arc<Policy>);

fn collect_policies(items: &Bound<'_, PyAny>) -> PyResult<Vec<Policy>> {
    items
        .try_iter()?
        .map(|p| {
            let p = p?;
            let policy = p
                .cast::<PyPolicy>()
                .map_err(|_| PyTypeError::new_err("all_of and any_of take Policy objects"))?;
            Ok(Policy::clone(&policy.get().0))
        })
        .collect()
}

fn names(field: &str, items: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if items.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{field} takes a list of str, not one str"
        )));
    }
    items.try_iter()?.map(|s| text(field, &s?)).collect()
}

#[pymethods]
impl PyPolicy {
    /// Every one of `scopes`.
    #[staticmethod]
    fn all_scopes(scopes: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self(Arc::new(Policy::AllScopes(names("scopes", scopes)?))))
    }

    /// At least one of `scopes`.
    #[staticmethod]
    fn any_scope(scopes: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self(Arc::new(Policy::AnyScope(names("scopes", scopes)?))))
    }

    /// The token's client (`client_id`, else `azp`, else `sub`) is one of `client_ids`.
    #[staticmethod]
    fn client_ids(client_ids: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self(Arc::new(Policy::ClientIds(names(
            "client_ids",
            client_ids,
        )?))))
    }

    /// The claim `name` is exactly `value` (a JSON value: str, int, bool, list, dict).
    #[staticmethod]
    fn claim_equals(name: String, value: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self(Arc::new(Policy::ClaimEquals {
            claim: name,
            value: to_json(value)?,
        })))
    }

    /// The claim `name` is exactly one of `values`.
    #[staticmethod]
    fn claim_one_of(name: String, values: &Bound<'_, PyAny>) -> PyResult<Self> {
        let values = values
            .try_iter()?
            .map(|v| to_json(&v?))
            .collect::<PyResult<_>>()?;
        Ok(Self(Arc::new(Policy::ClaimOneOf {
            claim: name,
            values,
        })))
    }

    /// Every one of `policies`.
    #[staticmethod]
    fn all_of(policies: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self(Arc::new(Policy::AllOf(collect_policies(policies)?))))
    }

    /// At least one of `policies`.
    #[staticmethod]
    fn any_of(policies: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self(Arc::new(Policy::AnyOf(collect_policies(policies)?))))
    }

    fn __and__(&self, other: &Bound<'_, PyPolicy>) -> Self {
        Self(Arc::new(Policy::AllOf(vec![
            Policy::clone(&self.0),
            Policy::clone(&other.get().0),
        ])))
    }

    fn __or__(&self, other: &Bound<'_, PyPolicy>) -> Self {
        Self(Arc::new(Policy::AnyOf(vec![
            Policy::clone(&self.0),
            Policy::clone(&other.get().0),
        ])))
    }

    fn __repr__(&self) -> String {
        format!("Policy({:?})", self.0)
    }
}
