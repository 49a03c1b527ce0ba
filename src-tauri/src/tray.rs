//! The system tray icon and its menu: a thin renderer of a [`TrayModel`] (badge, tooltip, menu
//! all come from `tray_model`). It must hold no rule of its own and never fail the app: some
//! desktops (and Xvfb in CI) have no tray host, so failures are logged and the app runs without
//! a tray.
//!
//! Changes go through [`TrayState::update`] from any thread; drawing happens on the main thread
//! (posted, never awaited, so no caller blocks on it) and always draws the latest model.
//!
//! Per OS: Windows puts the app icon with its unread badge in the notification area (left click
//! opens the window, right click the menu). Linux does the same through AppIndicator. macOS shows
//! a monochrome template icon in the menu bar (the system tints it for light and dark bars) with
//! the unread count as the item's title beside it, as menu bar apps do, instead of a coloured
//! badge a template would flatten.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

use crate::tray_model::{self, MenuId, Rgba, Status, TrayModel};

/// What the menu's "Sign out" runs (on the main thread: start the work and return).
pub type OnSignOut = Arc<dyn Fn(&AppHandle) + Send + Sync>;

/// The tray, managed as Tauri state so the icon lives as long as the app.
pub struct TrayState {
    inner: Arc<Inner>,
}

struct Inner {
    app: AppHandle,
    model: Mutex<TrayModel>,
    /// The icon and its menu items, when a tray host took them.
    drawn: Option<Drawn>,
    on_sign_out: Mutex<Option<OnSignOut>>,
}

struct Drawn {
    icon: TrayIcon,
    items: HashMap<MenuId, MenuItem<Wry>>,
    /// The app icon the badge is drawn into (macOS shows a template icon and a title instead).
    #[cfg_attr(target_os = "macos", allow(dead_code))]
    base: Option<Rgba>,
}

impl TrayState {
    /// Builds the tray for `app` (signed out, nothing unread); on failure (no tray host) logs
    /// and keeps a tray that only remembers its model.
    pub fn build(app: &AppHandle) -> Self {
        let model = TrayModel::default();
        let drawn = build_icon(app, &model)
            .inspect_err(|err| tracing::warn!(cause = %err, "no tray icon"))
            .ok();
        Self {
            inner: Arc::new(Inner {
                app: app.clone(),
                model: Mutex::new(model),
                drawn,
                on_sign_out: Mutex::new(None),
            }),
        }
    }

    /// Sets what the menu's "Sign out" does (until then it does nothing).
    pub fn on_sign_out(&self, handler: impl Fn(&AppHandle) + Send + Sync + 'static) {
        *lock(&self.inner.on_sign_out) = Some(Arc::new(handler));
    }

    /// Changes the model; when that changed anything, redraws on the main thread.
    pub fn update(&self, change: impl FnOnce(&mut TrayModel)) {
        let changed = {
            let mut model = lock(&self.inner.model);
            let before = *model;
            change(&mut model);
            *model != before
        };
        if changed && self.inner.drawn.is_some() {
            let inner = self.inner.clone();
            if let Err(err) = self.inner.app.run_on_main_thread(move || inner.draw()) {
                tracing::warn!(cause = %err, "cannot update the tray");
            }
        }
    }

    /// Shows `total` unread messages.
    pub fn set_unread(&self, total: u32) {
        self.update(|model| model.unread = total);
    }

    /// Shows `status`.
    pub fn set_status(&self, status: Status) {
        self.update(|model| model.status = status);
    }
}

impl Inner {
    /// Draws the current model (main thread).
    fn draw(&self) {
        let Some(drawn) = &self.drawn else { return };
        let model = *lock(&self.model);
        let mut results = vec![drawn.icon.set_tooltip(Some(model.tooltip()))];
        #[cfg(target_os = "macos")]
        results.push(
            drawn
                .icon
                .set_title(Some(model.badge().unwrap_or_default())),
        );
        #[cfg(not(target_os = "macos"))]
        if let Some(icon) = badged_icon(drawn.base.as_ref(), &model) {
            results.push(drawn.icon.set_icon(Some(icon)));
        }
        for item in model.menu() {
            if let Some(menu_item) = drawn.items.get(&item.id) {
                results.push(menu_item.set_text(&item.label));
                results.push(menu_item.set_enabled(item.enabled));
            }
        }
        for err in results.into_iter().filter_map(Result::err) {
            tracing::warn!(cause = %err, "cannot update the tray");
        }
    }
}

fn build_icon(app: &AppHandle, model: &TrayModel) -> tauri::Result<Drawn> {
    let mut items = HashMap::new();
    let mut entries: Vec<Box<dyn tauri::menu::IsMenuItem<Wry>>> = Vec::new();
    for item in model.menu() {
        if item.separated {
            entries.push(Box::new(PredefinedMenuItem::separator(app)?));
        }
        let menu_item = MenuItem::with_id(
            app,
            item.id.as_str(),
            &item.label,
            item.enabled,
            None::<&str>,
        )?;
        entries.push(Box::new(menu_item.clone()));
        items.insert(item.id, menu_item);
    }
    let refs: Vec<&dyn tauri::menu::IsMenuItem<Wry>> = entries.iter().map(|e| e.as_ref()).collect();
    let menu = Menu::with_items(app, &refs)?;
    let base = app
        .default_window_icon()
        .and_then(|icon| Rgba::new(icon.width(), icon.height(), icon.rgba().to_vec()));
    let mut builder = TrayIconBuilder::with_id("main")
        .menu(&menu)
        .tooltip(model.tooltip())
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
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
    #[cfg(target_os = "macos")]
    {
        builder = builder.icon(MENU_BAR_TEMPLATE).icon_as_template(true);
        if let Some(badge) = model.badge() {
            builder = builder.title(badge);
        }
    }
    #[cfg(not(target_os = "macos"))]
    if let Some(icon) = badged_icon(base.as_ref(), model) {
        builder = builder.icon(icon);
    }
    Ok(Drawn {
        icon: builder.build(app)?,
        items,
        base,
    })
}

fn on_menu(app: &AppHandle, id: &str) {
    match MenuId::parse(id) {
        Some(MenuId::Open) => crate::focus_main_window(app),
        Some(MenuId::SignOut) => {
            let handler = app
                .try_state::<TrayState>()
                .and_then(|tray| lock(&tray.inner.on_sign_out).clone());
            match handler {
                Some(handler) => handler(app),
                None => tracing::warn!("the tray's Sign out is not wired"),
            }
        }
        Some(MenuId::Quit) => app.exit(0),
        Some(MenuId::Status) | None => {}
    }
}

/// The menu bar's template icon (black on transparent, 44×44 for Retina; macOS tints it),
/// decoded at compile time.
#[cfg(target_os = "macos")]
const MENU_BAR_TEMPLATE: Image<'static> = tauri::include_image!("./icons/tray-template.png");

/// The app icon with the model's unread badge drawn in.
#[cfg_attr(target_os = "macos", allow(dead_code))] // macOS shows the count as a title instead
fn badged_icon(base: Option<&Rgba>, model: &TrayModel) -> Option<Image<'static>> {
    let base = base?;
    let icon = tray_model::badge_icon(base, model.unread);
    let (width, height) = (icon.width(), icon.height());
    Some(Image::new_owned(icon.into_pixels(), width, height))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
