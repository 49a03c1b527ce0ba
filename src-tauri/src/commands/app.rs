//! Commands about the app itself: version and the backend it talks to.

use serde::Serialize;
use tauri::State;

use super::CommandError;
use crate::backend::{Backend, Mode};

/// What the status line shows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AppStatus {
    /// This app's version.
    app_version: String,
    /// The backend's base URL.
    backend_url: String,
    /// Embedded or remote.
    backend_mode: Mode,
    /// The backend's own health answer (status, service, version).
    backend: chatr_protocol::Health,
}

/// Returns the app's version and the backend's health, asked over HTTP right now.
#[tauri::command]
pub(crate) async fn get_app_status(
    app: tauri::AppHandle,
    backend: State<'_, Backend>,
) -> Result<AppStatus, CommandError> {
    let health = backend.health().await?;
    Ok(AppStatus {
        app_version: app.package_info().version.to_string(),
        backend_url: backend.base_url().to_owned(),
        backend_mode: backend.mode(),
        backend: health,
    })
}
