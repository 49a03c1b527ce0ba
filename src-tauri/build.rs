//! Generates Tauri's context and the permissions of our own commands.
//!
//! Registering a new command takes three places: `generate_handler!` in `lib.rs`, the list below,
//! and `capabilities/main.json`. A command missing here cannot be allowed to any window.

const COMMANDS: &[&str] = &[
    "get_app_status",
    "sign_in_local",
    "list_chats",
    "list_users",
    "create_chat",
    "join_chat",
    "send_message",
    "load_history",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(err) = tauri_build::try_build(attributes) {
        // Build scripts report failure by panicking; there is no caller to return to.
        panic!("tauri build script failed: {err:#}");
    }
}
