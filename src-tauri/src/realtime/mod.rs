//! The realtime session with the hub (Web PubSub's reliable JSON subprotocol).
//!
//! # Layout
//! - `frame`: requests and incoming frames as typed values (pure).
//! - `sequence`: duplicate dropping and cumulative `sequenceAck` timing (pure).
//! - `backoff`: reconnect delays with jitter (pure).
//! - `wake`: sleep detection from wall-clock jumps (pure).
//!
//! The task that owns the socket (connect, resume, reconnect, ack timeouts, offline queue) builds
//! on these; none of them does I/O or reads a clock on its own.

pub mod backoff;
pub mod frame;
pub mod sequence;
pub mod wake;
