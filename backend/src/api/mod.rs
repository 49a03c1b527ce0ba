//! The REST API under `/api`: one module per resource, assembled into one router here.

mod health;

use axum::Router;
use axum::routing::get;

use crate::AppState;

/// All REST routes, still waiting for their state.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/health", get(health::get_health))
}
