//! Core events to a JavaScript callback (`onEvent`, and the NODE_DEBUG=m2m-auth output built on it). The
//! callback is called on the JS thread through a thread-safe function that does not keep the process alive.

use napi::bindgen_prelude::ToNapiValue;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Status, sys};
use serde_json::json;

use m2m_auth::{EventHook, TokenUpdate, TokenWatcher};

/// A JS function `(eventJson: string) => void`; weak, so a pending event never holds the event loop open.
pub type EventCallback = ThreadsafeFunction<String, (), String, Status, false, true>;

pub fn event_hook(callback: EventCallback) -> EventHook {
    EventHook::new(move |event| {
        let record = json!({
            "level": event.level.as_str(),
            "kind": event.kind.as_str(),
            "clientId": event.client_id,
            "message": event.message,
        });
        // Non-blocking: a slow listener loses events rather than stalling token fetches.
        let _ = callback.call(record.to_string(), ThreadsafeFunctionCallMode::NonBlocking);
    })
}

/// A JS function `(updateJson: string) => void` for the changes of the default token; weak as well.
pub type TokenCallback = ThreadsafeFunction<MirrorUpdate, (), MirrorUpdate, Status, false, true>;

/// A change of the default token on its way to the JS thread. It becomes JSON text `{seq, token, serveForMs}`
/// (`token` null once dropped) only there, as the callback runs: `serveForMs` then counts from that moment,
/// so an update that waited behind a busy event loop cannot serve a token longer than the core allows.
#[derive(Debug)]
pub struct MirrorUpdate(TokenUpdate);

impl ToNapiValue for MirrorUpdate {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let update = val.0;
        let record = json!({
            "seq": update.seq,
            "token": update.token.as_ref().map(|t| t.access_token()),
            "serveForMs": update.serve_for().as_secs_f64() * 1000.0,
        });
        // SAFETY: called by napi on the JS thread with its own env, as `ToNapiValue` requires.
        unsafe { String::to_napi_value(env, record.to_string()) }
    }
}

/// Changes of the default token to a JS callback. Non-blocking too: a lost update only means the mirror asks
/// the core until the next one.
pub fn token_watcher(callback: TokenCallback) -> TokenWatcher {
    TokenWatcher::new(move |update| {
        let _ = callback.call(
            MirrorUpdate(update),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    })
}
