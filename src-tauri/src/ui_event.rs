//! Rust → UI events: one tagged enum on one event name, `chatr://ui`. The only emitter. The list
//! is the contract with the UI (`src-tauri/CONTRACT.md`, mirrored in `ui/src/types.ts`).

use serde::Serialize;
use tauri::{AppHandle, Emitter};

use crate::realtime::session::ConnectionState;

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
    /// Unread counts changed.
    Unread {
        /// Unread messages per chat id (chats with none are absent).
        counts: std::collections::BTreeMap<String, u32>,
        /// Their sum (what the tray shows).
        total: u32,
    },
    /// The user clicked a notification (or the tray) for a chat: show it.
    #[serde(rename_all = "camelCase")]
    OpenChat {
        /// The chat.
        chat_id: String,
    },
    /// The session ended without the UI asking (tray "Sign out", a refused sign-in).
    SignedOut {
        /// Why, for people; `None` when the user asked.
        reason: Option<String>,
    },
}

impl UiEvent {
    /// The banner's view of a connection state.
    pub fn from_state(state: ConnectionState) -> Self {
        let (state, detail) = match state {
            ConnectionState::Connecting => ("connecting", None),
            ConnectionState::Connected => ("connected", None),
            ConnectionState::Reconnecting(n) => ("reconnecting", Some(n.to_string())),
            ConnectionState::Closed(why) => ("closed", Some(why)),
        };
        Self::Connection { state, detail }
    }
}

/// Sends `event` to the UI; a failure (no window yet) is logged.
pub fn emit(app: &AppHandle, event: UiEvent) {
    if let Err(err) = app.emit(EVENT, event) {
        tracing::warn!(cause = %err, "cannot send an event to the UI");
    }
}
