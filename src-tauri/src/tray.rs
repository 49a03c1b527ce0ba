//! The system tray icon and its menu, rendered from a [`TrayModel`]. Failures are logged, never
//! fatal: some desktops (and Xvfb in CI) have no tray host, and the app must run without one.

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Wry};

use crate::tray_model::{self, Status, TrayModel};

const MENU_OPEN: &str = "open";
const MENU_QUIT: &str = "quit";

/// The tray icon, once built. Managed as Tauri state so the icon lives as long as the app; the
/// realtime session will update it from a new [`TrayModel`] as unread counts and status change.
pub struct TrayState {
    _icon: Option<(TrayIcon, MenuItem<Wry>)>,
}

impl TrayState {
    /// Builds the tray for `app`; on failure (no tray host) logs and keeps an empty state.
    pub fn build(app: &AppHandle) -> Self {
        let model = TrayModel {
            unread: 0,
            status: Status::SignedOut,
        };
        let icon = build_icon(app, &model)
            .inspect_err(|err| tracing::warn!(cause = %err, "no tray icon"))
            .ok();
        Self { _icon: icon }
    }
}

fn build_icon(app: &AppHandle, model: &TrayModel) -> tauri::Result<(TrayIcon, MenuItem<Wry>)> {
    let open = MenuItem::with_id(app, MENU_OPEN, "Open Chatr", true, None::<&str>)?;
    let status = MenuItem::with_id(app, "status", model.status_text(), false, None::<&str>)?;
    let quit = MenuItem::with_id(app, MENU_QUIT, "Quit", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&open, &status, &separator, &quit])?;
    let mut builder = TrayIconBuilder::with_id("main")
        .menu(&menu)
        .tooltip(model.tooltip())
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            MENU_OPEN => crate::focus_main_window(app),
            MENU_QUIT => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::focus_main_window(tray.app_handle());
            }
        });
    if let Some(icon) = badged_icon(app, model) {
        builder = builder.icon(icon);
    }
    Ok((builder.build(app)?, status))
}

/// The app icon with the model's unread badge drawn in.
fn badged_icon(app: &AppHandle, model: &TrayModel) -> Option<Image<'static>> {
    let base = app.default_window_icon()?;
    let mut rgba = base.rgba().to_vec();
    if let Some(badge) = model.badge()
        && base.width() == base.height()
    {
        tray_model::draw_badge(&mut rgba, base.width(), &badge);
    }
    Some(Image::new_owned(rgba, base.width(), base.height()))
}
