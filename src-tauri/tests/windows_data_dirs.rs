//! Windows only: the data folders the app resolves (through Tauri's path resolver, as `run()`
//! does) are the per-user ones a Windows user expects, and the app's files work there: the
//! settings file, the embedded backend's SQLite database and the file instances share the
//! backend through. CI runs it under Wine, where the folders live in the Wine prefix's profile.

#![cfg(target_os = "windows")]
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::{Component, Path};

use chatr_desktop::backend::{Backend, BackendConfig, Mode, SharedEmbedded};
use chatr_desktop::platform::APP_ID;
use chatr_desktop::settings::{Settings, SettingsFile, Theme};
use tauri::Manager;

/// The app's two folders, from Tauri's resolver with the app's identifier.
fn app_dirs() -> (std::path::PathBuf, std::path::PathBuf) {
    let mut context = tauri::test::mock_context(tauri::test::noop_assets());
    context.config_mut().identifier = APP_ID.to_owned();
    let app = tauri::test::mock_builder().build(context).unwrap();
    let paths = app.path();
    (
        paths.app_data_dir().unwrap(),
        paths.app_local_data_dir().unwrap(),
    )
}

/// The last `n` components of `path`, as strings.
fn tail(path: &Path, n: usize) -> Vec<String> {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts[parts.len().saturating_sub(n)..].to_vec()
}

#[test]
fn the_data_folders_are_the_users_roaming_and_local_app_data() {
    let (data, local) = app_dirs();
    // C:\Users\<name>\AppData\Roaming\io.github.chatr.desktop and …\Local\io.github.chatr.desktop
    for (dir, kind) in [(&data, "Roaming"), (&local, "Local")] {
        assert!(
            matches!(dir.components().next(), Some(Component::Prefix(_))),
            "{dir:?} does not start with a drive"
        );
        let last = tail(dir, 3);
        assert!(
            last[0].eq_ignore_ascii_case("AppData") && last[1].eq_ignore_ascii_case(kind),
            "{dir:?} is not in AppData\\{kind}"
        );
        assert_eq!(last[2], APP_ID);
        assert_eq!(
            dir.parent().unwrap().to_string_lossy().to_lowercase(),
            std::env::var(if kind == "Roaming" {
                "APPDATA"
            } else {
                "LOCALAPPDATA"
            })
            .unwrap()
            .to_lowercase(),
            "Tauri and the environment disagree on the folder"
        );
    }
}

#[tokio::test]
async fn settings_and_the_embedded_database_live_in_the_data_folders() {
    let (data, local) = app_dirs();
    // A profile folder of this test's own below the app's, with a space and non-ASCII letters, as
    // user names on Windows have them.
    let profile = data.join(format!("test profile é {}", std::process::id()));
    let shared_dir = local.join(format!("test shared é {}", std::process::id()));
    std::fs::create_dir_all(&profile).unwrap();
    std::fs::create_dir_all(&shared_dir).unwrap();

    let settings = Settings {
        idle_threshold_secs: 90,
        theme: Theme::Dark,
        ..Settings::default()
    };
    SettingsFile::in_dir(&profile).save(&settings).unwrap();
    assert_eq!(SettingsFile::in_dir(&profile).load(), settings);

    let database = profile.join("chatr.db");
    let shared = SharedEmbedded::in_dir(&shared_dir);
    let backend = Backend::start_or_join(BackendConfig::Embedded(Some(database.clone())), &shared)
        .await
        .unwrap();
    assert_eq!(backend.mode(), Mode::Embedded);
    backend.health().await.unwrap();
    assert!(database.is_file(), "no database at {database:?}");
    assert!(
        shared_dir.join("embedded-backend.json").is_file(),
        "other instances could not find this backend"
    );
    // A second instance on the same shared folder joins the first one's backend.
    let second = Backend::start_or_join(BackendConfig::Embedded(None), &shared)
        .await
        .unwrap();
    assert_eq!(second.mode(), Mode::Joined);
    assert_eq!(second.base_url(), backend.base_url());
    backend.shutdown();

    let _ = std::fs::remove_dir_all(&profile);
    let _ = std::fs::remove_dir_all(&shared_dir);
}
