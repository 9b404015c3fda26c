//! `m2m_auth.TokenClient`: converts keyword arguments, releases the GIL while waiting, bridges asyncio, and
//! maps errors. Every decision (caching, freshness, single flight) is the core's.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use m2m_auth::{ClientOptions, SecretString, TokenClient, TokenClientBuilder, TokenParams};

use crate::asyncio::spawn_for_asyncio;
use crate::errors::to_py_err;
use crate::runtime;
use crate::token::PyToken;

#[derive(Debug)]
#[pyclass(name = "TokenClient", module = "m2m_auth", frozen)]
pub struct PyTokenClient {
    /// Kept to build the client again in a forked child (see `runtime`).
    builder: TokenClientBuilder,
    current: RwLock<(u64, TokenClient)>,
    /// The Python string of the current default token, so that a cache hit returns an existing object
    /// instead of building a new one per call. Keyed by the core's token (pointer identity).
    last: Mutex<Option<(Arc<m2m_auth::Token>, Py<PyString>)>>,
}

#[allow(clippy::too_many_arguments)]
fn options(
    token_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    auth_method: Option<String>,
    scopes: Option<Vec<String>>,
    audience: Option<String>,
    resources: Option<Vec<String>>,
    extra_params: Option<Vec<(String, String)>>,
    timeout: Option<f64>,
    expiry_skew: Option<f64>,
    default_lifetime: Option<f64>,
    max_response_bytes: Option<f64>,
    allow_insecure_http: Option<bool>,
    retry: RetryArgs,
) -> ClientOptions {
    ClientOptions {
        token_url,
        client_id,
        client_secret: client_secret.map(SecretString::from),
        auth_method,
        scopes,
        audience,
        resources,
        extra_params: extra_params.unwrap_or_default(),
        timeout_secs: timeout,
        expiry_skew_secs: expiry_skew,
        default_lifetime_secs: default_lifetime,
        max_response_bytes,
        allow_insecure_http,
        max_attempts: retry.max_attempts,
        retry_backoff_secs: retry.retry_backoff,
        retry_max_backoff_secs: retry.retry_max_backoff,
        retry_deadline_secs: retry.retry_deadline,
        max_retry_after_secs: retry.max_retry_after,
        refresh_ratio: retry.refresh_ratio,
        panic_on_fetch: retry.panic_on_fetch,
    }
}

/// The lifecycle keyword arguments, grouped to keep the signatures readable.
#[derive(Debug, Default)]
struct RetryArgs {
    max_attempts: Option<f64>,
    retry_backoff: Option<f64>,
    retry_max_backoff: Option<f64>,
    retry_deadline: Option<f64>,
    max_retry_after: Option<f64>,
    refresh_ratio: Option<f64>,
    panic_on_fetch: bool,
}

impl PyTokenClient {
    /// Builds the core client on this process's runtime, with events going to `logging`.
    fn core(builder: &TokenClientBuilder) -> PyResult<TokenClient> {
        builder
            .clone()
            .runtime(runtime::get()?.handle().clone())
            .on_event(crate::logging::hook())
            .build()
            .map_err(to_py_err)
    }

    fn build(builder: TokenClientBuilder) -> PyResult<Self> {
        let client = Self::core(&builder)?;
        Ok(Self {
            builder,
            current: RwLock::new((runtime::generation(), client)),
            last: Mutex::new(None),
        })
    }

    /// The core client of this process: after a fork, a fresh one (new connections, no in-flight fetches
    /// of the parent's).
    fn client(&self) -> PyResult<TokenClient> {
        let generation = runtime::generation();
        {
            let guard = self.current.read().unwrap_or_else(PoisonError::into_inner);
            if guard.0 == generation {
                return Ok(guard.1.clone());
            }
        }
        let fresh = Self::core(&self.builder)?;
        let mut guard = self.current.write().unwrap_or_else(PoisonError::into_inner);
        *guard = (generation, fresh.clone());
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(fresh)
    }

    fn params(
        client: &TokenClient,
        scopes: Option<Vec<String>>,
        audience: Option<String>,
        resources: Option<Vec<String>>,
    ) -> PyResult<Option<TokenParams>> {
        if scopes.is_none() && audience.is_none() && resources.is_none() {
            return Ok(None);
        }
        client
            .params(scopes, audience, resources)
            .map(Some)
            .map_err(to_py_err)
    }

    fn token_str(
        &self,
        py: Python<'_>,
        token: Arc<m2m_auth::Token>,
        default: bool,
    ) -> Py<PyString> {
        if !default {
            return PyString::new(py, token.access_token()).unbind();
        }
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((t, s)) = last.as_ref()
            && Arc::ptr_eq(t, &token)
        {
            return s.clone_ref(py);
        }
        let s = PyString::new(py, token.access_token()).unbind();
        *last = Some((token, s.clone_ref(py)));
        s
    }

    fn blocking_token(
        &self,
        py: Python<'_>,
        client: &TokenClient,
        params: Option<&TokenParams>,
    ) -> PyResult<Arc<m2m_auth::Token>> {
        if let Some(token) = client.cached(params) {
            return Ok(token);
        }
        let rt = runtime::get()?;
        let result = py.detach(|| {
            rt.block_on(async {
                match params {
                    Some(p) => client.token_for(p).await,
                    None => client.token().await,
                }
            })
        });
        result.map_err(to_py_err)
    }
}

#[pymethods]
impl PyTokenClient {
    #[new]
    #[pyo3(signature = (*, token_url=None, client_id=None, client_secret=None, auth_method=None, scopes=None,
        audience=None, resources=None, extra_params=None, timeout=None, expiry_skew=None, default_lifetime=None,
        max_response_bytes=None, allow_insecure_http=None, max_attempts=None, retry_backoff=None,
        retry_max_backoff=None, retry_deadline=None, max_retry_after=None, refresh_ratio=None,
        _panic_on_fetch=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        token_url: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
        auth_method: Option<String>,
        scopes: Option<Vec<String>>,
        audience: Option<String>,
        resources: Option<Vec<String>>,
        extra_params: Option<Vec<(String, String)>>,
        timeout: Option<f64>,
        expiry_skew: Option<f64>,
        default_lifetime: Option<f64>,
        max_response_bytes: Option<f64>,
        allow_insecure_http: Option<bool>,
        max_attempts: Option<f64>,
        retry_backoff: Option<f64>,
        retry_max_backoff: Option<f64>,
        retry_deadline: Option<f64>,
        max_retry_after: Option<f64>,
        refresh_ratio: Option<f64>,
        _panic_on_fetch: bool,
    ) -> PyResult<Self> {
        let retry = RetryArgs {
            max_attempts,
            retry_backoff,
            retry_max_backoff,
            retry_deadline,
            max_retry_after,
            refresh_ratio,
            panic_on_fetch: _panic_on_fetch,
        };
        let opts = options(
            token_url,
            client_id,
            client_secret,
            auth_method,
            scopes,
            audience,
            resources,
            extra_params,
            timeout,
            expiry_skew,
            default_lifetime,
            max_response_bytes,
            allow_insecure_http,
            retry,
        );
        Self::build(opts.apply(TokenClientBuilder::new()).map_err(to_py_err)?)
    }

    /// A client for a SecureAuth Connect workspace.
    #[staticmethod]
    #[pyo3(signature = (*, tenant, region, workspace, client_id=None, client_secret=None, auth_method=None,
        scopes=None, audience=None, resources=None, extra_params=None, timeout=None, expiry_skew=None,
        default_lifetime=None, max_response_bytes=None, max_attempts=None, retry_backoff=None,
        retry_max_backoff=None, retry_deadline=None, max_retry_after=None, refresh_ratio=None))]
    #[allow(clippy::too_many_arguments)]
    fn secureauth(
        tenant: &str,
        region: &str,
        workspace: &str,
        client_id: Option<String>,
        client_secret: Option<String>,
        auth_method: Option<String>,
        scopes: Option<Vec<String>>,
        audience: Option<String>,
        resources: Option<Vec<String>>,
        extra_params: Option<Vec<(String, String)>>,
        timeout: Option<f64>,
        expiry_skew: Option<f64>,
        default_lifetime: Option<f64>,
        max_response_bytes: Option<f64>,
        max_attempts: Option<f64>,
        retry_backoff: Option<f64>,
        retry_max_backoff: Option<f64>,
        retry_deadline: Option<f64>,
        max_retry_after: Option<f64>,
        refresh_ratio: Option<f64>,
    ) -> PyResult<Self> {
        let base = TokenClient::secureauth(tenant, region, workspace).map_err(to_py_err)?;
        let retry = RetryArgs {
            max_attempts,
            retry_backoff,
            retry_max_backoff,
            retry_deadline,
            max_retry_after,
            refresh_ratio,
            panic_on_fetch: false,
        };
        let opts = options(
            None,
            client_id,
            client_secret,
            auth_method,
            scopes,
            audience,
            resources,
            extra_params,
            timeout,
            expiry_skew,
            default_lifetime,
            max_response_bytes,
            None,
            retry,
        );
        Self::build(opts.apply(base).map_err(to_py_err)?)
    }

    /// A client configured from the M2M_* environment variables.
    #[staticmethod]
    fn from_env() -> PyResult<Self> {
        Self::build(m2m_auth::env::builder_from_env().map_err(to_py_err)?)
    }

    /// The access token (cached while fresh). Releases the GIL while it waits for the token endpoint.
    #[pyo3(signature = (*, scopes=None, audience=None, resources=None))]
    fn get_token(
        &self,
        py: Python<'_>,
        scopes: Option<Vec<String>>,
        audience: Option<String>,
        resources: Option<Vec<String>>,
    ) -> PyResult<Py<PyString>> {
        let client = self.client()?;
        let params = Self::params(&client, scopes, audience, resources)?;
        let token = self.blocking_token(py, &client, params.as_ref())?;
        Ok(self.token_str(py, token, params.is_none()))
    }

    /// The token with its type, scope and expiry (same cache as get_token).
    #[pyo3(signature = (*, scopes=None, audience=None, resources=None))]
    fn fetch_token(
        &self,
        py: Python<'_>,
        scopes: Option<Vec<String>>,
        audience: Option<String>,
        resources: Option<Vec<String>>,
    ) -> PyResult<PyToken> {
        let client = self.client()?;
        let params = Self::params(&client, scopes, audience, resources)?;
        Ok(PyToken::from(self.blocking_token(
            py,
            &client,
            params.as_ref(),
        )?))
    }

    /// Awaitable get_token for asyncio.
    #[pyo3(signature = (*, scopes=None, audience=None, resources=None))]
    fn get_token_async<'py>(
        &self,
        py: Python<'py>,
        scopes: Option<Vec<String>>,
        audience: Option<String>,
        resources: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client()?;
        let params = Self::params(&client, scopes, audience, resources)?;
        let cached = client
            .cached(params.as_ref())
            .map(|t| self.token_str(py, t, params.is_none()).into_any());
        spawn_for_asyncio(py, cached, async move {
            let token = match &params {
                Some(p) => client.token_for(p).await,
                None => client.token().await,
            }?;
            Ok(Box::new(move |py: Python<'_>| {
                Ok(PyString::new(py, token.access_token()).into_any().unbind())
            }) as crate::asyncio::ToPy)
        })
    }

    /// Awaitable fetch_token for asyncio.
    #[pyo3(signature = (*, scopes=None, audience=None, resources=None))]
    fn fetch_token_async<'py>(
        &self,
        py: Python<'py>,
        scopes: Option<Vec<String>>,
        audience: Option<String>,
        resources: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client()?;
        let params = Self::params(&client, scopes, audience, resources)?;
        let cached = match client.cached(params.as_ref()) {
            Some(t) => Some(Bound::new(py, PyToken::from(t))?.into_any().unbind()),
            None => None,
        };
        spawn_for_asyncio(py, cached, async move {
            let token = match &params {
                Some(p) => client.token_for(p).await,
                None => client.token().await,
            }?;
            Ok(Box::new(move |py: Python<'_>| {
                Ok(Bound::new(py, PyToken::from(token))?.into_any().unbind())
            }) as crate::asyncio::ToPy)
        })
    }

    /// Drops the cached tokens; the next call fetches a new one. With `token` (the one an API rejected), drops
    /// it only if it is still cached, so that many callers rejecting one token cause one new fetch. Returns
    /// whether a token was dropped.
    #[pyo3(signature = (token=None))]
    fn invalidate(&self, token: Option<&str>) -> PyResult<bool> {
        let client = self.client()?;
        Ok(match token {
            Some(t) => client.invalidate_token(t),
            None => {
                client.invalidate();
                true
            }
        })
    }

    /// Counters: hits, misses, fetches, failures, last_error.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.client()?.stats();
        let d = PyDict::new(py);
        d.set_item("hits", s.hits)?;
        d.set_item("misses", s.misses)?;
        d.set_item("fetches", s.fetches)?;
        d.set_item("refreshes", s.refreshes)?;
        d.set_item("failures", s.failures)?;
        d.set_item("last_error", s.last_error)?;
        Ok(d)
    }

    #[getter]
    fn token_url(&self) -> PyResult<String> {
        Ok(self.client()?.token_url().to_owned())
    }

    #[getter]
    fn client_id(&self) -> PyResult<String> {
        Ok(self.client()?.client_id().to_owned())
    }

    #[getter]
    fn auth_method(&self) -> PyResult<&'static str> {
        Ok(self.client()?.auth_method().as_str())
    }

    #[getter]
    fn scopes(&self) -> PyResult<Vec<String>> {
        Ok(self.client()?.scopes().to_vec())
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(self.client()?.describe())
    }
}
