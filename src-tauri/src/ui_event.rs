//! Rust → UI events: one tagged enum on one event name, `chatr://ui`. The only emitter.

use serde::Serialize;
use tauri::{AppHandle, Emitter};

use crate::realtime::session::{ConnectionState, SessionEvent};

/// The event name the UI listens on.
pub const EVENT: &str = "chatr://ui";

/// Everything the UI hears from Rust.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "camelCase")]
pub enum UiEvent {
    /// The realtime connection's state: `connecting`, `connected`, `reconnecting`, `closed`.
    Connection {
        /// The state's name.
        state: &'static str,
        /// Reconnect attempt, or why it closed.
        detail: Option<String>,
    },
    /// A push from the backend (`{chatEvent, data}`).
    Server(chatr_protocol::ServerEvent),
    /// Another member is typing in a chat.
    #[serde(rename_all = "camelCase")]
    Typing {
        /// The chat.
        chat_id: String,
        /// Who.
        user_id: String,
    },
}

impl From<SessionEvent> for UiEvent {
    fn from(event: SessionEvent) -> Self {
        match event {
            SessionEvent::Server(event) => Self::Server(event),
            SessionEvent::Typing { chat_id, user_id } => Self::Typing { chat_id, user_id },
            SessionEvent::State(state) => {
                let (state, detail) = match state {
                    ConnectionState::Connecting => ("connecting", None),
                    ConnectionState::Connected => ("connected", None),
                    ConnectionState::Reconnecting(n) => ("reconnecting", Some(n.to_string())),
                    ConnectionState::Closed(why) => ("closed", Some(why)),
                };
                Self::Connection { state, detail }
            }
        }
    }
}

/// Sends `event` to the UI; a failure (no window yet) is logged.
pub fn emit(app: &AppHandle, event: UiEvent) {
    if let Err(err) = app.emit(EVENT, event) {
        tracing::warn!(cause = %err, "cannot send an event to the UI");
    }
}
