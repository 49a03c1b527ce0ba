//! The signed-in session's event loop: takes what the realtime session hears, makes every chat
//! message exactly-once ([`Inbox`]), fills the gap from history after a fresh connection, and
//! hands the result to an [`Outlet`] (the app: UI, unread counts, notifications, tray).
//!
//! Why a loop of its own: the session task must never wait on HTTP (it owns the socket), and the
//! UI must never see a message twice or miss one a drop swallowed. How: one task per sign-in;
//! messages pass the inbox in arrival order; on [`SessionEvent::NewConnection`] it asks the
//! history API for everything after each chat's watermark and feeds that through the same inbox.
//! Never emits anything that did not come from the backend.

use std::sync::{Arc, Mutex, PoisonError};

use chatr_protocol::ServerEvent;
use tokio::sync::mpsc;

use crate::chat_client::SignedIn;
use crate::inbox::Inbox;
use crate::realtime::session::SessionEvent;
use crate::ui_event::UiEvent;

/// Where the loop's results go.
pub trait Outlet: Send + Sync + 'static {
    /// An event for the UI (and whatever else follows messages: unread counts, notifications).
    fn deliver(&self, event: UiEvent);
    /// A fresh connection is open: re-assert what the server keeps per connection (idle state).
    fn new_connection(&self) {}
}

/// The inbox shared by the loop and the history command (a loaded page counts as seen).
pub type SharedInbox = Arc<Mutex<Inbox>>;

/// Runs until the session's event channel closes.
pub async fn run(
    signed: Arc<SignedIn>,
    mut events: mpsc::UnboundedReceiver<SessionEvent>,
    inbox: SharedInbox,
    outlet: Arc<dyn Outlet>,
) {
    while let Some(event) = events.recv().await {
        match event {
            SessionEvent::NewConnection => {
                outlet.new_connection();
                fill_gaps(&signed, &inbox, outlet.as_ref()).await;
            }
            SessionEvent::Server(ServerEvent::Message { message }) => {
                if lock(&inbox).receive(&message.chat_id, message.seq) {
                    outlet.deliver(UiEvent::Server(ServerEvent::Message { message }));
                }
            }
            SessionEvent::Server(event) => {
                if let ServerEvent::ChatDeleted { chat_id } = &event {
                    lock(&inbox).forget(chat_id);
                }
                outlet.deliver(UiEvent::Server(event));
            }
            SessionEvent::State(state) => outlet.deliver(UiEvent::from_state(state)),
            SessionEvent::Typing { chat_id, user_id } => {
                outlet.deliver(UiEvent::Typing { chat_id, user_id });
            }
        }
    }
}

/// Fetches, per known chat, what came after its watermark, and delivers what is new.
async fn fill_gaps(signed: &SignedIn, inbox: &SharedInbox, outlet: &dyn Outlet) {
    let gaps = lock(inbox).gaps();
    for (chat, after) in gaps {
        match signed.history_after(&chat, after).await {
            Ok(messages) => {
                for message in messages {
                    if lock(inbox).receive(&message.chat_id, message.seq) {
                        outlet.deliver(UiEvent::Server(ServerEvent::Message { message }));
                    }
                }
            }
            // A chat deleted or left meanwhile has nothing for us; anything else is retried at
            // the next fresh connection, since the watermark did not move.
            Err(err) => tracing::info!(cause = %err, "cannot fill a chat's gap"),
        }
    }
}

fn lock(inbox: &SharedInbox) -> std::sync::MutexGuard<'_, Inbox> {
    inbox.lock().unwrap_or_else(PoisonError::into_inner)
}
