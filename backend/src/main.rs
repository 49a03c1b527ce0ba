//! The `chatr-backend` command line: parses flags, sets up tracing, binds, and calls
//! [`chatr_backend::serve`]. No server logic lives here.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;
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
        Command::Serve { listen, public_url } => {
            let listener = TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let addr = listener.local_addr()?;
            // The first line on stdout is the URL, so scripts and tests can read it.
            println!("chatr-backend listening on http://{addr}");
            let public_url = public_url.unwrap_or_else(|| format!("http://{addr}"));
            let state = chatr_backend::AppState::new(chatr_backend::Config::local(public_url));
            chatr_backend::serve(listener, state, shutdown_signal())
                .await
                .context("server failed")?;
            tracing::info!("stopped");
        }
    }
    Ok(())
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
