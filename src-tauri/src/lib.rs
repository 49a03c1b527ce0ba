//! The Chatr desktop app: Tauri wiring only.
//!
//! # Layout
//! - [`auth`]: device-flow sign-in (`oauth2`) and refresh tokens in the OS keyring.
//! - [`backend`]: which backend the app talks to (the embedded one it starts in-process, or a
//!   configured remote one) and the HTTP calls to it. Plain Rust, tested without a window.
//! - [`idle`]: OS-level idle detection (pure policy + one source per OS behind `cfg`).
//! - [`realtime`]: the hub session's protocol pieces: frames, sequence acks, backoff, wake detection.
//! - [`tray_model`]: what the tray shows (unread badge, tooltip, status, menu), pure.
//! - [`unread`]: unread counts per chat, pure.
//! - [`notify`]: which pushes become OS notifications (pure), the desktop notifier, and
//!   `notify::alerts`, the managed state tying unread counts, notifications and the tray together.
//! - `tray`: the tray icon and menu, rendered from the model.
//! - [`chat_client`]: sign-in (local, device code, silent), the REST calls and the realtime session
//!   of the signed-in user, renewing its credentials when they expire.
//! - [`dispatch`]: the session's event loop: exactly-once messages ([`inbox`]), gap fetch after a
//!   fresh connection, hand-off to an outlet; `delivery` is the app's outlet.
//! - [`settings`], [`accounts`]: the settings file and the remembered accounts (no secrets).
//! - [`ui_event`]: the one Rust → UI event (`chatr://ui`) and its emitter.
//! - [`launch`]: command-line options (data folder, server, idle threshold).
//! - [`platform`]: per-OS process set-up (the Windows AppUserModelID) and the app's OS identity.
//! - `state/`: managed state, one struct per concern (profile, session).
//! - `commands/`: thin `#[tauri::command]`s by feature; each calls into a plain module. The list
//!   is the UI contract, `src-tauri/CONTRACT.md`.
//!
//! `run()` builds the app: plugins, managed state, commands. It must stay wiring: logic goes in a
//! module that can be tested without a window.

pub mod accounts;
pub mod auth;
pub mod backend;
pub mod chat_client;
mod commands;
mod delivery;
pub mod dispatch;
pub mod idle;
pub mod inbox;
pub mod launch;
pub mod notify;
pub mod platform;
pub mod realtime;
pub mod settings;
mod state;
mod tray;
pub mod tray_model;
pub mod ui_event;
pub mod unread;

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

    platform::prepare_process();
    let options = launch::LaunchOptions::from_process();
    let mut builder = tauri::Builder::default();
    // One instance per profile: a second launch with the default data folder hands over to the
    // first and exits. An explicit `--data-dir` is another profile (tests run two side by side).
    if options.data_dir.is_none() {
        // Must be the first plugin.
        builder = builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            focus_main_window(app);
        }));
    }
    let app = builder
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .setup(move |app| {
            tracing::debug!(?options, "launch options");
            let dir = match &options.data_dir {
                Some(dir) => dir.clone(),
                None => app.path().app_data_dir()?,
            };
            std::fs::create_dir_all(&dir)?;
            let saved = settings::SettingsFile::in_dir(&dir).load();
            // The command line wins over the settings file.
            let server = options.server.clone().or(saved.server_url.clone());
            let mut config = backend::BackendConfig::from_value(server.as_deref())?;
            if let backend::BackendConfig::Embedded(database) = &mut config {
                *database = Some(dir.join("chatr.db"));
            }
            let shared_file = backend::SharedEmbedded::in_dir(&app.path().app_local_data_dir()?);
            let backend = tauri::async_runtime::block_on(backend::Backend::start_or_join(
                config,
                &shared_file,
            ))?;
            tracing::info!(url = %backend.base_url(), mode = ?backend.mode(), "backend ready");
            app.manage(backend);
            app.manage(state::Profile::load(&dir, saved.server_url));
            app.manage(state::SessionState::default());
            app.manage(tray::TrayState::build(app.handle()));
            app.manage(notify::alerts::Alerts::start(app.handle()));
            // The tray's "Sign out": like the command (without forgetting the account), then
            // tell the UI, which did not ask.
            app.state::<tray::TrayState>().on_sign_out(|app| {
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    let (Some(profile), Some(session)) = (
                        app.try_state::<state::Profile>(),
                        app.try_state::<state::SessionState>(),
                    ) else {
                        return;
                    };
                    commands::auth::end_session(&app, &profile, &session, false).await;
                    ui_event::emit(&app, ui_event::UiEvent::SignedOut { reason: None });
                });
            });
            app.manage(options.clone());
            exit_on_signals(app.handle().clone());
            Ok(())
        })
        .on_window_event(|window, event| match event {
            tauri::WindowEvent::Focused(focused) => {
                let focused = *focused;
                window
                    .state::<state::SessionState>()
                    .set_view(|view| view.focused = focused);
                if let Some(alerts) = window.try_state::<notify::alerts::Alerts>() {
                    alerts.on_view(window.app_handle());
                }
            }
            // Close to the tray: the app keeps its session (and notifications) until Quit. A
            // second launch brings the window back where there is no tray to click.
            tauri::WindowEvent::CloseRequested { api, .. } => {
                api.prevent_close();
                if let Err(err) = window.hide() {
                    tracing::warn!(cause = %err, "cannot hide the window");
                }
            }
            _ => {}
        })
        // Registering a command: here, build.rs COMMANDS and capabilities/main.json.
        .invoke_handler(tauri::generate_handler![
            commands::app::get_app_status,
            commands::auth::list_providers,
            commands::auth::sign_in_local,
            commands::auth::start_device_login,
            commands::auth::finish_device_login,
            commands::auth::cancel_device_login,
            commands::auth::list_accounts,
            commands::auth::sign_in_account,
            commands::auth::restore_session,
            commands::auth::sign_out,
            commands::chats::list_chats,
            commands::chats::list_users,
            commands::chats::create_chat,
            commands::chats::join_chat,
            commands::chats::leave_chat,
            commands::chats::delete_chat,
            commands::chats::open_private_chat,
            commands::chats::send_message,
            commands::chats::load_history,
            commands::chats::send_typing,
            commands::chats::set_active_chat,
            commands::settings::get_settings,
            commands::settings::save_settings,
            commands::settings::open_in_browser,
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
        // macOS: a click on the Dock icon (or opening the app again from Finder, which macOS
        // hands to the running instance) shows the window that Close hid.
        #[cfg(target_os = "macos")]
        if let tauri::RunEvent::Reopen { .. } = event {
            focus_main_window(handle);
        }
        if let tauri::RunEvent::Exit = event {
            // Close the session cleanly, so others see this user leave at once.
            if let Some(session) = handle.try_state::<state::SessionState>() {
                tauri::async_runtime::block_on(async {
                    if let Some(active) = session.active.read().await.as_ref() {
                        let _ = active.signed.sign_out(false).await;
                    }
                });
            }
            if let Some(backend) = handle.try_state::<backend::Backend>() {
                backend.shutdown();
            }
        }
    });
}

/// SIGTERM (logout, `kill`, a test driver) and SIGINT (Ctrl+C in a terminal), and Ctrl+C or a
/// closed console on Windows, quit like the tray's Quit: through the app's exit, which closes the
/// session and the embedded backend.
fn exit_on_signals(app: tauri::AppHandle) {
    #[cfg(unix)]
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("cannot listen for termination signals");
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("asked to quit");
        app.exit(0);
    });
    // Windows: Ctrl+C, or closing the console a debug build runs in (release builds have no
    // console; logging off ends the app through its windows).
    #[cfg(windows)]
    tauri::async_runtime::spawn(async move {
        use tokio::signal::windows::{ctrl_c, ctrl_close};
        let (Ok(mut int), Ok(mut close)) = (ctrl_c(), ctrl_close()) else {
            tracing::warn!("cannot listen for console control events");
            return;
        };
        tokio::select! {
            _ = int.recv() => {}
            _ = close.recv() => {}
        }
        tracing::info!("asked to quit");
        app.exit(0);
    });
    #[cfg(not(any(unix, windows)))]
    let _ = app;
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
