//! Bridges a core future to an asyncio future: the work runs on the m2m-auth runtime, and its result is
//! handed to the event loop with `call_soon_threadsafe`, so the loop never blocks and never sees another
//! thread touch its future.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use pyo3::prelude::*;

use crate::errors::{InternalError, to_py_err};
use crate::runtime;

/// Builds the Python result once the GIL is held again.
pub type ToPy = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// Returns an asyncio future of the running loop. `ready` (a cached answer) resolves it at once.
pub fn spawn_for_asyncio<'py, F>(
    py: Python<'py>,
    ready: Option<Py<PyAny>>,
    work: F,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<ToPy, m2m_auth::Error>> + Send + 'static,
{
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let future = event_loop.call_method0("create_future")?;
    if let Some(value) = ready {
        future.call_method1("set_result", (value,))?;
        return Ok(future);
    }
    let rt = runtime::get()?;
    let future_ref = future.clone().unbind();
    let loop_ref = event_loop.unbind();
    rt.spawn(async move {
        let outcome = AssertUnwindSafe(work).catch_unwind().await;
        // At interpreter shutdown there is nobody left to tell.
        Python::try_attach(|py| {
            let (ok, value): (bool, Py<PyAny>) = match outcome {
                Ok(Ok(to_py)) => match to_py(py) {
                    Ok(v) => (true, v),
                    Err(e) => (false, e.into_value(py).into_any()),
                },
                Ok(Err(e)) => (false, to_py_err(e).into_value(py).into_any()),
                Err(panic) => (
                    false,
                    InternalError::new_err(format!(
                        "m2m-auth panicked: {}",
                        m2m_auth::panic_message(panic)
                    ))
                    .into_value(py)
                    .into_any(),
                ),
            };
            let settle = match wrap_pyfunction!(settle, py) {
                Ok(f) => f,
                Err(e) => return e.write_unraisable(py, None),
            };
            // Fails only when the loop is closed: the awaiting code is gone, and so is the point of telling it.
            let _ =
                loop_ref.call_method1(py, "call_soon_threadsafe", (settle, future_ref, ok, value));
        });
    });
    Ok(future)
}

/// Runs on the event loop's thread. A future cancelled meanwhile (`asyncio.wait_for` timing out) is done
/// already and must not be set again.
#[pyfunction]
fn settle(future: &Bound<'_, PyAny>, ok: bool, value: Bound<'_, PyAny>) -> PyResult<()> {
    if future.call_method0("done")?.is_truthy()? {
        return Ok(());
    }
    if ok {
        future.call_method1("set_result", (value,))?;
    } else {
        future.call_method1("set_exception", (value,))?;
    }
    Ok(())
}
