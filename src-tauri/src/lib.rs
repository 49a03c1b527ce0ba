//! The Chatr desktop app: Tauri wiring only.
//!
//! # Layout
//! - [`auth`]: device-flow sign-in (`oauth2`) and refresh tokens in the OS keyring.
//! - [`backend`]: which backend the app talks to (the embedded one it starts in-process, or a
//!   configured remote one) and the HTTP calls to it. Plain Rust, tested without a window.
//! - [`idle`]: OS-level idle detection (pure policy + one source per OS behind `cfg`).
//! - [`realtime`]: the hub session's protocol pieces: frames, sequence acks, backoff, wake detection.
//! - [`tray_model`]: what the tray shows (unread badge, tooltip, status), pure.
//! - `tray`: the tray icon and menu, rendered from the model.
//! - [`chat_client`]: local sign-in, the REST calls and the realtime session of the signed-in user.
//! - `ui_event`: the one Rust → UI event (`chatr://ui`) and its emitter.
//! - [`launch`]: command-line options (data folder, idle threshold).
//! - `commands/`: thin `#[tauri::command]`s by feature; each calls into a plain module.
//!
//! `run()` builds the app: plugins, managed state, commands. It must stay wiring: logic goes in a
//! module that can be tested without a window.

pub mod auth;
pub mod backend;
pub mod chat_client;
mod commands;
pub mod idle;
pub mod launch;
pub mod realtime;
mod tray;
pub mod tray_model;
mod ui_event;

use tauri::Manager;
use tracing_subscriber::EnvFilter;

/// Starts the desktop app and blocks until it exits.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let app = tauri::Builder::default()
        // Must be the first plugin: a second launch hands over to the first one and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            focus_main_window(app);
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .setup(|app| {
            let options = launch::LaunchOptions::from_process();
            tracing::debug!(?options, "launch options");
            let mut config = backend::BackendConfig::from_value(options.server.as_deref())?;
            if let backend::BackendConfig::Embedded(database) = &mut config {
                let dir = match &options.data_dir {
                    Some(dir) => dir.clone(),
                    None => app.path().app_data_dir()?,
                };
                std::fs::create_dir_all(&dir)?;
                *database = Some(dir.join("chatr.db"));
            }
            let backend = tauri::async_runtime::block_on(backend::Backend::start(config))?;
            tracing::info!(url = %backend.base_url(), mode = ?backend.mode(), "backend ready");
            app.manage(backend);
            app.manage(tray::TrayState::build(app.handle()));
            app.manage(commands::chat::ChatState::default());
            app.manage(options);
            Ok(())
        })
        // Registering a command: here, build.rs COMMANDS and capabilities/main.json.
        .invoke_handler(tauri::generate_handler![
            commands::app::get_app_status,
            commands::chat::sign_in_local,
            commands::chat::list_chats,
            commands::chat::list_users,
            commands::chat::create_chat,
            commands::chat::join_chat,
            commands::chat::send_message,
            commands::chat::load_history,
        ])
        .build(tauri::generate_context!());

    let app = match app {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(cause = %err, "Chatr could not start");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event
            && let Some(backend) = handle.try_state::<backend::Backend>()
        {
            backend.shutdown();
        }
    });
}

/// Brings the main window to the front (a second launch of the app lands here).
pub(crate) fn focus_main_window(app: &tauri::AppHandle) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    for result in [window.unminimize(), window.show(), window.set_focus()] {
        if let Err(err) = result {
            tracing::warn!(cause = %err, "cannot focus the main window");
        }
    }
}
