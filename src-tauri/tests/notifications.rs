//! Desktop notifications over a real D-Bus: a private session bus (`dbus-daemon`), `dbus-monitor`
//! watching `org.freedesktop.Notifications`, and a notification server written here with zbus
//! (GetCapabilities, GetServerInformation, Notify, CloseNotification, and the `ActionInvoked` /
//! `NotificationClosed` signals). The app's notifier shows notifications on that bus; the test
//! checks what the `Notify` call carried, then clicks and checks the app heard which chat.
//!
//! The server sends `ActionInvoked` only to the connection that sent the notification, as dunst
//! and KDE Plasma do. Nothing waits by sleeping: every wait is on an event, with a timeout.
//! `dbus-daemon` and `dbus-monitor` are required (Debian `dbus-daemon`, `dbus-bin`): without
//! them the test fails, it does not skip.

#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use chatr_desktop::notify::Notification;
use chatr_desktop::notify::desktop::{Bus, Notifier, OnClick, XdgNotifier};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::mpsc;
use tokio::time::timeout;
use zbus::object_server::SignalEmitter;

/// Generous: a busy 2-core CI machine may be slow, but nothing here takes long when it works.
const PATIENCE: Duration = Duration::from_secs(30);

const SERVICE: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";

/// A `dbus-daemon --session` of our own, stopped on drop.
struct PrivateBus {
    address: String,
    _daemon: Child,
}

impl PrivateBus {
    async fn start() -> Self {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--print-address", "--nofork"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start dbus-daemon ({err}): this test needs the D-Bus daemon \
                     (Debian package `dbus-daemon`; CI installs it). It fails rather than skips."
                )
            });
        let stdout = daemon.stdout.take().expect("piped stdout");
        let mut first = String::new();
        let read = timeout(PATIENCE, BufReader::new(stdout).read_line(&mut first)).await;
        let address = first.trim().to_owned();
        if !matches!(read, Ok(Ok(n)) if n > 0) || address.is_empty() {
            let mut stderr = String::new();
            if let Some(mut err) = daemon.stderr.take() {
                let _ = timeout(Duration::from_secs(5), err.read_to_string(&mut stderr)).await;
            }
            panic!("dbus-daemon printed no address ({read:?}); its stderr: {stderr}");
        }
        Self {
            address,
            _daemon: daemon,
        }
    }
}

/// `dbus-monitor` on the private bus, watching the notification interface.
struct Monitor {
    lines: Lines<BufReader<ChildStdout>>,
    _process: Child,
}

impl Monitor {
    /// Starts the monitor and waits until it monitors: a connection that becomes a monitor loses
    /// its unique name, and dbus-monitor prints that `NameLost`.
    async fn start(address: &str) -> Self {
        let mut process = Command::new("dbus-monitor")
            .args(["--address", address, &format!("interface='{INTERFACE}'")])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start dbus-monitor ({err}): this test needs it (Debian package \
                     `dbus-bin`; CI installs it). It fails rather than skips."
                )
            });
        let stdout = process.stdout.take().expect("piped stdout");
        let mut monitor = Self {
            lines: BufReader::new(stdout).lines(),
            _process: process,
        };
        monitor
            .until(|line| line.contains("member=NameLost"))
            .await
            .expect("dbus-monitor never started monitoring");
        monitor
    }

    /// Reads lines until one matches; returns it.
    async fn until(&mut self, matches: impl Fn(&str) -> bool) -> Result<String, String> {
        let mut seen = Vec::new();
        let wait = async {
            while let Some(line) = self.lines.next_line().await.map_err(|e| e.to_string())? {
                if matches(&line) {
                    return Ok(line);
                }
                seen.push(line);
            }
            Err("dbus-monitor ended".to_owned())
        };
        match timeout(PATIENCE, wait).await {
            Ok(result) => result.map_err(|e| format!("{e}; it printed:\n{}", seen.join("\n"))),
            Err(_) => Err(format!(
                "timed out; dbus-monitor printed:\n{}",
                seen.join("\n")
            )),
        }
    }

    /// The next call of `member` on the notification interface and its first `args` arguments,
    /// as dbus-monitor prints them (`string "Chatr"`, `uint32 0`, …).
    async fn call(&mut self, member: &str, args: usize) -> Vec<String> {
        let header = format!("member={member}");
        self.until(|line| line.starts_with("method call") && line.contains(&header))
            .await
            .unwrap_or_else(|e| panic!("no {member} call on the bus: {e}"));
        let mut values = Vec::new();
        while values.len() < args {
            let line = self
                .until(|_| true)
                .await
                .unwrap_or_else(|e| panic!("{member} arguments missing: {e}"));
            values.push(line.trim().to_owned());
        }
        values
    }
}

/// What the test server was asked.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Notify {
        sender: String,
        app_name: String,
        replaces_id: u32,
        icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, String>,
        id: u32,
    },
    Close {
        id: u32,
    },
}

/// A notification server, like dunst as far as this test needs: reads markup, offers actions.
struct Server {
    calls: mpsc::UnboundedSender<Call>,
    next_id: u32,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    fn get_capabilities(&self) -> Vec<String> {
        ["body", "body-markup", "actions"]
            .map(String::from)
            .to_vec()
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "chatr-test".into(),
            "chatr".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        app_name: String,
        replaces_id: u32,
        app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let id = if replaces_id != 0 {
            replaces_id
        } else {
            self.next_id += 1;
            self.next_id
        };
        let hints = hints
            .into_iter()
            .map(|(key, value)| {
                let text = String::try_from(value).unwrap_or_else(|_| "<not a string>".into());
                (key, text)
            })
            .collect();
        let _ = self.calls.send(Call::Notify {
            sender: header.sender().map(|s| s.to_string()).unwrap_or_default(),
            app_name,
            replaces_id,
            icon: app_icon,
            summary,
            body,
            actions,
            hints,
            id,
        });
        id
    }

    async fn close_notification(
        &self,
        id: u32,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<()> {
        let _ = self.calls.send(Call::Close { id });
        // Reason 3: closed by a call to CloseNotification.
        Self::notification_closed(&emitter, id, 3).await?;
        Ok(())
    }

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

async fn next_call(calls: &mut mpsc::UnboundedReceiver<Call>) -> Call {
    timeout(PATIENCE, calls.recv())
        .await
        .expect("the notification server was not called in time")
        .expect("the notification server stopped")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_reaches_the_bus_and_its_click_opens_the_chat() {
    let bus = PrivateBus::start().await;
    let mut monitor = Monitor::start(&bus.address).await;

    let (calls_tx, mut calls) = mpsc::unbounded_channel();
    let server = zbus::connection::Builder::address(bus.address.as_str())
        .serve_at(
            PATH,
            Server {
                calls: calls_tx,
                next_id: 0,
            },
        )
        .name(SERVICE)
        .build()
        .await
        .expect("the test notification server cannot start");

    let (clicks_tx, mut clicks) = mpsc::unbounded_channel::<String>();
    let on_click: Arc<dyn OnClick> = Arc::new(move |chat_id: &str| {
        let _ = clicks_tx.send(chat_id.to_owned());
    });
    let notifier = XdgNotifier::start(Bus::Address(bus.address.clone()), on_click);

    // The app shows a message; `show` only queues it.
    notifier.show(Notification {
        chat_id: "chat-42".into(),
        title: "Ada in Team".into(),
        body: "<b>hi</b> & **you**".into(),
    });

    // What the bus carried, as dbus-monitor saw it: app name, replaces id, icon, title, body
    // (escaped: this server reads markup, and a message is never markup).
    let args = monitor.call("Notify", 5).await;
    assert_eq!(
        args,
        [
            r#"string "Chatr""#,
            "uint32 0",
            r#"string "chatr-desktop""#,
            r#"string "Ada in Team""#,
            r#"string "&lt;b&gt;hi&lt;/b&gt; &amp; **you**""#,
        ]
    );

    // What the server got: the default action (a click is reported) and the hints.
    let Call::Notify {
        sender,
        app_name,
        actions,
        hints,
        id,
        ..
    } = next_call(&mut calls).await
    else {
        panic!("expected Notify first");
    };
    assert_eq!(app_name, "Chatr");
    assert_eq!(actions, ["default", "Open"]);
    assert_eq!(
        hints.get("desktop-entry").map(String::as_str),
        Some("Chatr")
    );
    assert_eq!(
        hints.get("category").map(String::as_str),
        Some("im.received")
    );

    // A second message of the same chat replaces the notification still on screen.
    notifier.show(Notification {
        chat_id: "chat-42".into(),
        title: "Ada in Team".into(),
        body: "second".into(),
    });
    let second = next_call(&mut calls).await;
    assert!(
        matches!(&second, Call::Notify { replaces_id, summary, body, .. }
            if *replaces_id == id && summary == "Ada in Team" && body == "second"),
        "{second:?}"
    );

    // The user clicks it: the server tells the app's connection only (as dunst does).
    server
        .emit_signal(
            Some(sender.as_str()),
            PATH,
            INTERFACE,
            "ActionInvoked",
            &(id, "default"),
        )
        .await
        .expect("cannot send ActionInvoked");
    let clicked = timeout(PATIENCE, clicks.recv())
        .await
        .expect("the click was not reported in time");
    assert_eq!(clicked.as_deref(), Some("chat-42"));

    // The app closes the clicked notification; one click made one report.
    assert_eq!(next_call(&mut calls).await, Call::Close { id });
    monitor.call("CloseNotification", 1).await;
    assert!(clicks.try_recv().is_err(), "one click, one report");
}
