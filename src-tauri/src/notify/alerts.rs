//! The app's side of unread counts, notifications and the tray: managed state that keeps the
//! [`Unread`] counts and the names [`Directory`], shows what [`super::decide`] picks through the
//! desktop notifier, emits `unread` only when a count changed, and keeps the tray (badge and
//! status) in step. Glue only: every rule lives in [`crate::unread`], [`super`] and
//! [`crate::tray_model`]; it must never block (locks are short, showing is queued).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chatr_protocol::{ChatView, ServerEvent, User};
use tauri::{AppHandle, Manager};

use super::desktop::{self, Notifier, OnClick};
use super::{Context, Directory, Prefs};
use crate::state::{Profile, SessionState};
use crate::tray::TrayState;
use crate::tray_model::Status;
use crate::ui_event::{self, UiEvent};
use crate::unread::{Screen, Unread};

/// Unread counts, names and the notifier of this app.
pub(crate) struct Alerts {
    unread: Mutex<Unread>,
    names: Mutex<Directory>,
    notifier: Box<dyn Notifier>,
}

impl Alerts {
    /// Starts the desktop notifier; a click on a notification shows the window and its chat.
    pub(crate) fn start(app: &AppHandle) -> Self {
        let handle = app.clone();
        let on_click: Arc<dyn OnClick> = Arc::new(move |chat_id: &str| {
            crate::focus_main_window(&handle);
            ui_event::emit(
                &handle,
                UiEvent::OpenChat {
                    chat_id: chat_id.to_owned(),
                },
            );
        });
        Self {
            unread: Mutex::new(Unread::default()),
            names: Mutex::new(Directory::default()),
            notifier: desktop::for_this_os(app, on_click),
        }
    }

    /// An event the session delivered to the UI (each message once): counts it, notifies, and
    /// follows the connection state (and a session that ended) in the tray. `me` is the
    /// signed-in user, `idle` whether the OS reports them idle.
    pub(crate) fn on_ui_event(&self, app: &AppHandle, event: &UiEvent, me: &str, idle: bool) {
        match event {
            UiEvent::Server(event) => self.on_server_event(app, event, me),
            UiEvent::Connection { state, .. } => {
                set_status(app, Status::from_connection(state, idle));
            }
            UiEvent::SignedOut { .. } => self.signed_out(app),
            _ => {}
        }
    }

    /// A push from the backend: names, unread counts, maybe a notification.
    pub(crate) fn on_server_event(&self, app: &AppHandle, event: &ServerEvent, me: &str) {
        let (active_chat, focused) = view(app);
        let screen = Screen {
            active_chat: active_chat.as_deref(),
            focused,
        };
        let changed = lock(&self.unread).on_event(event, me, screen);
        if changed {
            self.emit_unread(app);
        }
        let prefs = app
            .try_state::<Profile>()
            .map(|profile| Prefs::from(&profile.settings()))
            .unwrap_or(Prefs {
                notifications: true,
                do_not_disturb: false,
            });
        let notification = {
            let mut names = lock(&self.names);
            names.learn(event);
            super::decide(
                event,
                &Context {
                    me,
                    screen,
                    prefs,
                    names: &*names,
                },
            )
        };
        if let Some(notification) = notification {
            self.notifier.show(notification);
        }
    }

    /// The chat on screen or the window focus changed (`set_active_chat`, focus events): the
    /// chat on screen in a focused window is read.
    pub(crate) fn on_view(&self, app: &AppHandle) {
        let (active_chat, focused) = view(app);
        if lock(&self.unread).set_active(active_chat.as_deref(), focused) {
            self.emit_unread(app);
        }
    }

    /// The user left `chat_id`: its count goes.
    pub(crate) fn forget_chat(&self, app: &AppHandle, chat_id: &str) {
        if lock(&self.unread).forget(chat_id) {
            self.emit_unread(app);
        }
    }

    /// The session ended: no counts, the tray says signed out.
    pub(crate) fn signed_out(&self, app: &AppHandle) {
        if lock(&self.unread).clear() {
            self.emit_unread(app);
        }
        set_status(app, Status::SignedOut);
    }

    /// The OS reports the user idle or back: the tray's status follows while connected.
    pub(crate) fn on_idle(&self, app: &AppHandle, idle: bool) {
        if let Some(tray) = app.try_state::<TrayState>() {
            tray.update(|model| {
                model.status = match (model.status, idle) {
                    (Status::Online, true) => Status::Idle,
                    (Status::Idle, false) => Status::Online,
                    (status, _) => status,
                }
            });
        }
    }

    /// Names from `list_users`, for notification titles.
    pub(crate) fn learn_users(&self, users: &[User]) {
        lock(&self.names).learn_users(users);
    }

    /// Names from `list_chats`, for notification titles.
    pub(crate) fn learn_chats(&self, chats: &[ChatView]) {
        lock(&self.names).learn_chats(chats);
    }

    /// Sends the counts to the UI and the total to the tray.
    fn emit_unread(&self, app: &AppHandle) {
        let (counts, total) = {
            let unread = lock(&self.unread);
            (unread.counts().clone(), unread.total())
        };
        if let Some(tray) = app.try_state::<TrayState>() {
            tray.set_unread(total);
        }
        ui_event::emit(app, UiEvent::Unread { counts, total });
    }
}

/// The chat on screen and whether the window has focus.
fn view(app: &AppHandle) -> (Option<String>, bool) {
    app.try_state::<SessionState>()
        .map(|session| {
            let view = lock(&session.view);
            (view.active_chat.clone(), view.focused)
        })
        .unwrap_or_default()
}

fn set_status(app: &AppHandle, status: Status) {
    if let Some(tray) = app.try_state::<TrayState>() {
        tray.set_status(status);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
