//! Idle detection on Linux, from the best source that answers:
//! 1. GNOME: `org.gnome.Mutter.IdleMonitor.GetIdletime` (works on Wayland and X11), with
//!    `org.gnome.ScreenSaver.GetActive` for the lock;
//! 2. KDE and others: `org.freedesktop.ScreenSaver.GetSessionIdleTime` and `GetActive`;
//! 3. X11: the MIT-SCREEN-SAVER extension (`ms_since_user_input`, and its state for blanking).
//!
//! Why this order: on Wayland only the compositor knows about input, and it tells over D-Bus; the
//! X11 extension sees nothing of native Wayland clients. Under Xvfb (CI) no D-Bus service answers,
//! so the X11 source is the one tested.

use std::sync::Arc;
use std::time::Duration;

use x11rb::connection::Connection as _;
use x11rb::protocol::screensaver::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;

use super::{Error, IdleReading};

/// How long a D-Bus probe may take before we try the next source.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The idle source of this platform.
#[derive(Debug)]
pub struct PlatformSource {
    inner: Source,
}

#[derive(Debug)]
enum Source {
    Mutter(zbus::Connection),
    FreedesktopScreenSaver(zbus::Connection),
    X11(X11Source),
}

impl PlatformSource {
    /// Finds the first source that answers.
    pub async fn connect() -> Result<Self, Error> {
        let mut tried = Vec::new();
        match tokio::time::timeout(PROBE_TIMEOUT, zbus::Connection::session()).await {
            Ok(Ok(bus)) => {
                for source in [
                    Source::Mutter(bus.clone()),
                    Source::FreedesktopScreenSaver(bus),
                ] {
                    match tokio::time::timeout(PROBE_TIMEOUT, source.read()).await {
                        Ok(Ok(_)) => return Ok(Self { inner: source }),
                        Ok(Err(err)) => tried.push(err.to_string()),
                        Err(_) => tried.push("a D-Bus idle service timed out".into()),
                    }
                }
            }
            Ok(Err(err)) => tried.push(format!("no D-Bus session: {err}")),
            Err(_) => tried.push("the D-Bus session timed out".into()),
        }
        match X11Source::connect(None) {
            Ok(x11) => Ok(Self {
                inner: Source::X11(x11),
            }),
            Err(err) => {
                tried.push(err.to_string());
                Err(Error::Unsupported(tried.join("; ")))
            }
        }
    }

    /// Reads the idle time and lock state.
    pub async fn read(&self) -> Result<IdleReading, Error> {
        self.inner.read().await
    }

    /// Which source answered, for logs.
    pub fn name(&self) -> &'static str {
        match self.inner {
            Source::Mutter(_) => "gnome-mutter",
            Source::FreedesktopScreenSaver(_) => "freedesktop-screensaver",
            Source::X11(_) => "x11-screensaver",
        }
    }
}

impl Source {
    async fn read(&self) -> Result<IdleReading, Error> {
        match self {
            Self::Mutter(bus) => {
                let ms: u64 = call(
                    bus,
                    "org.gnome.Mutter.IdleMonitor",
                    "/org/gnome/Mutter/IdleMonitor/Core",
                    "org.gnome.Mutter.IdleMonitor",
                    "GetIdletime",
                )
                .await?;
                // The lock is GNOME Shell's; if it does not answer, assume unlocked.
                let locked = call::<bool>(
                    bus,
                    "org.gnome.ScreenSaver",
                    "/org/gnome/ScreenSaver",
                    "org.gnome.ScreenSaver",
                    "GetActive",
                )
                .await
                .unwrap_or(false);
                Ok(IdleReading {
                    idle_for: Duration::from_millis(ms),
                    locked,
                })
            }
            Self::FreedesktopScreenSaver(bus) => {
                const NAME: &str = "org.freedesktop.ScreenSaver";
                let secs: u32 = call(
                    bus,
                    NAME,
                    "/org/freedesktop/ScreenSaver",
                    NAME,
                    "GetSessionIdleTime",
                )
                .await?;
                let locked =
                    call::<bool>(bus, NAME, "/org/freedesktop/ScreenSaver", NAME, "GetActive")
                        .await
                        .unwrap_or(false);
                Ok(IdleReading {
                    idle_for: Duration::from_secs(u64::from(secs)),
                    locked,
                })
            }
            Self::X11(x11) => x11.read().await,
        }
    }
}

async fn call<T>(
    bus: &zbus::Connection,
    destination: &str,
    path: &str,
    interface: &str,
    method: &str,
) -> Result<T, Error>
where
    T: for<'de> serde::Deserialize<'de> + zbus::zvariant::Type,
{
    let reply = bus
        .call_method(Some(destination), path, Some(interface), method, &())
        .await
        .map_err(|e| Error::Read(format!("{destination}.{method}: {e}")))?;
    reply
        .body()
        .deserialize::<T>()
        .map_err(|e| Error::Read(format!("{destination}.{method}: {e}")))
}

/// The X11 MIT-SCREEN-SAVER source.
#[derive(Debug, Clone)]
pub struct X11Source {
    conn: Arc<RustConnection>,
    root: u32,
}

impl X11Source {
    /// Connects to `display` (or `$DISPLAY`) and checks the extension is there.
    pub fn connect(display: Option<&str>) -> Result<Self, Error> {
        let (conn, screen) = RustConnection::connect(display)
            .map_err(|e| Error::Unsupported(format!("no X display: {e}")))?;
        let root = conn
            .setup()
            .roots
            .get(screen)
            .map(|s| s.root)
            .ok_or_else(|| Error::Unsupported("the X display has no such screen".into()))?;
        conn.screensaver_query_version(1, 1)
            .map_err(|e| Error::Unsupported(e.to_string()))?
            .reply()
            .map_err(|e| Error::Unsupported(format!("no MIT-SCREEN-SAVER extension: {e}")))?;
        Ok(Self {
            conn: Arc::new(conn),
            root,
        })
    }

    /// Reads the idle time (a quick round trip on the X socket, done off the async threads).
    pub async fn read(&self) -> Result<IdleReading, Error> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let info = this
                .conn
                .screensaver_query_info(this.root)
                .map_err(|e| Error::Read(e.to_string()))?
                .reply()
                .map_err(|e| Error::Read(e.to_string()))?;
            Ok(IdleReading {
                idle_for: Duration::from_millis(u64::from(info.ms_since_user_input)),
                locked: info.state == u8::from(screensaver::State::ON),
            })
        })
        .await
        .map_err(|e| Error::Read(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    //! These tests start their own Xvfb (`Xvfb -displayfd`), so they need the `xvfb` package but
    //! no display of the caller's.

    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};
    use x11rb::protocol::xproto;
    use x11rb::protocol::xtest::ConnectionExt as _;

    struct Xvfb {
        child: Child,
        display: String,
    }

    impl Xvfb {
        fn start() -> Self {
            let mut child = Command::new("Xvfb")
                .args([
                    "-displayfd",
                    "1",
                    "-screen",
                    "0",
                    "640x480x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb must be installed (Debian package xvfb)");
            let mut line = String::new();
            BufReader::new(child.stdout.take().expect("piped stdout"))
                .read_line(&mut line)
                .expect("Xvfb prints its display number");
            Self {
                child,
                display: format!(":{}", line.trim()),
            }
        }
    }

    impl Drop for Xvfb {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Waits (bounded) until the source reports at least `at_least` of idle time.
    async fn wait_idle(source: &X11Source, at_least: Duration) -> IdleReading {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let reading = source.read().await.unwrap();
            if reading.idle_for >= at_least {
                return reading;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "idle time never grew: {reading:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    #[tokio::test]
    async fn x11_idle_time_grows_without_input_and_resets_on_input() {
        let xvfb = Xvfb::start();
        let source = X11Source::connect(Some(&xvfb.display)).unwrap();
        let idle = wait_idle(&source, Duration::from_millis(1500)).await;
        assert!(!idle.locked);

        // Fake a pointer motion through XTEST, as a person moving the mouse would.
        let (conn, _) = RustConnection::connect(Some(&xvfb.display)).unwrap();
        conn.xtest_fake_input(xproto::MOTION_NOTIFY_EVENT, 0, 0, source.root, 10, 10, 0)
            .unwrap()
            .check()
            .unwrap();
        conn.flush().unwrap();

        let after = source.read().await.unwrap();
        assert!(
            after.idle_for < idle.idle_for,
            "input did not reset the idle time: {after:?} vs {idle:?}"
        );
    }

    #[test]
    fn no_display_is_unsupported_not_a_panic() {
        let err = X11Source::connect(Some(":4242")).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
    }
}
