//! Test support: a real Azurite (the Table Storage emulator, from npm in `backend/testkit`) on a
//! free loopback port, killed when the handle drops. It never skips: a missing install is an
//! error that says how to install it. Lives in the library so every test crate can use it.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::client::{Auth, TableClient};
use crate::store::Error;

/// Azurite's well-known account.
pub const ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known (public) account key.
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/// Set to a running Azurite's table endpoint (`http://127.0.0.1:10002/devstoreaccount1`) to use
/// it instead of starting one.
pub const URL_ENV: &str = "CHATR_TEST_AZURITE_URL";
/// How long Azurite may take to open its port.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running Azurite table service (or one given by [`URL_ENV`], which is left alone).
#[derive(Debug)]
pub struct Azurite {
    child: Option<Child>,
    /// The path-style table endpoint.
    pub url: String,
}

/// The Azurite table entry point installed by `npm ci --prefix backend/testkit`.
pub fn entry_point() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testkit/node_modules/azurite/dist/src/table/main.js")
}

impl Azurite {
    /// Uses [`URL_ENV`] if set, otherwise starts Azurite and waits for its port.
    pub fn start() -> Result<Self, Error> {
        if let Ok(url) = std::env::var(URL_ENV) {
            return Ok(Self { child: None, url });
        }
        let entry = entry_point();
        if !entry.exists() {
            return Err(Error::Backend(format!(
                "Azurite is not installed ({} is missing): run `npm ci --prefix backend/testkit`",
                entry.display()
            )));
        }
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| Error::Backend(format!("no free port: {e}")))?
            .port();
        // The preload exits Azurite if this test process dies without dropping us.
        let watchdog =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testkit/exit-with-parent.cjs");
        let child = Command::new("node")
            .arg("--require")
            .arg(&watchdog)
            .arg(&entry)
            .args(["--tableHost", "127.0.0.1", "--tablePort"])
            .arg(port.to_string())
            // In memory, quiet, and no telemetry: tests never talk to anything but loopback.
            .args(["--inMemoryPersistence", "--silent", "--disableTelemetry"])
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| Error::Backend(format!("cannot run node for Azurite: {e}")))?;
        let mut azurite = Self {
            child: Some(child),
            url: format!("http://127.0.0.1:{port}/{ACCOUNT}"),
        };
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(azurite);
            }
            if let Some(child) = azurite.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(Error::Backend(format!("Azurite exited at start: {status}")));
            }
            if Instant::now() > deadline {
                return Err(Error::Backend(
                    "Azurite did not open its port within 30 s".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A client for this Azurite with its well-known key.
    pub fn client(&self) -> Result<TableClient, Error> {
        TableClient::new(&self.url, ACCOUNT, Auth::shared_key(KEY)?)
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
