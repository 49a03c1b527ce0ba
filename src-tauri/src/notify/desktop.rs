//! Shows a [`Notification`] on the desktop and reports a click on it. The I/O shell of
//! [`crate::notify`]: it never decides whether to notify, never blocks its caller (showing and
//! waiting for clicks happen on a thread of their own), and never panics: failures (no session
//! bus, no notification server) are logged and the notification is dropped.
//!
//! - Linux: [`XdgNotifier`], the Desktop Notifications Specification over D-Bus, with the app
//!   name `Chatr`, the `desktop-entry` and `category` hints and a `default` action, so a click
//!   reaches [`OnClick`] with the notification's chat.
//! - Other desktops: [`PluginNotifier`], through `tauri-plugin-notification`. A click is
//!   reported where the plugin reports it (its `on_action` handlers: Windows while the toast is on
//!   screen, not from the Action Center; macOS); there are no hints, and the title and body are
//!   shown as given.
//!
//! [`for_this_os`] picks the one for the running OS.

use std::sync::Arc;

use tauri::AppHandle;

use super::Notification;

mod plugin;
#[cfg(target_os = "linux")]
mod xdg;

pub use plugin::PluginNotifier;
#[cfg(target_os = "linux")]
pub use xdg::{Bus, XdgNotifier};

/// The application name notifications carry (servers group by it).
pub const APP_NAME: &str = "Chatr";
/// The desktop entry notifications name, without `.desktop`: the file the packages install,
/// `/usr/share/applications/Chatr.desktop` (the bundler names it after `productName`; its
/// content is `packaging/chatr.desktop`).
pub const DESKTOP_ENTRY: &str = "Chatr";
/// The icon notifications name: the one the packages install (`hicolor/…/apps/chatr-desktop.png`).
pub const ICON: &str = "chatr-desktop";
/// The notification category of the specification for a received instant message.
pub const CATEGORY: &str = "im.received";
/// The action the specification reports for a click on the notification itself.
pub const DEFAULT_ACTION: &str = "default";
/// The label of the default action (most servers do not show it).
pub const DEFAULT_ACTION_LABEL: &str = "Open";

/// Told when the user clicks a notification: show that chat.
pub trait OnClick: Send + Sync + 'static {
    /// The user clicked the notification of `chat_id`. Runs on the notifier's thread: return
    /// quickly.
    fn on_click(&self, chat_id: &str);
}

impl<F> OnClick for F
where
    F: Fn(&str) + Send + Sync + 'static,
{
    fn on_click(&self, chat_id: &str) {
        self(chat_id);
    }
}

/// Shows notifications without blocking the caller.
pub trait Notifier: Send + Sync {
    /// Queues `notification` for display and returns at once; failures are logged.
    fn show(&self, notification: Notification);
}

/// The notifier of the running OS (on Linux, on the session bus; elsewhere through the plugin,
/// which `app` must have).
pub fn for_this_os(app: &AppHandle, on_click: Arc<dyn OnClick>) -> Box<dyn Notifier> {
    #[cfg(target_os = "linux")]
    {
        let _ = app;
        Box::new(XdgNotifier::start(Bus::Session, on_click))
    }
    #[cfg(not(target_os = "linux"))]
    {
        Box::new(PluginNotifier::new(app, on_click))
    }
}

/// Escapes `text` for a server that reads markup in bodies (capability `body-markup`), so a
/// message is shown exactly as typed and never as markup.
pub fn escape_markup(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped_so_text_shows_as_typed() {
        assert_eq!(
            escape_markup("<b>hi</b> & <a href=\"x\">"),
            "&lt;b&gt;hi&lt;/b&gt; &amp; &lt;a href=\"x\"&gt;"
        );
        assert_eq!(escape_markup("**plain** ünïcode"), "**plain** ünïcode");
    }

    #[test]
    fn a_closure_is_a_click_handler() {
        let clicked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = clicked.clone();
        let handler: Arc<dyn OnClick> = Arc::new(move |chat: &str| {
            seen.lock().unwrap().push(chat.to_owned());
        });
        handler.on_click("c1");
        assert_eq!(*clicked.lock().unwrap(), ["c1"]);
    }
}
