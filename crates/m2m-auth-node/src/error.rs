//! Core errors cross into JavaScript as a `napi::Error` whose reason is a tagged JSON record; `node/errors.js`
//! turns it into an `OAuthError`, `TransportError`, … with a stable `code`. (An async napi function cannot
//! build a JS object itself, so the data travels as text.)

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use napi::Status;
use serde_json::json;

use m2m_auth::Error;
use m2m_auth::settings::{self, Surface};

/// Marks a reason as ours, so that the JS side never mistakes another message for a record.
pub const TAG: &str = "\u{0}m2m-auth:";

pub fn to_napi(e: Error) -> napi::Error {
    let mut record = json!({
        "code": e.kind().code(),
        "name": e.kind().class_name(),
        "message": e.message_on(Surface::Node),
        "status": e.status(),
        "attempts": e.attempts(),
    });
    match &e {
        Error::OAuth(o) => {
            record["error"] = json!(o.error);
            record["errorDescription"] = json!(o.error_description);
            record["errorUri"] = json!(o.error_uri);
        }
        Error::Transport { timeout, .. } => record["timeout"] = json!(timeout),
        Error::Config { field, .. } => {
            record["field"] = json!(settings::name_on(field, Surface::Node))
        }
        _ => {}
    }
    napi::Error::new(Status::GenericFailure, format!("{TAG}{record}"))
}

/// A configuration error about a name exactly as the caller wrote it (an unknown option): neither the field
/// nor the message is rendered, since the name may happen to be a core name of a setting (`timeout`).
pub fn config_error_as_written(field: &str, message: &str) -> napi::Error {
    let record = json!({
        "code": m2m_auth::ErrorKind::Config.code(),
        "name": m2m_auth::ErrorKind::Config.class_name(),
        "message": format!("{field} {message}"),
        "status": null,
        "attempts": 0,
        "field": field,
    });
    napi::Error::new(Status::GenericFailure, format!("{TAG}{record}"))
}

pub fn internal(message: impl Into<String>) -> napi::Error {
    to_napi(Error::Internal(message.into()))
}

/// Runs a future, turning a panic inside it into an `ERR_INTERNAL` rejection instead of an abort.
pub async fn guarded<T, F>(fut: F) -> napi::Result<T>
where
    F: Future<Output = napi::Result<T>>,
{
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(internal(format!(
            "m2m-auth panicked: {}",
            m2m_auth::panic_message(panic)
        ))),
    }
}

/// The same for synchronous calls.
pub fn guarded_sync<T>(f: impl FnOnce() -> napi::Result<T>) -> napi::Result<T> {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => Err(internal(format!(
            "m2m-auth panicked: {}",
            m2m_auth::panic_message(panic)
        ))),
    }
}
