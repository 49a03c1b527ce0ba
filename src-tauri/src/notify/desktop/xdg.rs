//! Linux: notifications on the session bus (the Desktop Notifications Specification), sent and
//! heard on one connection of our own, on a thread of its own.
//!
//! Why not notify-rust's `show()` + `wait_for_action()`: it opens a connection per notification
//! and subscribes to the server's signals only after `Notify` returned, so a click in between is
//! lost, and each waiting notification holds a connection and a thread until it closes (GNOME
//! keeps them for hours). And why not a separate listening connection: dunst and KDE Plasma send
//! `ActionInvoked` only to the connection that sent the notification. tauri-plugin-notification
//! does the same on Linux; it cannot set the app name or hints, hence this module.
//!
//! How: [`XdgNotifier::start`] spawns a thread that connects, subscribes to the server's signals,
//! then serves show requests (a bounded queue, so [`Notifier::show`] never waits) and signals in
//! one loop. A signal that arrives while `Notify` is in flight waits in the subscription until
//! that call's id is recorded, so even an instant click is reported. notify-rust builds the
//! notification (app name, hints, action: the model tauri-plugin-notification uses); this
//! module carries it. A later notification of the same chat replaces the one still shown.

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use notify_rust::Hint;
use tokio::sync::mpsc;
use zbus::Variant;

use super::{
    APP_NAME, CATEGORY, DEFAULT_ACTION, DEFAULT_ACTION_LABEL, DESKTOP_ENTRY, ICON, Notifier,
    OnClick, escape_markup,
};
use crate::notify::Notification;

/// The well-known name, object path and interface of the specification.
const SERVICE: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";

/// How long a call to the notification server may take before it counts as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Notifications waiting to be sent; more at once are dropped (and logged).
const QUEUE: usize = 64;
/// Shown notifications remembered for their clicks; the oldest is forgotten past this.
const TRACKED: usize = 256;

/// Which bus the notification server is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bus {
    /// The user's session bus (`DBUS_SESSION_BUS_ADDRESS`).
    Session,
    /// A bus at this D-Bus address (a private bus in tests).
    Address(String),
}

/// Why talking to the notification server failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bus refused or failed the call.
    #[error("D-Bus: {0}")]
    Bus(#[from] zbus::Error),
    /// The server did not answer within [`CALL_TIMEOUT`].
    #[error("the notification server did not answer in time")]
    Timeout,
}

/// Shows notifications on a D-Bus notification server and reports clicks; see the module docs.
#[derive(Debug)]
pub struct XdgNotifier {
    requests: mpsc::Sender<Notification>,
}

impl XdgNotifier {
    /// Starts the notifier's thread on `bus`; `on_click` hears clicks. Without a bus (or a
    /// thread), logs why and drops what it is asked to show.
    pub fn start(bus: Bus, on_click: Arc<dyn OnClick>) -> Self {
        let (requests, queue) = mpsc::channel(QUEUE);
        let spawned = std::thread::Builder::new()
            .name("chatr-notify".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        tracing::warn!(cause = %err, "no notifications: no runtime for them");
                        return;
                    }
                };
                runtime.block_on(serve(bus, on_click, queue));
            });
        if let Err(err) = spawned {
            tracing::warn!(cause = %err, "no notifications: cannot start their thread");
        }
        Self { requests }
    }
}

impl Notifier for XdgNotifier {
    fn show(&self, notification: Notification) {
        match self.requests.try_send(notification) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::info!("too many notifications at once: one dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::debug!("notifications are unavailable: one dropped");
            }
        }
    }
}

/// The notifier thread's loop: until the notifier is dropped or the bus goes away.
async fn serve(bus: Bus, on_click: Arc<dyn OnClick>, mut queue: mpsc::Receiver<Notification>) {
    let (mut link, mut signals) = match Link::connect(&bus).await {
        Ok(connected) => connected,
        Err(err) => {
            tracing::warn!(cause = %err, ?bus, "no notifications: cannot reach the bus");
            return;
        }
    };
    loop {
        tokio::select! {
            request = queue.recv() => match request {
                Some(notification) => link.show(notification).await,
                None => break,
            },
            signal = signals.next() => match signal {
                Some(Ok(message)) => {
                    let Some(signal) = Signal::parse(&message) else { continue };
                    if let Some(chat_id) = link.tracker.on_signal(&signal) {
                        tracing::debug!(%chat_id, "notification clicked");
                        // A panicking handler must not end the clicks of later notifications.
                        if catch_unwind(AssertUnwindSafe(|| on_click.on_click(&chat_id))).is_err() {
                            tracing::error!(%chat_id, "the notification click handler panicked");
                        }
                        link.close(signal.id()).await;
                    }
                }
                Some(Err(err)) => tracing::debug!(cause = %err, "unreadable notification signal"),
                None => {
                    tracing::warn!("the session bus went away: no more notifications");
                    break;
                }
            },
        }
    }
}

/// The connection to the notification server and what it keeps.
struct Link {
    connection: zbus::Connection,
    /// Whether the server reads markup in bodies; `None` until it said.
    markup: Option<bool>,
    tracker: Tracker,
    /// The last call failed (logged once per run of failures).
    failing: bool,
}

impl Link {
    /// Connects to `bus` and subscribes to the server's signals, before anything is sent.
    async fn connect(bus: &Bus) -> Result<(Self, zbus::MessageStream), Error> {
        let builder = match bus {
            Bus::Session => zbus::connection::Builder::session(),
            Bus::Address(address) => zbus::connection::Builder::address(address.as_str()),
        };
        let connection = builder.build().await?;
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(INTERFACE)
            .path(PATH)
            .build()?;
        let signals = zbus::MessageStream::for_match_rule(rule, &connection, None).await?;
        let link = Self {
            connection,
            markup: None,
            tracker: Tracker::default(),
            failing: false,
        };
        Ok((link, signals))
    }

    /// Sends `notification`, replacing the one of the same chat still on screen.
    async fn show(&mut self, notification: Notification) {
        let markup = self.markup().await;
        let xdg = to_xdg(&notification, markup);
        let replaces = self.tracker.on_screen(&notification.chat_id).unwrap_or(0);
        match self.call_notify(&xdg, replaces).await {
            Ok((id, server)) => {
                self.failing = false;
                tracing::debug!(id, chat_id = %notification.chat_id, "notification shown");
                self.tracker.shown(id, notification.chat_id, server);
            }
            Err(err) if !self.failing => {
                self.failing = true;
                tracing::warn!(cause = %err, "cannot show a notification");
            }
            Err(err) => tracing::debug!(cause = %err, "cannot show a notification"),
        }
    }

    /// Whether bodies need escaping: asks the server once; until it answers, escapes (a server
    /// that reads no markup shows `&lt;` where one that does would run a tag).
    async fn markup(&mut self) -> bool {
        if let Some(markup) = self.markup {
            return markup;
        }
        match self.call::<Vec<String>>("GetCapabilities", &()).await {
            Ok(capabilities) => {
                let markup = capabilities.iter().any(|c| c == "body-markup");
                tracing::debug!(?capabilities, "notification server capabilities");
                self.markup = Some(markup);
                markup
            }
            Err(err) => {
                tracing::debug!(cause = %err, "no notification server capabilities");
                true
            }
        }
    }

    /// `Notify`: the server's id for the notification, and who the server is (its unique name;
    /// only its signals count).
    async fn call_notify(
        &self,
        xdg: &notify_rust::Notification,
        replaces: u32,
    ) -> Result<(u32, String), Error> {
        let body = (
            xdg.appname.as_str(),
            replaces,
            xdg.icon.as_str(),
            xdg.summary.as_str(),
            xdg.body.as_str(),
            &xdg.actions,
            hints(xdg),
            i32::from(xdg.timeout),
        );
        let reply = tokio::time::timeout(
            CALL_TIMEOUT,
            self.connection
                .call_method(Some(SERVICE), PATH, Some(INTERFACE), "Notify", &body),
        )
        .await
        .map_err(|_| Error::Timeout)??;
        let id: u32 = reply.body().deserialize()?;
        let server = reply
            .header()
            .sender()
            .map(|name| name.to_string())
            .unwrap_or_default();
        Ok((id, server))
    }

    /// Closes a clicked notification the server may keep showing.
    async fn close(&self, id: u32) {
        if let Err(err) = self.call::<()>("CloseNotification", &(id,)).await {
            tracing::debug!(cause = %err, id, "cannot close a notification");
        }
    }

    async fn call<T>(
        &self,
        method: &str,
        body: &(impl serde::Serialize + zbus::DynamicType),
    ) -> Result<T, Error>
    where
        T: for<'de> serde::Deserialize<'de> + zbus::Type,
    {
        let reply = tokio::time::timeout(
            CALL_TIMEOUT,
            self.connection
                .call_method(Some(SERVICE), PATH, Some(INTERFACE), method, body),
        )
        .await
        .map_err(|_| Error::Timeout)??;
        Ok(reply.body().deserialize()?)
    }
}

/// notify-rust's model of what [`Notification`] shows: app name, title, body (escaped when the
/// server reads markup), icon, the `default` action and the hints.
fn to_xdg(notification: &Notification, markup: bool) -> notify_rust::Notification {
    let body = if markup {
        escape_markup(&notification.body)
    } else {
        notification.body.clone()
    };
    let mut xdg = notify_rust::Notification::new();
    xdg.appname(APP_NAME)
        .summary(&notification.title)
        .body(&body)
        .icon(ICON)
        .action(DEFAULT_ACTION, DEFAULT_ACTION_LABEL)
        .hint(Hint::DesktopEntry(DESKTOP_ENTRY.to_owned()))
        .hint(Hint::Category(CATEGORY.to_owned()));
    xdg
}

/// The hints of `xdg` as the specification names them (the ones [`to_xdg`] sets).
fn hints(xdg: &notify_rust::Notification) -> HashMap<&'static str, Variant<'_>> {
    xdg.hints
        .iter()
        .filter_map(|hint| match hint {
            Hint::DesktopEntry(entry) => Some(("desktop-entry", Variant::from(entry.as_str()))),
            Hint::Category(category) => Some(("category", Variant::from(category.as_str()))),
            _ => None,
        })
        .collect()
}

/// A signal of the notification server.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Signal {
    /// `ActionInvoked(id, action)`.
    Action {
        id: u32,
        action: String,
        sender: String,
    },
    /// `NotificationClosed(id, reason)`.
    Closed { id: u32, sender: String },
}

impl Signal {
    fn parse(message: &zbus::Message) -> Option<Self> {
        let header = message.header();
        let sender = header.sender()?.to_string();
        match header.member()?.as_str() {
            "ActionInvoked" => {
                let (id, action) = message.body().deserialize::<(u32, String)>().ok()?;
                Some(Self::Action { id, action, sender })
            }
            "NotificationClosed" => {
                let (id, _reason) = message.body().deserialize::<(u32, u32)>().ok()?;
                Some(Self::Closed { id, sender })
            }
            _ => None,
        }
    }

    fn id(&self) -> u32 {
        match self {
            Self::Action { id, .. } | Self::Closed { id, .. } => *id,
        }
    }
}

/// The notifications on screen: which chat each opens and which server showed it. Pure.
#[derive(Debug, Default)]
struct Tracker {
    shown: HashMap<u32, Shown>,
    /// Ids, oldest first, to forget the oldest past [`TRACKED`].
    order: VecDeque<u32>,
}

#[derive(Debug)]
struct Shown {
    chat_id: String,
    server: String,
}

impl Tracker {
    /// Records that the server `server` shows notification `id` for `chat_id`.
    fn shown(&mut self, id: u32, chat_id: String, server: String) {
        self.order.retain(|known| *known != id);
        self.order.push_back(id);
        self.shown.insert(id, Shown { chat_id, server });
        while self.order.len() > TRACKED {
            if let Some(oldest) = self.order.pop_front() {
                self.shown.remove(&oldest);
            }
        }
    }

    /// The notification of `chat_id` still on screen, if any.
    fn on_screen(&self, chat_id: &str) -> Option<u32> {
        self.shown
            .iter()
            .find(|(_, shown)| shown.chat_id == chat_id)
            .map(|(id, _)| *id)
    }

    /// The chat to open for `signal`: a click (`default` action) on a notification of ours,
    /// from the server that showed it. A close forgets the notification.
    fn on_signal(&mut self, signal: &Signal) -> Option<String> {
        match signal {
            Signal::Action { id, action, sender } if action == DEFAULT_ACTION => self
                .shown
                .get(id)
                .filter(|shown| shown.server == *sender)
                .map(|shown| shown.chat_id.clone()),
            Signal::Action { .. } => None,
            Signal::Closed { id, sender } => {
                if self
                    .shown
                    .get(id)
                    .is_some_and(|shown| shown.server == *sender)
                {
                    self.shown.remove(id);
                    self.order.retain(|known| known != id);
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification() -> Notification {
        Notification {
            chat_id: "c1".into(),
            title: "Ada in Team".into(),
            body: "<b>hi</b> & **you**".into(),
        }
    }

    #[test]
    fn the_notification_names_the_app_its_entry_and_category_and_offers_a_click() {
        let xdg = to_xdg(&notification(), false);
        assert_eq!(xdg.appname, "Chatr");
        assert_eq!(xdg.summary, "Ada in Team");
        assert_eq!(xdg.body, "<b>hi</b> & **you**");
        assert_eq!(xdg.icon, ICON);
        assert_eq!(xdg.actions, ["default", "Open"]);
        let hints = hints(&xdg);
        assert_eq!(hints.len(), 2);
        assert_eq!(hints["desktop-entry"], Variant::from("Chatr"));
        assert_eq!(hints["category"], Variant::from("im.received"));
        assert_eq!(i32::from(xdg.timeout), -1);
    }

    #[test]
    fn a_server_that_reads_markup_gets_an_escaped_body() {
        assert_eq!(
            to_xdg(&notification(), true).body,
            "&lt;b&gt;hi&lt;/b&gt; &amp; **you**"
        );
    }

    fn click(id: u32, sender: &str) -> Signal {
        Signal::Action {
            id,
            action: DEFAULT_ACTION.into(),
            sender: sender.into(),
        }
    }

    #[test]
    fn a_click_on_a_shown_notification_names_its_chat_until_it_closes() {
        let mut tracker = Tracker::default();
        tracker.shown(7, "c1".into(), ":1.5".into());
        assert_eq!(tracker.on_signal(&click(7, ":1.5")), Some("c1".into()));
        // Another notification, maybe another app's.
        assert_eq!(tracker.on_signal(&click(8, ":1.5")), None);
        // A button other than the notification itself.
        let button = Signal::Action {
            id: 7,
            action: "reply".into(),
            sender: ":1.5".into(),
        };
        assert_eq!(tracker.on_signal(&button), None);
        let closed = Signal::Closed {
            id: 7,
            sender: ":1.5".into(),
        };
        assert_eq!(tracker.on_signal(&closed), None);
        assert_eq!(tracker.on_signal(&click(7, ":1.5")), None);
        assert!(tracker.order.is_empty());
    }

    #[test]
    fn only_the_server_that_showed_a_notification_can_click_or_close_it() {
        let mut tracker = Tracker::default();
        tracker.shown(7, "c1".into(), ":1.5".into());
        assert_eq!(tracker.on_signal(&click(7, ":1.9")), None);
        let forged_close = Signal::Closed {
            id: 7,
            sender: ":1.9".into(),
        };
        tracker.on_signal(&forged_close);
        assert_eq!(tracker.on_signal(&click(7, ":1.5")), Some("c1".into()));
    }

    #[test]
    fn a_chat_with_a_notification_on_screen_replaces_it() {
        let mut tracker = Tracker::default();
        assert_eq!(tracker.on_screen("c1"), None);
        tracker.shown(7, "c1".into(), ":1.5".into());
        tracker.shown(8, "c2".into(), ":1.5".into());
        assert_eq!(tracker.on_screen("c1"), Some(7));
        // The server keeps the id of a replaced notification.
        tracker.shown(7, "c1".into(), ":1.5".into());
        assert_eq!(tracker.order, [8, 7]);
    }

    #[test]
    fn the_oldest_notifications_are_forgotten_past_the_limit() {
        let mut tracker = Tracker::default();
        for id in 0..(TRACKED as u32 + 10) {
            tracker.shown(id, format!("c{id}"), ":1.5".into());
        }
        assert_eq!(tracker.shown.len(), TRACKED);
        assert_eq!(tracker.on_signal(&click(0, ":1.5")), None);
        assert_eq!(
            tracker.on_signal(&click(TRACKED as u32 + 9, ":1.5")),
            Some(format!("c{}", TRACKED + 9))
        );
    }
}
