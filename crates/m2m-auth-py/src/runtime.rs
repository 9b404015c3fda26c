//! The tokio runtime behind the Python package: one per process, built on first use and built again in a
//! child after `os.fork()` (gunicorn --preload, multiprocessing), whose copy of the parent's runtime has no
//! threads. The package registers `after_fork_in_child` with `os.register_at_fork`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::runtime::Runtime;

use crate::errors::InternalError;
use pyo3::PyResult;

/// Bumped in the child after every fork; clients compare it to know that their HTTP connections and
/// in-flight fetches belong to a runtime that no longer runs.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);
static RUNTIME: Mutex<Option<(u64, Arc<Runtime>)>> = Mutex::new(None);

pub fn generation() -> u64 {
    FORK_GENERATION.load(Ordering::Acquire)
}

pub fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::AcqRel);
}

pub fn get() -> PyResult<Arc<Runtime>> {
    let generation = generation();
    let mut guard = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((built_in, runtime)) = guard.as_ref()
        && *built_in == generation
    {
        return Ok(Arc::clone(runtime));
    }
    if let Some((_, stale)) = guard.take() {
        // The parent's runtime: its worker threads do not exist in this process, so dropping it would wait
        // for them forever. Leak it instead; it is one allocation per fork.
        std::mem::forget(stale);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("m2m-auth")
        .enable_all()
        .build()
        .map_err(|e| InternalError::new_err(format!("cannot start the m2m-auth runtime: {e}")))?;
    let runtime = Arc::new(runtime);
    *guard = Some((generation, Arc::clone(&runtime)));
    Ok(runtime)
}
