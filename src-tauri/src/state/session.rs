//! The signed-in session and what goes with it: the shared inbox, the chat on screen, whether the
//! window has focus, and a device sign-in waiting for approval.

use std::sync::{Arc, Mutex, PoisonError};

use chatr_protocol::AuthProvider;
use oauth2::StandardDeviceAuthorizationResponse;
use tokio::sync::RwLock;
use tokio_util::sync::CancellationToken;

use crate::auth::device_login::DeviceLogin;
use crate::chat_client::SignedIn;
use crate::dispatch::SharedInbox;

/// A device sign-in started by `start_device_login`, finished or cancelled later.
#[derive(Debug)]
pub(crate) struct PendingLogin {
    pub(crate) provider: AuthProvider,
    pub(crate) login: DeviceLogin,
    pub(crate) details: StandardDeviceAuthorizationResponse,
    pub(crate) cancel: CancellationToken,
}

/// The live session, if any.
#[derive(Debug)]
pub(crate) struct Active {
    pub(crate) signed: Arc<SignedIn>,
    pub(crate) inbox: SharedInbox,
    /// The keyring entry of this account.
    pub(crate) account_id: String,
    /// Ends the tasks tied to this session (event loop, idle watch).
    pub(crate) stop: CancellationToken,
}

/// Managed state for sign-in and the session.
#[derive(Debug, Default)]
pub(crate) struct SessionState {
    pub(crate) active: RwLock<Option<Active>>,
    pub(crate) pending_login: Mutex<Option<PendingLogin>>,
    /// The chat on screen and whether the window has focus (for unread counts and notifications).
    pub(crate) view: Mutex<View>,
}

/// What the user is looking at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct View {
    /// The chat on screen.
    pub(crate) active_chat: Option<String>,
    /// Whether the main window has focus.
    pub(crate) focused: bool,
}

impl SessionState {
    /// Changes the view.
    pub(crate) fn set_view(&self, change: impl FnOnce(&mut View)) -> View {
        let mut view = self.view.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut view);
        view.clone()
    }

    /// Takes the pending device sign-in, if any.
    pub(crate) fn take_pending(&self) -> Option<PendingLogin> {
        self.pending_login
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}
