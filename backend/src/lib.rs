//! `chatr-backend`: the server half of Chatr.
//!
//! It serves the REST API the desktop app calls and (in later work) the Web PubSub event handler.
//! The same library runs standalone (`chatr-backend serve`) and embedded in the desktop app.
//!
//! # Layout
//! - [`api`]: one module per REST resource; `api::router` assembles them.
//! - [`azure_identity`]: Entra ID tokens from Azure managed identity (Tables, Web PubSub REST).
//! - [`chat`]: pure chat rules: validation, permissions, private-chat ids, presence, rate limits.
//! - `chat_service`: one operation per client event: rules, then store, then hub.
//! - [`events`]: the Web PubSub CloudEvents webhook: parsing and verifying requests.
//! - [`hub_client`]: the data-plane REST client: the only outbound HTTP to the hub.
//! - [`identity`]: who a caller is: the local device-grant provider, token verification.
//! - [`store`]: everything the backend remembers, behind one `Store` trait (SQLite; Table Storage).
//! - [`local`]: hub and backend together in this process, on loopback (the embedded default);
//!   [`local_client`] signs people in to it over HTTP (tests, benchmarks).
//! - `state`: [`Config`] and the [`AppState`] every handler shares.
//! - `main.rs`: the command line, tracing set-up and binding; nothing else.
//!
//! The caller binds the listener and owns the shutdown signal ([`serve`]), so tests and the desktop
//! app can run the backend on port 0 and stop it when they are done. Nothing here may hold state
//! that matters in memory: any number of instances must be able to serve one hub.

mod api;
pub mod azure_identity;
pub mod chat;
mod chat_service;
mod error;
pub mod events;
pub mod hub_client;
pub mod identity;
pub mod local;
pub mod local_client;
mod state;
pub mod store;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use state::{AppState, Config, HubSettings};

/// How long one HTTP request may take before the server answers 408 and moves on; it also bounds
/// how long graceful shutdown waits for requests in flight.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the backend's HTTP application. Tests drive it with `tower::ServiceExt::oneshot`.
/// When a host allow-list is configured (`api::host_check`), requests for other hosts are refused
/// before any route.
pub fn app(state: AppState) -> Router {
    let hosts = state.shared().allowed_hosts.clone();
    let router = api::router().with_state(state);
    let router = match hosts {
        Some(hosts) => router.layer(axum::middleware::from_fn_with_state(
            hosts,
            api::host_check::check_host,
        )),
        None => router,
    };
    router
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
}

/// Serves the backend on `listener` until `shutdown` completes, then drains requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Stored connections the hub no longer has are forgotten, at start and then periodically.
    let reconciler = tokio::spawn(chat_service::keep_connections_reconciled(state.clone()));
    // Header-read timeout and a socket cap (the hub's accept loop). Peer addresses reach the
    // handlers as `ConnectInfo<SocketAddr>` (per-client limits of local sign-in).
    let served = chatr_hub::serve_with_limits(
        listener,
        app(state),
        chatr_hub::ServeLimits::default(),
        shutdown,
    )
    .await;
    reconciler.abort();
    served
}
