//! The in-process cache: a slot per parameter set (current token, fetch in flight), the freshness rules that
//! say how long a token may be handed out, the watcher that keeps the bindings' mirrors current, and stats.

pub(crate) mod freshness;
pub(crate) mod shared;
pub(crate) mod slot;
pub(crate) mod stats;
pub(crate) mod watch;
