//! Core events to a JavaScript callback (`onEvent`, and the NODE_DEBUG=m2m-auth output built on it). The
//! callback is called on the JS thread through a thread-safe function that does not keep the process alive.

use napi::Status;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use serde_json::json;

use m2m_auth::EventHook;

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
