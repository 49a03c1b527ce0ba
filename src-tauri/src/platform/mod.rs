//! Per-OS set-up the process itself must do before any window exists, and the identities the
//! installers and the OS match against the running app. Holds no logic of the app; on Linux it
//! does nothing.
//!
//! - Windows: the process's AppUserModelID. Toast notifications and taskbar grouping belong to
//!   the AppUserModelID of the Start-menu shortcut the installer creates
//!   (`packaging/windows/installer.nsi` sets the same id on it); setting it on the process too
//!   makes a started app and its shortcut one app to the shell.
//! - macOS: nothing to do at run time: notifications are attributed to the bundle id
//!   (`identifier` in `tauri.conf.json`), which the bundler writes to `Info.plist`.

#[cfg(target_os = "windows")]
mod windows;

/// The Windows AppUserModelID and the macOS bundle id: the app's `identifier` in
/// `tauri.conf.json` (a test checks they agree), which tauri-plugin-notification also uses.
pub const APP_ID: &str = "io.github.chatr.desktop";

/// Does what the OS needs before the first window; failures are logged, never fatal.
pub fn prepare_process() {
    #[cfg(target_os = "windows")]
    if let Err(err) = windows::set_app_user_model_id(APP_ID) {
        tracing::warn!(cause = %err, "cannot set the AppUserModelID: notifications may show as another app");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn the_app_id_is_the_configured_identifier() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
        assert_eq!(config["identifier"], APP_ID);
    }
}
