//! The Chatr desktop app's entry point; all wiring lives in `chatr_desktop::run`.

// Hide the console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    chatr_desktop::run();
}
