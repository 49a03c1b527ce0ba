//! The realtime session with the hub (Web PubSub's reliable JSON subprotocol).
//!
//! # Layout
//! - `frame`: requests and incoming frames as typed values (pure).
//! - `sequence`: duplicate dropping and cumulative `sequenceAck` timing (pure).
//! - `backoff`: reconnect delays with jitter (pure).
//! - `wake`: sleep detection from wall-clock jumps (pure).
//!
//! - `session`: the task that owns the socket (connect, resume, reconnect, reply matching) and
//!   its cloneable handle; it is the only part here that does I/O.

pub mod backoff;
pub mod frame;
pub mod sequence;
pub mod session;
pub mod wake;
