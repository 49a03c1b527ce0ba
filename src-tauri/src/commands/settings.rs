//! Settings commands, and opening links in the system browser.

use tauri::State;
use tauri_plugin_opener::OpenerExt;

use super::CommandError;
use crate::settings::Settings;
use crate::state::Profile;

/// The saved settings.
#[tauri::command]
pub(crate) fn get_settings(profile: State<'_, Profile>) -> Settings {
    profile.settings()
}

/// Validates and saves settings; `restartNeeded` says a changed server applies at the next start.
#[tauri::command]
pub(crate) fn save_settings(
    profile: State<'_, Profile>,
    settings: Settings,
) -> Result<Settings, CommandError> {
    profile.save_settings(settings).map_err(|err| CommandError {
        kind: match err {
            crate::settings::Error::Invalid(_) => "badRequest",
            crate::settings::Error::Io(_) => "io",
        },
        message: err.to_string(),
    })
}

/// Opens an `http(s)` link in the system browser; anything else is refused.
#[tauri::command]
pub(crate) fn open_in_browser(app: tauri::AppHandle, url: String) -> Result<(), CommandError> {
    let bad = || CommandError {
        kind: "badUrl",
        message: "only http and https links open".into(),
    };
    let parsed = reqwest::Url::parse(&url).map_err(|_| bad())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad());
    }
    app.opener()
        .open_url(parsed.as_str(), None::<&str>)
        .map_err(|err| CommandError {
            kind: "io",
            message: format!("cannot open the browser: {err}"),
        })
}
