//! The `chatr-backend` command line: parses flags, sets up tracing, binds, and calls
//! [`chatr_backend::serve`]. No server logic lives here.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Chatr's server: the REST API for the desktop app and the Web PubSub event handler.
#[derive(Debug, Parser)]
#[command(name = "chatr-backend", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the REST API until Ctrl+C (or SIGTERM).
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, env = "CHATR_LISTEN", default_value = "127.0.0.1:7071")]
        listen: SocketAddr,
        /// The URL clients reach this backend at, if not `http://<listen address>`.
        #[arg(long, env = "CHATR_PUBLIC_URL")]
        public_url: Option<String>,
        /// The SQLite database file; in memory when absent.
        #[arg(long, env = "CHATR_DATABASE")]
        database: Option<std::path::PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    match Cli::parse().command {
        Command::Serve {
            listen,
            public_url,
            database,
        } => {
            let tweak = |config: &mut chatr_backend::Config| {
                if let Some(url) = public_url {
                    config.public_url = url;
                }
            };
            let local =
                chatr_backend::local::start(listen, database, tweak, std::future::pending())
                    .await
                    .with_context(|| format!("cannot start the backend on {listen}"))?;
            // The first line on stdout is the URL, so scripts and tests can read it.
            println!("chatr-backend listening on {}", local.backend_url);
            tracing::info!(hub = %redact_key(&local.hub_connection_string), "embedded hub running");
            shutdown_signal().await;
            local.stop();
            tracing::info!("stopped");
        }
    }
    Ok(())
}

/// The connection string with its access key hidden, for logs.
fn redact_key(connection_string: &str) -> String {
    connection_string
        .split(';')
        .map(|part| {
            if part.to_ascii_lowercase().starts_with("accesskey=") {
                "AccessKey=<redacted>"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Completes on Ctrl+C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(cause = %err, "cannot listen for Ctrl+C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(cause = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
