//! The user's settings (`settings.json` in the app's data folder): which server, the idle
//! threshold, notifications, do-not-disturb and theme. Never holds a secret: tokens live in the
//! OS keyring ([`crate::auth::secrets`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why settings could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read or written.
    #[error("cannot save the settings: {0}")]
    Io(#[from] std::io::Error),
    /// A value is out of range.
    #[error("{0}")]
    Invalid(String),
}

/// The colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Theme {
    /// Follow the OS.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// Everything the settings view edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// A remote backend's URL; `None` = the embedded one.
    pub server_url: Option<String>,
    /// Seconds without input before the user counts as idle.
    pub idle_threshold_secs: u64,
    /// OS notifications on or off.
    pub notifications: bool,
    /// Do not disturb: no notifications, whatever `notifications` says.
    pub do_not_disturb: bool,
    /// The colour theme.
    pub theme: Theme,
    /// In answers only: a changed server applies at the next start.
    pub restart_needed: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server_url: None,
            idle_threshold_secs: crate::idle::DEFAULT_THRESHOLD.as_secs(),
            notifications: true,
            do_not_disturb: false,
            theme: Theme::System,
            restart_needed: false,
        }
    }
}

/// The idle threshold's allowed range, seconds.
pub const IDLE_RANGE: std::ops::RangeInclusive<u64> = 10..=3600;

impl Settings {
    /// Checks and normalises settings coming from the UI.
    pub fn validated(mut self) -> Result<Self, Error> {
        if !IDLE_RANGE.contains(&self.idle_threshold_secs) {
            return Err(Error::Invalid(format!(
                "the idle time must be between {} and {} seconds",
                IDLE_RANGE.start(),
                IDLE_RANGE.end()
            )));
        }
        self.server_url = match self.server_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => match crate::backend::BackendConfig::from_value(Some(url)) {
                Ok(crate::backend::BackendConfig::Remote(url)) => Some(url),
                _ => {
                    return Err(Error::Invalid(format!("“{url}” is not an http(s) address")));
                }
            },
        };
        self.restart_needed = false;
        Ok(self)
    }
}

/// Reads and writes the settings file.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    /// The settings file in the data folder `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            path: dir.join("settings.json"),
        }
    }

    /// The saved settings; defaults when there is no file or it cannot be parsed (a broken file
    /// must not keep the app from starting; it is replaced at the next save).
    pub fn load(&self) -> Settings {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|err| {
                tracing::warn!(cause = %err, "settings unreadable; using defaults");
                Settings::default()
            }),
            Err(_) => Settings::default(),
        }
    }

    /// Saves `settings` (atomically: a crash leaves the old or the new file, never half of one).
    pub fn save(&self, settings: &Settings) -> Result<(), Error> {
        write_atomically(
            &self.path,
            &serde_json::to_vec_pretty(settings).map_err(std::io::Error::other)?,
        )?;
        Ok(())
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("chatr-settings-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn missing_or_broken_files_give_defaults() {
        let dir = temp_dir();
        let file = SettingsFile::in_dir(&dir);
        assert_eq!(file.load(), Settings::default());
        std::fs::write(dir.join("settings.json"), b"{ not json").unwrap();
        assert_eq!(file.load(), Settings::default());
    }

    #[test]
    fn saved_settings_load_back() {
        let file = SettingsFile::in_dir(&temp_dir());
        let settings = Settings {
            server_url: Some("https://chat.example.com".into()),
            idle_threshold_secs: 120,
            notifications: false,
            do_not_disturb: true,
            theme: Theme::Dark,
            restart_needed: false,
        };
        file.save(&settings).unwrap();
        assert_eq!(file.load(), settings);
    }

    #[test]
    fn the_wire_format_is_camel_case() {
        let json = serde_json::to_value(Settings::default()).unwrap();
        assert_eq!(json["idleThresholdSecs"], 60);
        assert_eq!(json["doNotDisturb"], false);
        assert_eq!(json["theme"], "system");
        assert_eq!(json["serverUrl"], serde_json::Value::Null);
    }

    #[test]
    fn validation_rejects_bad_values_and_normalises_the_url() {
        let bad_idle = Settings {
            idle_threshold_secs: 1,
            ..Settings::default()
        };
        assert!(bad_idle.validated().is_err());
        let bad_url = Settings {
            server_url: Some("ftp://x".into()),
            ..Settings::default()
        };
        assert!(bad_url.validated().is_err());
        let blank = Settings {
            server_url: Some("  ".into()),
            ..Settings::default()
        };
        assert_eq!(blank.validated().unwrap().server_url, None);
        let ok = Settings {
            server_url: Some("https://chat.example.com/".into()),
            ..Settings::default()
        };
        assert_eq!(
            ok.validated().unwrap().server_url.as_deref(),
            Some("https://chat.example.com")
        );
    }
}
