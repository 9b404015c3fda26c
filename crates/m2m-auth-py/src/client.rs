//! `m2m_auth.TokenClient`: converts keyword arguments, releases the GIL while waiting, bridges asyncio, and
//! maps errors. Every decision (caching, freshness, single flight) is the core's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use m2m_auth::{TokenClient, TokenClientBuilder, TokenParams};

use crate::api::{PyApiResponse, api_request};
use crate::asyncio::spawn_for_asyncio;
use crate::errors::to_py_err;
use crate::mirror::Mirror;
use crate::options::{Constructor, call_params, client_options, text};
use crate::runtime;
use crate::token::PyToken;

#[derive(Debug)]
#[pyclass(name = "TokenClient", module = "m2m_auth", frozen)]
pub struct PyTokenClient {
    /// Kept to build the client again in a forked child (see `runtime`).
    builder: TokenClientBuilder,
    current: RwLock<(u64, TokenClient)>,
    /// The generation of `current`, readable without its lock for the cache-hit path.
    generation: AtomicU64,
    /// The default token as the core last reported it: cache hits are answered there.
    mirror: Arc<Mirror>,
}

/// An object of one of the HTTP integrations (plain Python modules, importable only where their HTTP library
/// is installed) wrapping `client`.
fn integration<'py>(
    client: &Bound<'py, PyTokenClient>,
    module: &str,
    class: &str,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    client
        .py()
        .import(module)?
        .getattr(class)?
        .call((client,), kwargs)
}

impl PyTokenClient {
    /// Builds the core client on this process's runtime, with events going to `logging` and changes of the
    /// default token to `mirror`.
    fn core(builder: &TokenClientBuilder, mirror: &Arc<Mirror>) -> PyResult<TokenClient> {
        builder
            .clone()
            .runtime(runtime::get()?.handle().clone())
            .on_event(crate::logging::hook())
            .watch_token(mirror.watcher())
            .build()
            .map_err(to_py_err)
    }

    fn build(builder: TokenClientBuilder) -> PyResult<Self> {
        let mirror = Mirror::new();
        let client = Self::core(&builder, &mirror)?;
        let generation = runtime::generation();
        Ok(Self {
            builder,
            current: RwLock::new((generation, client)),
            generation: AtomicU64::new(generation),
            mirror,
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
        self.mirror.reset();
        let fresh = Self::core(&self.builder, &self.mirror)?;
        let mut guard = self.current.write().unwrap_or_else(PoisonError::into_inner);
        *guard = (generation, fresh.clone());
        self.generation.store(generation, Ordering::SeqCst);
        Ok(fresh)
    }

    /// This process's core client and the call's parameters (`None` when the call asks for nothing beyond the
    /// client's own settings, so that it takes the fast default path).
    fn client_and_params(
        &self,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<(TokenClient, Option<TokenParams>)> {
        let client = self.client()?;
        let params = call_params(&client, kwargs)?;
        Ok((client, params))
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
        self.mirror.string_for(py, &token)
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
    /// Keyword arguments as in the stub (`_native.pyi`); see `options::client_options`.
    #[new]
    #[pyo3(signature = (**kwargs))]
    fn new(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let opts = client_options(kwargs, Constructor::New)?;
        Self::build(opts.apply(TokenClientBuilder::new()).map_err(to_py_err)?)
    }

    /// A client for a SecureAuth Connect workspace: `tenant`, `region`, `workspace` and the client settings.
    #[staticmethod]
    #[pyo3(signature = (**kwargs))]
    fn secureauth(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let opts = client_options(kwargs, Constructor::SecureAuth)?;
        opts.require_workspace().map_err(to_py_err)?;
        Self::build(opts.apply(TokenClientBuilder::new()).map_err(to_py_err)?)
    }

    /// A client whose token endpoint is read from the issuer's metadata at first use.
    #[staticmethod]
    #[pyo3(signature = (issuer, /, **kwargs))]
    fn from_issuer(
        issuer: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let issuer = text("issuer", issuer)?;
        let opts = client_options(kwargs, Constructor::FromIssuer)?;
        Self::build(
            opts.apply(TokenClient::from_issuer(issuer))
                .map_err(to_py_err)?,
        )
    }

    /// A client configured from the M2M_* environment variables.
    #[staticmethod]
    fn from_env() -> PyResult<Self> {
        Self::build(m2m_auth::env::builder_from_env().map_err(to_py_err)?)
    }

    /// The access token (cached while fresh). Releases the GIL while it waits for the token endpoint.
    #[pyo3(signature = (**kwargs))]
    fn get_token(
        &self,
        py: Python<'_>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyString>> {
        // The common call: the client's own token, still within what the core said it may be served for.
        if kwargs.is_none_or(|k| k.is_empty())
            && self.generation.load(Ordering::Relaxed) == runtime::generation()
            && let Some(token) = self.mirror.hit(py)
        {
            return Ok(token);
        }
        let (client, params) = self.client_and_params(kwargs)?;
        let token = self.blocking_token(py, &client, params.as_ref())?;
        Ok(self.token_str(py, token, params.is_none()))
    }

    /// The token with its type, scope and expiry (same cache as get_token).
    #[pyo3(signature = (**kwargs))]
    fn fetch_token(&self, py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<PyToken> {
        let (client, params) = self.client_and_params(kwargs)?;
        Ok(PyToken::from(self.blocking_token(
            py,
            &client,
            params.as_ref(),
        )?))
    }

    /// Awaitable get_token for asyncio.
    #[pyo3(signature = (**kwargs))]
    fn get_token_async<'py>(
        &self,
        py: Python<'py>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if kwargs.is_none_or(|k| k.is_empty())
            && self.generation.load(Ordering::Relaxed) == runtime::generation()
            && let Some(future) = self.mirror.hit_async(py)?
        {
            return Ok(future);
        }
        let (client, params) = self.client_and_params(kwargs)?;
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
    #[pyo3(signature = (**kwargs))]
    fn fetch_token_async<'py>(
        &self,
        py: Python<'py>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (client, params) = self.client_and_params(kwargs)?;
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

    /// `url`, normalised, if the client may send its token there (https, or plain http to loopback or with
    /// `allow_insecure_http`); else a `ConfigError`. The HTTP integrations ask before every request.
    fn check_api_url(&self, url: &str) -> PyResult<String> {
        Ok(self.client()?.check_api_url(url).map_err(to_py_err)?.into())
    }

    /// Drops the cached tokens; the next call fetches a new one. With `token` (the one an API rejected), drops
    /// it only if it is still cached, so that many callers rejecting one token cause one new fetch. Returns
    /// whether a token was dropped.
    #[pyo3(signature = (token=None))]
    fn invalidate(&self, token: Option<&str>) -> PyResult<bool> {
        let client = self.client()?;
        let holds = token.is_some_and(|t| self.mirror.holds(t));
        let outcome = client.invalidate_mirrored(token, holds);
        self.mirror.apply(outcome.mirror);
        Ok(outcome.dropped)
    }

    /// One request to a protected API with this client's token, through the core: the client certificate is
    /// presented (certificate-bound tokens need it) and a rejected token is replaced once. Releases the GIL.
    #[pyo3(signature = (method, url, *, headers=None, body=None, timeout=30.0))]
    fn call(
        &self,
        py: Python<'_>,
        method: &str,
        url: &str,
        headers: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
        timeout: f64,
    ) -> PyResult<PyApiResponse> {
        let request = api_request(method, url, headers, body, timeout)?;
        let client = self.client()?;
        let rt = runtime::get()?;
        py.detach(|| rt.block_on(client.call(&request)))
            .map(PyApiResponse::from)
            .map_err(to_py_err)
    }

    /// Awaitable `call` for asyncio.
    #[pyo3(signature = (method, url, *, headers=None, body=None, timeout=30.0))]
    fn call_async<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        url: &str,
        headers: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = api_request(method, url, headers, body, timeout)?;
        let client = self.client()?;
        spawn_for_asyncio(py, None, async move {
            let answer = client.call(&request).await?;
            Ok(Box::new(move |py: Python<'_>| {
                Ok(Bound::new(py, PyApiResponse::from(answer))?
                    .into_any()
                    .unbind())
            }) as crate::asyncio::ToPy)
        })
    }

    /// This client as a `requests` auth: `m2m_auth.requests.BearerAuth(client, **kwargs)`.
    #[pyo3(signature = (**kwargs))]
    fn requests_auth<'py>(
        slf: &Bound<'py, Self>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        integration(slf, "m2m_auth.requests", "BearerAuth", kwargs)
    }

    /// This client as an `httpx.Auth` (sync and async): `m2m_auth.httpx.BearerAuth(client, **kwargs)`.
    #[pyo3(signature = (**kwargs))]
    fn httpx_auth<'py>(
        slf: &Bound<'py, Self>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        integration(slf, "m2m_auth.httpx", "BearerAuth", kwargs)
    }

    /// A `requests` transport adapter through the core (certificate-bound tokens):
    /// `m2m_auth.requests.CoreAdapter(client)`.
    fn requests_adapter<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        integration(slf, "m2m_auth.requests", "CoreAdapter", None)
    }

    /// An `httpx` transport (sync and async) through the core (certificate-bound tokens):
    /// `m2m_auth.httpx.CoreTransport(client)`.
    fn httpx_transport<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        integration(slf, "m2m_auth.httpx", "CoreTransport", None)
    }

    /// This client as an `aiohttp` middleware for `origins`:
    /// `m2m_auth.aiohttp.BearerAuthMiddleware(client, origins=…, **kwargs)`.
    #[pyo3(signature = (**kwargs))]
    fn aiohttp_middleware<'py>(
        slf: &Bound<'py, Self>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        integration(slf, "m2m_auth.aiohttp", "BearerAuthMiddleware", kwargs)
    }

    /// Counters: hits, misses, fetches, refreshes, failures, last_error, and the shared cache's shared_hits,
    /// shared_misses, shared_errors, shared_rejected, lock_waits.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.client()?.stats();
        let d = PyDict::new(py);
        d.set_item("hits", s.hits + self.mirror.hits())?;
        d.set_item("misses", s.misses)?;
        d.set_item("fetches", s.fetches)?;
        d.set_item("refreshes", s.refreshes)?;
        d.set_item("failures", s.failures)?;
        d.set_item("last_error", s.last_error)?;
        d.set_item("shared_hits", s.shared_hits)?;
        d.set_item("shared_misses", s.shared_misses)?;
        d.set_item("shared_errors", s.shared_errors)?;
        d.set_item("shared_rejected", s.shared_rejected)?;
        d.set_item("lock_waits", s.lock_waits)?;
        Ok(d)
    }

    /// The token endpoint; None until discovery (`from_issuer`) has found it.
    #[getter]
    fn token_url(&self) -> PyResult<Option<String>> {
        Ok(self.client()?.token_url().map(str::to_owned))
    }

    #[getter]
    fn issuer(&self) -> PyResult<Option<String>> {
        Ok(self.client()?.issuer().map(str::to_owned))
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
