//! The `chatr-hub` command line: a standalone Azure Web PubSub-compatible server.
//!
//! ```text
//! chatr-hub --listen 127.0.0.1:8080 --access-key <key> --hub chat \
//!           --upstream "chat=http://127.0.0.1:7071/api/eventHandler"
//! ```
//! The first line on stdout is the connection string to give to SDKs and backends.

use std::net::SocketAddr;

use anyhow::Context;
use chatr_hub::{HubConfig, UpstreamHandler};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// An Azure Web PubSub-compatible server for local development and tests.
#[derive(Debug, Parser)]
#[command(name = "chatr-hub", version, about)]
struct Cli {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "CHATR_HUB_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Access key (repeat for a secondary key); a random one when absent.
    #[arg(long = "access-key", env = "CHATR_HUB_ACCESS_KEY")]
    access_keys: Vec<String>,
    /// A hub name, for documentation and upstream defaults (any hub name is served).
    #[arg(long = "hub")]
    hubs: Vec<String>,
    /// `hub=urlTemplate` of an upstream event handler taking connect, connected, disconnected and
    /// every user event (repeatable).
    #[arg(long = "upstream")]
    upstreams: Vec<String>,
    /// The most sockets open at once on the port (WebSockets included); more wait for one to close.
    #[arg(long, env = "CHATR_HUB_MAX_SOCKETS")]
    max_sockets: Option<usize>,
    /// The most WebSocket connections one user may have in one hub; more are refused with 429.
    #[arg(long, env = "CHATR_HUB_MAX_CONNECTIONS_PER_USER")]
    max_connections_per_user: Option<usize>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut keys = cli.access_keys;
    if keys.is_empty() {
        keys.push(chatr_hub::random_access_key());
    }
    let mut config = HubConfig::new(keys[0].clone());
    config.access_keys = keys.clone();
    if let Some(max) = cli.max_sockets {
        config.serve_limits.max_sockets = max;
    }
    if let Some(max) = cli.max_connections_per_user {
        config.max_connections_per_user = max;
    }
    for upstream in &cli.upstreams {
        let (hub, url) = upstream
            .split_once('=')
            .with_context(|| format!("--upstream must be hub=url, not {upstream:?}"))?;
        config = config.with_upstream(hub, UpstreamHandler::all_events(url));
    }
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cli.listen))?;
    let addr = listener.local_addr()?;
    println!(
        "{}",
        chatr_hub::connection_string(&format!("http://{addr}"), &keys[0])
    );
    tracing::info!(hubs = ?cli.hubs, %addr, "chatr-hub listening");
    chatr_hub::serve(listener, config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("server failed")
}
