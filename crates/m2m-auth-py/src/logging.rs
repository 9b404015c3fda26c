//! Feeds the core's events into Python's `logging`, logger `m2m_auth`, so services see m2m-auth in the logs
//! they already collect. Events are rare (requests, retries, failures, refreshes), never on the cache-hit
//! path, so taking the GIL for them costs nothing that matters.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use m2m_auth::{Event, EventHook, EventLevel};

static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn level(l: EventLevel) -> i32 {
    match l {
        EventLevel::Debug => 10,
        EventLevel::Info => 20,
        EventLevel::Warn => 30,
        EventLevel::Error => 40,
    }
}

fn log(py: Python<'_>, event: &Event) -> PyResult<()> {
    let logger = LOGGER.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py
            .import("logging")?
            .call_method1("getLogger", ("m2m_auth",))?
            .unbind())
    })?;
    let logger = logger.bind(py);
    let lvl = level(event.level);
    if !logger.call_method1("isEnabledFor", (lvl,))?.is_truthy()? {
        return Ok(());
    }
    let extra = PyDict::new(py);
    extra.set_item("m2m_event", event.kind.as_str())?;
    extra.set_item("m2m_client_id", &event.client_id)?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("extra", extra)?;
    logger.call_method("log", (lvl, "%s", &event.message), Some(&kwargs))?;
    Ok(())
}

/// The hook every Python client is built with.
pub fn hook() -> EventHook {
    EventHook::new(|event| {
        // At interpreter shutdown there is no logging left to feed.
        Python::try_attach(|py| {
            if let Err(e) = log(py, event) {
                e.write_unraisable(py, None);
            }
        });
    })
}
