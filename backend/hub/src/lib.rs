//! `chatr-hub`: a server that speaks Azure Web PubSub's public protocols, so Chatr (and anyone
//! building on Web PubSub) runs locally and in tests exactly as against the real service.
//!
//! # Layout
//! - [`config`]: access keys, upstream handlers per hub, limits.
//! - `auth`: client and REST access tokens (pure).
//! - `roles`: permissions and wildcard group patterns (pure).
//! - `frame`: the JSON subprotocols' frames (pure).
//! - `reliable`: sequence numbering and the replay buffer of reliable connections (pure).
//! - `odata`: the `filter` expression language of the REST API (pure).
//! - `engine`: live connections, groups and users; fan-out through bounded per-connection queues.
//! - `server`: the WebSocket handshake (auth, upstream `connect`, subprotocol, resume).
//! - `connection`: one socket's reader and writer loops.
//! - `upstream`: CloudEvents to the event handler (abuse protection, signatures, retries).
//! - `rest`: the data-plane REST API.
//! - [`accept`]: the HTTP/1.1 accept loop with a header timeout and a socket cap (the backend's
//!   too).
//!
//! The caller binds the listener and owns the shutdown signal ([`serve`]); on shutdown every client
//! gets a `disconnected` system frame before its socket closes.

pub mod accept;
pub mod config;

mod auth;
mod connection;
mod engine;
mod frame;
mod odata;
mod reliable;
mod rest;
mod roles;
mod server;
mod upstream;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{any, get};
use tokio::net::TcpListener;

pub use accept::{ServeLimits, serve_with_limits};
pub use config::{HubConfig, UpstreamHandler};

/// How long shutdown waits for clients to get their farewell frames.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// State shared by every handler.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) engine: engine::Engine,
    pub(crate) upstream: upstream::Upstream,
    /// `http://host:port` as clients reach this server.
    endpoint: String,
}

impl Shared {
    /// The `aud` of client tokens for `hub`.
    pub(crate) fn client_audience(&self, hub: &str) -> String {
        format!("{}/client/hubs/{hub}", self.endpoint)
    }
}

/// The connection string for a hub server at `endpoint` (`http://host:port`) with `access_key`.
pub fn connection_string(endpoint: &str, access_key: &str) -> String {
    format!("Endpoint={endpoint};AccessKey={access_key};Version=1.0;")
}

/// A fresh random access key (43 URL-safe characters, like Azure's).
pub fn random_access_key() -> String {
    use rand::Rng;
    rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(43)
        .map(char::from)
        .collect()
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/client/hubs/{hub}", get(server::client_hub))
        .route("/client", get(server::client_query))
        .route("/client/", get(server::client_query))
        .route("/api/health", get(|| async {}).head(|| async {}))
        .route("/api/hubs/{*rest}", any(rest::dispatch))
        .with_state(shared)
}

/// Serves the hub on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: HubConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let endpoint = format!("http://{addr}");
    let upstream = upstream::Upstream::new(&config, addr.to_string(), config.upstream_timeout);
    let limits = config.serve_limits.clone();
    let shared = Arc::new(Shared {
        engine: engine::Engine::new(config),
        upstream,
        endpoint,
    });
    let watcher = shared.clone();
    let shutdown = async move {
        shutdown.await;
        watcher.engine.shutdown.cancel();
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        while watcher.engine.connection_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    serve_with_limits(listener, router(shared), limits, shutdown).await
}
