//! The server processes the fault suite kills: a standalone `chatr-hub` and a `chatr-backend serve`
//! in remote mode pointed at it, each on a fixed loopback port so it can be started again where
//! clients expect it. `kill -9` is `Child::kill` (SIGKILL on Unix): no shutdown code runs.
//!
//! The hub binary belongs to another crate, so cargo gives this test no `CARGO_BIN_EXE_` path for
//! it: [`hub_binary`] builds it with the cargo running the tests, in the same profile and target
//! directory as `chatr-backend` (a no-op when it is fresh), unless `CHATR_HUB_BIN` names one.
//! Every process is killed when its handle drops, so a failing test leaves nothing running.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

/// A free loopback port (bound, then released: the process started next binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `chatr-hub` executable: `CHATR_HUB_BIN`; else the one beside `chatr-backend` if it is
/// newer than the hub's sources (a workspace test run builds it); else built (once per test
/// process) by cargo.
pub fn hub_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    if let Some(path) = std::env::var_os("CHATR_HUB_BIN") {
        return path.into();
    }
    BUILT
        .get_or_init(|| {
            let beside = Path::new(env!("CARGO_BIN_EXE_chatr-backend")).with_file_name("chatr-hub");
            let hub = Path::new(env!("CARGO_MANIFEST_DIR")).join("hub");
            let sources = [
                hub.join("src"),
                hub.join("Cargo.toml"),
                hub.join("../../Cargo.lock"),
            ];
            match modified(&beside) {
                Some(built) if sources.iter().all(|s| newest(s) < Some(built)) => beside,
                _ => build_hub(),
            }
        })
        .clone()
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of `path` or anything below it.
fn newest(path: &Path) -> Option<std::time::SystemTime> {
    let own = modified(path);
    let below = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| newest(&entry.path()))
        .max();
    own.max(below)
}

fn build_hub() -> PathBuf {
    let backend = Path::new(env!("CARGO_BIN_EXE_chatr-backend"));
    let profile = match backend
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
    {
        Some("debug") | None => "dev".to_owned(),
        Some(other) => other.to_owned(),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--package",
            "chatr-hub",
            "--bin",
            "chatr-hub",
            "--message-format=json-render-diagnostics",
            "--profile",
            &profile,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::piped())
        .output()
        .expect("cargo runs");
    let built = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "chatr-hub")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from));
    match built {
        Some(path) if output.status.success() => path,
        _ => panic!(
            "cannot build chatr-hub (set CHATR_HUB_BIN to use a built one): {}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// A child process, killed (SIGKILL) and reaped when dropped.
#[derive(Debug)]
pub struct Proc {
    child: Option<Child>,
}

impl Proc {
    /// Starts `command` with stderr appended to `log`, and returns it with the first line it
    /// printed on stdout, or `None` if it exited first (its port still taken, say).
    async fn start(mut command: Command, log: &Path) -> (Self, Option<String>) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let line = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::task::spawn_blocking(move || {
                let mut reader = std::io::BufReader::new(stdout);
                let mut line = String::new();
                let read = reader.read_line(&mut line).unwrap_or(0);
                // Keep reading (and discarding) so the child never blocks on a full pipe.
                std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
                (read > 0).then(|| line.trim().to_owned())
            }),
        )
        .await
        .expect("the process prints its first line within 60 s")
        .unwrap();
        (Self { child: Some(child) }, line)
    }

    /// `kill -9`, then reap.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Starts `command()` until it prints its first line (a port just released may take a moment).
async fn start_retrying(command: impl Fn() -> Command, log: &Path) -> (Proc, String) {
    for _ in 0..100 {
        let (proc, line) = Proc::start(command(), log).await;
        if let Some(line) = line {
            return (proc, line);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{command:?} did not start; see {log:?}",
        command = command()
    );
}

/// A standalone hub on a fixed port with a fixed key, its upstream the backend's event handler.
#[derive(Debug)]
pub struct Hub {
    /// `127.0.0.1:<port>`.
    pub addr: String,
    key: String,
    upstream: String,
    log: PathBuf,
    proc: Proc,
    /// The connection string it printed.
    pub connection_string: String,
}

impl Hub {
    /// Starts the hub on `port`, sending events to `backend_url`'s event handler; stderr to `log`.
    pub async fn start(port: u16, key: &str, backend_url: &str, log: PathBuf) -> Self {
        let upstream = format!("chat={backend_url}/api/eventHandler");
        let addr = format!("127.0.0.1:{port}");
        let (proc, line) = start_retrying(|| Self::command(&addr, key, &upstream), &log).await;
        Self {
            addr,
            key: key.to_owned(),
            upstream,
            log,
            proc,
            connection_string: line,
        }
    }

    fn command(addr: &str, key: &str, upstream: &str) -> Command {
        let mut command = Command::new(hub_binary());
        command
            .args(["--listen", addr, "--access-key", key, "--hub", "chat"])
            .args(["--upstream", upstream])
            .env("RUST_LOG", "warn");
        command
    }

    /// `kill -9`: every connection is gone with it.
    pub fn kill9(&mut self) {
        self.proc.kill9();
    }

    /// Starts it again on the same port with the same key.
    pub async fn restart(&mut self) {
        self.proc.kill9();
        let (proc, line) = start_retrying(
            || Self::command(&self.addr, &self.key, &self.upstream),
            &self.log,
        )
        .await;
        assert_eq!(line, self.connection_string, "the same hub again");
        self.proc = proc;
    }
}

/// `chatr-backend serve` in remote mode: SQLite on a file, local sign-in on, a fixed session
/// secret (sessions outlive restarts) and a send rate sized for the load.
#[derive(Debug)]
pub struct Backend {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    port: u16,
    database: PathBuf,
    hub: String,
    log: PathBuf,
    proc: Proc,
}

/// Messages one user may send in a burst and per second: a load generator, not a person.
const BURST: &str = "2000";
const PER_SECOND: &str = "2000";

impl Backend {
    /// Starts the backend on `port` against the hub at `connection_string`.
    pub async fn start(
        port: u16,
        database: PathBuf,
        connection_string: &str,
        log: PathBuf,
    ) -> Self {
        let mut backend = Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            database,
            hub: connection_string.to_owned(),
            log,
            proc: Proc { child: None },
        };
        backend.restart().await;
        backend
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chatr-backend"));
        command
            .args(["serve", "--local-signin", "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--database")
            .arg(&self.database)
            .args([
                "--message-burst",
                BURST,
                "--messages-per-second",
                PER_SECOND,
            ])
            .env("CHATR_WEBPUBSUB_CONNECTION_STRING", &self.hub)
            .env(
                "CHATR_SESSION_SECRET",
                "the-fault-suite-session-secret-of-32-characters",
            )
            .env("RUST_LOG", "warn");
        command
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        self.proc.kill9();
    }

    /// (Re)starts it on the same port and database.
    pub async fn restart(&mut self) {
        self.proc.kill9();
        let (proc, line) = start_retrying(|| self.command(), &self.log).await;
        assert_eq!(line, format!("chatr-backend listening on {}", self.url));
        self.proc = proc;
    }
}
