//! The native side of `m2m_auth.testing.RedisServer`: a real `redis-server` on a free port of 127.0.0.1, for
//! tests of the shared cache (`m2m_auth_mock::RedisServer`).

use std::sync::{Mutex, PoisonError};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use m2m_auth_mock::RedisServer;

#[derive(Debug)]
#[pyclass(name = "RedisServer", module = "m2m_auth._native", frozen)]
pub struct PyRedisServer(Mutex<RedisServer>);

fn failed(e: m2m_auth_mock::MockError) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

impl PyRedisServer {
    fn server(&self) -> std::sync::MutexGuard<'_, RedisServer> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[pymethods]
impl PyRedisServer {
    /// Starts `redis-server` without persistence and waits until it answers.
    #[new]
    fn new(py: Python<'_>) -> PyResult<Self> {
        py.detach(RedisServer::start)
            .map(|s| Self(Mutex::new(s)))
            .map_err(failed)
    }

    #[getter]
    fn url(&self) -> String {
        self.server().url()
    }

    #[getter]
    fn pid(&self) -> Option<u32> {
        self.server().pid()
    }

    /// Kills it (SIGKILL), keeping its port.
    fn stop(&self, py: Python<'_>) {
        py.detach(|| self.server().stop());
    }

    /// Starts it again on its port, empty.
    fn restart(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.server().restart()).map_err(failed)
    }
}
