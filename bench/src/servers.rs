//! The servers under test, started as child processes on loopback and stopped when dropped, and
//! what they cost: CPU time and resident memory read from `/proc` (Linux only, like the benchmark).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Which server a run talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// chatr-hub, Web PubSub's `json.webpubsub.azure.v1` subprotocol.
    Hub,
    /// NATS 2 with its WebSocket listener.
    Nats,
    /// socket.io 4 on Node.js, WebSocket transport.
    SocketIo,
}

impl Kind {
    /// The name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hub => "chatr-hub",
            Self::Nats => "NATS (ws)",
            Self::SocketIo => "socket.io",
        }
    }
}

/// A running server.
pub struct Server {
    /// What it is.
    pub kind: Kind,
    /// Loopback port of its WebSocket endpoint.
    pub port: u16,
    /// The hub's access key (signs client tokens); empty for the others.
    pub key: String,
    child: Child,
    _dir: Option<TempDir>,
}

/// CPU time and memory of a process at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// User + system CPU, in seconds.
    pub cpu_seconds: f64,
    /// Resident set size, in KiB.
    pub rss_kib: u64,
}

impl Server {
    /// Starts a server of `kind`; `root` is the repository (for binaries and the socket.io peer).
    pub async fn start(kind: Kind, root: &Path) -> anyhow::Result<Self> {
        match kind {
            Kind::Hub => start_hub(root).await,
            Kind::Nats => start_nats().await,
            Kind::SocketIo => start_socketio(root).await,
        }
    }

    /// The server's CPU time and RSS now.
    pub fn usage(&self) -> anyhow::Result<Usage> {
        let pid = self.child.id().context("the server has exited")?;
        usage_of(&format!("/proc/{pid}"))
    }
}

/// CPU time and RSS of this process.
pub fn own_usage() -> anyhow::Result<Usage> {
    usage_of("/proc/self")
}

/// CPU time and RSS of the process whose `/proc` folder is `proc_dir`.
pub fn usage_of(proc_dir: &str) -> anyhow::Result<Usage> {
    let stat = std::fs::read_to_string(format!("{proc_dir}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').context("odd /proc stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    // /proc reports CPU time in USER_HZ ticks, which Linux fixes at 100 a second for user space.
    let per_second = 100.0;
    let status = std::fs::read_to_string(format!("{proc_dir}/status"))?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .context("no VmRSS")?
        .parse()?;
    Ok(Usage {
        cpu_seconds: ticks as f64 / per_second,
        rss_kib,
    })
}

/// Reads the first line a child prints.
pub async fn first_line(child: &mut Child) -> anyhow::Result<String> {
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .context("the server did not start in 30 s")??
        .context("the server exited before printing its address")?;
    // Keep draining so a chatty server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(line)
}

async fn start_hub(root: &Path) -> anyhow::Result<Server> {
    let binary = root.join("target/release/chatr-hub");
    if !binary.exists() {
        bail!("build it first: cargo build --release -p chatr-hub");
    }
    let key: String = format!("bench-{}", rand::random::<u64>());
    let mut child = Command::new(binary)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--access-key",
            &key,
            "--hub",
            "bench",
            // A capacity benchmark: the per-port and per-user caps would be what it measures.
            "--max-sockets",
            "200000",
            "--max-connections-per-user",
            "200000",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let line = first_line(&mut child).await?;
    let port = line
        .split(';')
        .find_map(|part| part.strip_prefix("Endpoint=http://127.0.0.1:"))
        .context("no endpoint in the hub's first line")?
        .parse()?;
    Ok(Server {
        kind: Kind::Hub,
        port,
        key,
        child,
        _dir: None,
    })
}

async fn start_nats() -> anyhow::Result<Server> {
    let dir = TempDir::new("nats")?;
    let (client_port, ws_port) = (free_port()?, free_port()?);
    let config = dir.0.join("nats.conf");
    std::fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:{client_port}\nmax_payload: 1MB\nwrite_deadline: \"10s\"\n\
             websocket {{\n  listen: \"127.0.0.1:{ws_port}\"\n  no_tls: true\n}}\n"
        ),
    )?;
    let child = Command::new("nats-server")
        .arg("-c")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("nats-server is not installed (apt-get install nats-server)")?;
    wait_for_port(ws_port).await?;
    Ok(Server {
        kind: Kind::Nats,
        port: ws_port,
        key: String::new(),
        child,
        _dir: Some(dir),
    })
}

async fn start_socketio(root: &Path) -> anyhow::Result<Server> {
    let peer = root.join("bench/peers/socketio");
    if !peer.join("node_modules/socket.io").exists() {
        bail!("install it first: npm ci --prefix bench/peers/socketio");
    }
    let mut child = Command::new("node")
        .arg("server.mjs")
        .current_dir(&peer)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let port = first_line(&mut child).await?.trim().parse()?;
    Ok(Server {
        kind: Kind::SocketIo,
        port,
        key: String::new(),
        child,
        _dir: None,
    })
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_for_port(port: u16) -> anyhow::Result<()> {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    bail!("nothing listens on port {port}")
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh directory named after `what`.
    pub fn new(what: &str) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "chatr-bench-{what}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
