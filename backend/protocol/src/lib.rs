//! Wire types shared by the Chatr desktop app and the Chatr backend.
//!
//! Everything that crosses the network between `chatr-desktop` and `chatr-backend` is declared here
//! once, as plain serde types, so both sides agree by construction.
//!
//! # Layout
//! - [`auth`]: the identity providers a backend accepts and the token exchange request.
//! - [`health`]: the `GET /api/health` response.
//! - [`model`]: the nouns: users, chats, messages, presence.
//! - [`client_event`]: what a client sends the backend, as Web PubSub `event` frames.
//! - [`server_event`]: what the backend sends clients, as `{ "chatEvent", "data" }` messages, and the
//!   in-band reply to every client event.
//! - [`webhook`]: how the Web PubSub service must be configured to reach the backend (the event
//!   handler path and events), shared with the deployment templates' tests.
//!
//! This crate must never do I/O or depend on an async runtime: it is values and their JSON shape only.
//! Event names exist only here, as enum variants; no other crate spells them as string literals.

pub mod auth;
pub mod client_event;
pub mod health;
pub mod model;
pub mod server_event;
pub mod webhook;

pub use auth::{AuthProvider, TokenKind, TokenRequest};
pub use client_event::ClientEvent;
pub use health::{Health, HealthStatus};
pub use model::{Chat, ChatKind, ChatPage, ChatView, Message, Presence, SignIn, User};
pub use server_event::{ErrorCode, Reply, ServerEvent};
