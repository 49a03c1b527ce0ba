//! The app's [`Outlet`]: where the session's events go — the UI (`chatr://ui`), and the idle state
//! re-asserted after a fresh connection. Holds the AppHandle; logic stays in the plain modules it
//! calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chatr_protocol::client_event::ClientEvent;
use tauri::{AppHandle, Manager};

use crate::chat_client::SignedIn;
use crate::dispatch::Outlet;
use crate::ui_event::{self, UiEvent};

/// Delivers to the window of `app`.
pub(crate) struct AppOutlet {
    pub(crate) app: AppHandle,
    pub(crate) signed: Arc<SignedIn>,
    /// Whether the OS last said "idle" (kept by the idle watcher).
    pub(crate) idle: Arc<AtomicBool>,
}

impl Outlet for AppOutlet {
    fn deliver(&self, event: UiEvent) {
        // The session stops for good only when signing in again failed: the UI shows sign-in.
        let ended = match &event {
            UiEvent::Connection {
                state: "closed",
                detail,
            } => Some(detail.clone()),
            _ => None,
        };
        let alerts = self.app.try_state::<crate::notify::alerts::Alerts>();
        let (me, idle) = (&self.signed.user.id, self.idle.load(Ordering::SeqCst));
        if let Some(alerts) = &alerts {
            alerts.on_ui_event(&self.app, &event, me, idle);
        }
        ui_event::emit(&self.app, event);
        if let Some(reason) = ended {
            let signed_out = UiEvent::SignedOut { reason };
            if let Some(alerts) = &alerts {
                alerts.on_ui_event(&self.app, &signed_out, me, idle);
            }
            ui_event::emit(&self.app, signed_out);
        }
    }

    fn new_connection(&self) {
        // The backend keeps idle state per connection: a new one starts active.
        if self.idle.load(Ordering::SeqCst) {
            let signed = self.signed.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(err) = signed.request(ClientEvent::UserEnterIdle {}).await {
                    tracing::info!(cause = %err, "cannot re-assert idle");
                }
            });
        }
    }
}
