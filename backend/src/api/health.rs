//! `GET /api/health` (and `HEAD`): liveness for load balancers, probes and the desktop app.

use axum::Json;
use chatr_protocol::{Health, HealthStatus};

/// The name this service reports in its health answer.
const SERVICE_NAME: &str = "chatr-backend";

/// Answers that the backend is up, with its version. Needs no sign-in and reveals nothing else.
#[utoipa::path(get, path = "/api/health", tag = "health",
    responses((status = 200, description = "The backend is up", body = Health)))]
pub(crate) async fn get_health() -> Json<Health> {
    Json(Health {
        status: HealthStatus::Ok,
        service: SERVICE_NAME.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
