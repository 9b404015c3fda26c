//! Core events to a JavaScript callback (`onEvent`, and the NODE_DEBUG=m2m-auth output built on it). The
//! callback is called on the JS thread through a thread-safe function that does not keep the process alive.

use napi::Status;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use serde_json::json;

use m2m_auth::{EventHook, TokenWatcher};

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

/// Changes of the default token to a JS callback, as JSON text `{seq, token, serveForMs}` (`token` null once
/// dropped). Non-blocking too: a lost update only means the mirror asks the core until the next one.
pub fn token_watcher(callback: EventCallback) -> TokenWatcher {
    TokenWatcher::new(move |update| {
        let record = json!({
            "seq": update.seq,
            "token": update.token.as_ref().map(|t| t.access_token()),
            "serveForMs": update.serve_for.as_secs_f64() * 1000.0,
        });
        let _ = callback.call(record.to_string(), ThreadsafeFunctionCallMode::NonBlocking);
    })
}
