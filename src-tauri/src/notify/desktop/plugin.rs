//! Notifications through `tauri-plugin-notification`: the path of the desktops other than Linux
//! (Windows, macOS). Compiled everywhere so Linux CI checks it; [`super::for_this_os`] picks it
//! only off Linux.
//!
//! What it cannot do: set the app name, the desktop entry or the category (the plugin has no
//! such options; Windows and macOS name the app from its installation). Clicks are reported
//! where the plugin reports them to its `on_action` handlers (plugin 2.8): a click on the
//! notification itself is the action `tap`; on Windows only while the toast is on screen, not
//! once it moved to the Action Center. The chat rides along in the notification's `extra`.

use std::sync::Arc;

use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;

use super::{Notifier, OnClick};
use crate::notify::Notification;

/// The key of the chat id in a notification's `extra`.
const CHAT_ID: &str = "chatId";
/// The plugin's action for a click on the notification itself.
const TAP: &str = "tap";

/// Shows notifications through the notification plugin (which `app` must have).
pub struct PluginNotifier {
    app: AppHandle,
}

impl PluginNotifier {
    /// Registers `on_click` with the plugin and returns the notifier.
    pub fn new(app: &AppHandle, on_click: Arc<dyn OnClick>) -> Self {
        let registered = app.notification().on_action(move |performed| {
            if performed.action_id() != TAP {
                return;
            }
            let chat_id = performed
                .notification()
                .and_then(|n| n.extra().get(CHAT_ID))
                .and_then(|value| value.as_str());
            if let Some(chat_id) = chat_id {
                on_click.on_click(chat_id);
            }
        });
        if let Err(err) = registered {
            tracing::warn!(cause = %err, "notification clicks will not open their chat");
        }
        Self { app: app.clone() }
    }
}

impl Notifier for PluginNotifier {
    fn show(&self, notification: Notification) {
        let shown = self
            .app
            .notification()
            .builder()
            .title(notification.title)
            .body(notification.body)
            .extra(CHAT_ID, notification.chat_id)
            .show();
        if let Err(err) = shown {
            tracing::warn!(cause = %err, "cannot show a notification");
        }
    }
}
