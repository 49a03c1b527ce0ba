//! Generates Tauri's context and the permissions of our own commands.
//!
//! Registering a new command takes three places: `generate_handler!` in `lib.rs`, the list below,
//! and `capabilities/main.json`. A command missing here cannot be allowed to any window.

const COMMANDS: &[&str] = &[
    "get_app_status",
    "list_providers",
    "sign_in_local",
    "start_device_login",
    "finish_device_login",
    "cancel_device_login",
    "list_accounts",
    "sign_in_account",
    "restore_session",
    "sign_out",
    "list_chats",
    "list_users",
    "create_chat",
    "join_chat",
    "leave_chat",
    "delete_chat",
    "open_private_chat",
    "send_message",
    "load_history",
    "send_typing",
    "set_active_chat",
    "get_settings",
    "save_settings",
    "open_in_browser",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(err) = tauri_build::try_build(attributes) {
        // Build scripts report failure by panicking; there is no caller to return to.
        panic!("tauri build script failed: {err:#}");
    }
}
