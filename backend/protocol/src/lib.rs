//! Wire types shared by the Chatr desktop app and the Chatr backend.
//!
//! Everything that crosses the network between `chatr-desktop` and `chatr-backend` is declared here
//! once, as plain serde types, so both sides agree by construction.
//!
//! # Layout
//! - [`health`]: the `GET /api/health` response.
//!
//! This crate must never do I/O or depend on an async runtime: it is values and their JSON shape only.

pub mod health;

pub use health::{Health, HealthStatus};
