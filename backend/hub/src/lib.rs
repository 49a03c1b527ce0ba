//! `chatr-hub`: an embeddable server that speaks Azure Web PubSub's protocols.
//!
//! Work in progress: the engine arrives with the chatr-hub issue. Until then this crate only
//! answers the service's health probe, so the workspace, the binary and CI are in place.

use axum::Router;
use axum::routing::get;

/// The hub's HTTP application.
pub fn app() -> Router {
    Router::new().route("/api/health", get(|| async {}))
}
