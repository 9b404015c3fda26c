//! The native addon of the `m2m-auth` npm package. `node/index.js` and `node/testing.js` wrap it.

mod client;
mod error;
mod events;
mod mock;

/// Marks error reasons that carry a JSON error record (see `error.rs`).
#[napi_derive::napi]
pub const ERROR_TAG: &str = error::TAG;
