//! What the tray shows, as a pure model: the unread badge drawn into the icon ([`badge_icon`]),
//! the tooltip, and the menu (Open, a status line, Sign out, Quit). `tray.rs` renders it; this
//! file has no Tauri in it and must never do I/O.

/// The connection state the tray reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Connected and active.
    Online,
    /// Connected, the OS reports the user idle.
    Idle,
    /// Connecting or reconnecting.
    Connecting,
    /// Signed in but no connection.
    Offline,
    /// Nobody is signed in.
    SignedOut,
}

impl Status {
    /// The status for a `connection` event's `state` (`connecting`, `connected`, `reconnecting`,
    /// `closed`), given whether the OS reports the user idle.
    pub fn from_connection(state: &str, idle: bool) -> Self {
        match state {
            "connected" if idle => Self::Idle,
            "connected" => Self::Online,
            "connecting" | "reconnecting" => Self::Connecting,
            _ => Self::Offline,
        }
    }
}

/// Everything the tray needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrayModel {
    /// Unread messages over all chats.
    pub unread: u32,
    /// Connection state.
    pub status: Status,
}

impl Default for TrayModel {
    fn default() -> Self {
        Self {
            unread: 0,
            status: Status::SignedOut,
        }
    }
}

/// A menu item, by what clicking it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MenuId {
    /// Show the main window.
    Open,
    /// The status line (disabled; clicking does nothing).
    Status,
    /// End the session.
    SignOut,
    /// Quit the app.
    Quit,
}

impl MenuId {
    /// Every item, in menu order.
    pub const ALL: [MenuId; 4] = [Self::Open, Self::Status, Self::SignOut, Self::Quit];

    /// The id the menu item carries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Status => "status",
            Self::SignOut => "sign-out",
            Self::Quit => "quit",
        }
    }

    /// The item a menu event's id names.
    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|item| item.as_str() == id)
    }
}

/// How one menu item looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    /// Which item.
    pub id: MenuId,
    /// Its label.
    pub label: String,
    /// Whether it can be clicked.
    pub enabled: bool,
    /// Whether a separator comes before it.
    pub separated: bool,
}

impl TrayModel {
    /// The tooltip: the status and, when there is any, the unread total.
    pub fn tooltip(&self) -> String {
        match self.unread {
            0 => format!("Chatr — {}", self.status_text()),
            1 => format!("Chatr — {} · 1 unread message", self.status_text()),
            n => format!("Chatr — {} · {n} unread messages", self.status_text()),
        }
    }

    /// The (disabled) status line of the menu.
    pub fn status_text(&self) -> &'static str {
        match self.status {
            Status::Online => "Online",
            Status::Idle => "Idle",
            Status::Connecting => "Connecting…",
            Status::Offline => "Offline",
            Status::SignedOut => "Not signed in",
        }
    }

    /// The text of the badge: none for 0, `99+` past 99.
    pub fn badge(&self) -> Option<String> {
        badge_text(self.unread)
    }

    /// The menu: Open, the status line, then Sign out (only while signed in) and Quit.
    pub fn menu(&self) -> Vec<MenuItem> {
        MenuId::ALL
            .into_iter()
            .map(|id| {
                let (label, enabled) = match id {
                    MenuId::Open => ("Open Chatr".to_owned(), true),
                    MenuId::Status => (self.status_text().to_owned(), false),
                    MenuId::SignOut => ("Sign out".to_owned(), self.status != Status::SignedOut),
                    MenuId::Quit => ("Quit".to_owned(), true),
                };
                MenuItem {
                    id,
                    label,
                    enabled,
                    separated: id == MenuId::SignOut,
                }
            })
            .collect()
    }
}

/// The text of the badge for `count` unread messages: none for 0, `99+` past 99.
pub fn badge_text(count: u32) -> Option<String> {
    match count {
        0 => None,
        n if n > 99 => Some("99+".to_owned()),
        n => Some(n.to_string()),
    }
}

/// An RGBA image: rows top to bottom, 4 bytes per pixel, straight (not premultiplied) alpha.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgba {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Rgba {
    /// An image of `width` × `height` pixels; `None` when `pixels` has the wrong length.
    pub fn new(width: u32, height: u32, pixels: Vec<u8>) -> Option<Self> {
        let expected = (width as usize)
            .checked_mul(height as usize)?
            .checked_mul(4)?;
        (pixels.len() == expected).then_some(Self {
            width,
            height,
            pixels,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The bytes, 4 per pixel.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The bytes, 4 per pixel.
    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }

    /// The pixel at (`x`, `y`); transparent outside the image.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        if x >= self.width || y >= self.height {
            return [0; 4];
        }
        let i = (y as usize * self.width as usize + x as usize) * 4;
        [
            self.pixels[i],
            self.pixels[i + 1],
            self.pixels[i + 2],
            self.pixels[i + 3],
        ]
    }

    /// Paints `color` over the pixel at (`x`, `y`) with `coverage` (0–1), source-over.
    fn blend(&mut self, x: i64, y: i64, color: [u8; 3], coverage: f32) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let coverage = coverage.clamp(0.0, 1.0);
        if coverage <= 0.0 {
            return;
        }
        let i = (y as usize * self.width as usize + x as usize) * 4;
        let dst_alpha = f32::from(self.pixels[i + 3]) / 255.0;
        let out_alpha = coverage + dst_alpha * (1.0 - coverage);
        for (channel, src) in color.into_iter().enumerate() {
            let dst = f32::from(self.pixels[i + channel]);
            let mixed =
                (f32::from(src) * coverage + dst * dst_alpha * (1.0 - coverage)) / out_alpha;
            self.pixels[i + channel] = mixed.round().clamp(0.0, 255.0) as u8;
        }
        self.pixels[i + 3] = (out_alpha * 255.0).round().clamp(0.0, 255.0) as u8;
    }
}

/// The badge's fill.
const BADGE_RED: [u8; 3] = [0xd3, 0x2f, 0x2f];
/// The badge's rim and digits.
const BADGE_WHITE: [u8; 3] = [0xff, 0xff, 0xff];
/// Icons smaller than this get no badge (nothing legible fits).
const BADGE_MIN_ICON: u32 = 8;

/// `base` with the unread `count` drawn into its bottom-right corner: white digits (`99+` past
/// 99) on a red pill with a thin white rim; `count` 0 gives `base` unchanged.
///
/// Hand-drawn because a font rasteriser and a font file for eleven glyphs would outweigh the
/// rest of the tray: the digits come from a 3×5 pixel font, scaled to the icon.
pub fn badge_icon(base: &Rgba, count: u32) -> Rgba {
    let mut icon = base.clone();
    let Some(text) = badge_text(count) else {
        return icon;
    };
    let Some(badge) = Badge::layout(base.width, base.height, &text) else {
        return icon;
    };
    badge.draw(&mut icon, &text);
    icon
}

/// Where the badge goes and how big its digits are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Badge {
    /// Left, top, width, height of the pill, in pixels.
    x: i64,
    y: i64,
    width: i64,
    height: i64,
    /// Pixels per font pixel.
    scale: i64,
    /// Width of the rim, in pixels (0: none).
    rim: i64,
}

impl Badge {
    /// The badge of `text` on a `width` × `height` icon; `None` when the icon is too small.
    fn layout(width: u32, height: u32, text: &str) -> Option<Self> {
        let side = width.min(height);
        if side < BADGE_MIN_ICON {
            return None;
        }
        let (width, height, side) = (i64::from(width), i64::from(height), i64::from(side));
        let glyphs = text.chars().filter_map(glyph).count() as i64;
        let text_units = glyphs * 4 - 1;
        // A bit more than half the icon high; the digits take 3/5 of that.
        let pill_height = (side * 9 / 16).max(5);
        let pad = (pill_height / 4).max(1);
        let mut scale = (pill_height * 3 / 5 / 5).max(1);
        while scale > 1 && text_units * scale + 2 * pad > width {
            scale -= 1;
        }
        let pill_width = (text_units * scale + 2 * pad).max(pill_height).min(width);
        let rim = if pill_height >= 12 {
            (side / 32).max(1)
        } else {
            0
        };
        Some(Self {
            x: width - pill_width,
            y: height - pill_height,
            width: pill_width,
            height: pill_height,
            scale,
            rim,
        })
    }

    fn draw(&self, icon: &mut Rgba, text: &str) {
        // The pill (a rectangle with round ends), antialiased by 4×4 supersampling: white, then
        // red inset by the rim.
        const SAMPLES: i64 = 4;
        let radius = self.height as f32 / 2.0;
        for py in self.y..self.y + self.height {
            for px in self.x..self.x + self.width {
                let (mut outer, mut inner) = (0u32, 0u32);
                for sy in 0..SAMPLES {
                    for sx in 0..SAMPLES {
                        let fx = (px - self.x) as f32 + (sx as f32 + 0.5) / SAMPLES as f32;
                        let fy = (py - self.y) as f32 + (sy as f32 + 0.5) / SAMPLES as f32;
                        let d = self.pill_distance(fx, fy, radius);
                        if d <= 0.0 {
                            outer += 1;
                        }
                        if d <= -(self.rim as f32) {
                            inner += 1;
                        }
                    }
                }
                let total = (SAMPLES * SAMPLES) as f32;
                if self.rim > 0 {
                    icon.blend(px, py, BADGE_WHITE, outer as f32 / total);
                    icon.blend(px, py, BADGE_RED, inner as f32 / total);
                } else {
                    icon.blend(px, py, BADGE_RED, outer as f32 / total);
                }
            }
        }
        // The digits, centred, crisp.
        let glyphs: Vec<[u8; 5]> = text.chars().filter_map(glyph).collect();
        let text_width = (glyphs.len() as i64 * 4 - 1) * self.scale;
        let left = self.x + (self.width - text_width) / 2;
        let top = self.y + (self.height - 5 * self.scale) / 2;
        for (n, rows) in glyphs.iter().enumerate() {
            let gx = left + n as i64 * 4 * self.scale;
            for (row, bits) in rows.iter().enumerate() {
                for col in 0..3 {
                    if bits & (0b100 >> col) == 0 {
                        continue;
                    }
                    for dy in 0..self.scale {
                        for dx in 0..self.scale {
                            let x = gx + col * self.scale + dx;
                            let y = top + row as i64 * self.scale + dy;
                            icon.blend(x, y, BADGE_WHITE, 1.0);
                        }
                    }
                }
            }
        }
    }

    /// Signed distance from (`fx`, `fy`) (pill coordinates) to the pill's edge; ≤ 0 inside.
    fn pill_distance(&self, fx: f32, fy: f32, radius: f32) -> f32 {
        let left = radius;
        let right = (self.width as f32 - radius).max(left);
        let cx = fx.clamp(left, right);
        let (dx, dy) = (fx - cx, fy - radius);
        (dx * dx + dy * dy).sqrt() - radius
    }
}

/// The 3×5 bitmap of a badge character (each row's 3 low bits, left to right).
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b010, 0b010, 0b010],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        '+' => [0b000, 0b010, 0b111, 0b010, 0b000],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tooltip_shows_the_status_and_the_unread_total() {
        let mut model = TrayModel {
            unread: 0,
            status: Status::Online,
        };
        assert_eq!(model.tooltip(), "Chatr — Online");
        assert_eq!(model.badge(), None);
        model.unread = 1;
        assert_eq!(model.tooltip(), "Chatr — Online · 1 unread message");
        model.unread = 7;
        assert_eq!(model.badge().as_deref(), Some("7"));
        model.unread = 250;
        assert_eq!(model.badge().as_deref(), Some("99+"));
        assert_eq!(model.tooltip(), "Chatr — Online · 250 unread messages");
        assert_eq!(badge_text(99).as_deref(), Some("99"));
        assert_eq!(badge_text(100).as_deref(), Some("99+"));
    }

    #[test]
    fn status_text_names_every_state() {
        for (status, text) in [
            (Status::Online, "Online"),
            (Status::Idle, "Idle"),
            (Status::Connecting, "Connecting…"),
            (Status::Offline, "Offline"),
            (Status::SignedOut, "Not signed in"),
        ] {
            assert_eq!(TrayModel { unread: 0, status }.status_text(), text);
        }
    }

    #[test]
    fn the_status_follows_the_connection_and_idle() {
        assert_eq!(Status::from_connection("connected", false), Status::Online);
        assert_eq!(Status::from_connection("connected", true), Status::Idle);
        assert_eq!(
            Status::from_connection("reconnecting", false),
            Status::Connecting
        );
        assert_eq!(
            Status::from_connection("connecting", true),
            Status::Connecting
        );
        assert_eq!(Status::from_connection("closed", false), Status::Offline);
    }

    #[test]
    fn the_menu_has_open_status_sign_out_and_quit_and_sign_out_needs_a_session() {
        let signed_in = TrayModel {
            unread: 3,
            status: Status::Online,
        };
        let menu = signed_in.menu();
        let labels: Vec<&str> = menu.iter().map(|item| item.label.as_str()).collect();
        assert_eq!(labels, ["Open Chatr", "Online", "Sign out", "Quit"]);
        let enabled: Vec<bool> = menu.iter().map(|item| item.enabled).collect();
        assert_eq!(enabled, [true, false, true, true]);
        assert!(menu[2].separated && !menu[1].separated);

        let signed_out = TrayModel::default().menu();
        assert_eq!(signed_out[1].label, "Not signed in");
        assert!(!signed_out[2].enabled);
    }

    #[test]
    fn menu_ids_round_trip() {
        for id in MenuId::ALL {
            assert_eq!(MenuId::parse(id.as_str()), Some(id));
        }
        assert_eq!(MenuId::parse("nope"), None);
    }

    /// An opaque icon of one colour.
    fn plain(width: u32, height: u32, color: [u8; 4]) -> Rgba {
        let pixels = color.repeat((width * height) as usize);
        Rgba::new(width, height, pixels).unwrap()
    }

    const BLUE: [u8; 4] = [0x20, 0x60, 0xc0, 0xff];

    /// The pixels that differ between two images of the same size.
    fn changed(a: &Rgba, b: &Rgba) -> Vec<(u32, u32)> {
        (0..a.height())
            .flat_map(|y| (0..a.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| a.pixel(x, y) != b.pixel(x, y))
            .collect()
    }

    #[test]
    fn no_unread_leaves_the_icon_unchanged() {
        let base = plain(32, 32, BLUE);
        assert_eq!(badge_icon(&base, 0), base);
    }

    #[test]
    fn the_badge_changes_the_bottom_right_corner_and_nothing_else() {
        let base = plain(64, 64, BLUE);
        for count in [1, 7, 42, 99, 100] {
            let icon = badge_icon(&base, count);
            let diff = changed(&base, &icon);
            assert!(
                diff.len() > 300,
                "{count}: badge too small ({})",
                diff.len()
            );
            // Everything drawn is in the lower part, and a short count stays on the right.
            assert!(diff.iter().all(|&(_, y)| y >= 64 - 64 * 9 / 16), "{count}");
            if count < 10 {
                assert!(diff.iter().all(|&(x, _)| x >= 24), "{count}");
            }
            // The pill is red (above the digits, inside its right end), white digits sit in
            // the middle, the rest is the icon.
            let [r, g, b, a] = icon.pixel(46, 32);
            assert!(r > 0xc0 && g < 0x60 && b < 0x60 && a == 0xff, "{count}");
            let white = diff
                .iter()
                .filter(|&&(x, y)| icon.pixel(x, y) == [0xff; 4])
                .count();
            assert!(white > 20, "{count}: no digits ({white})");
            for (x, y) in [(0, 0), (63, 0), (0, 63), (20, 20)] {
                assert_eq!(icon.pixel(x, y), BLUE, "{count}: ({x}, {y})");
            }
        }
    }

    #[test]
    fn each_count_draws_its_own_digits_and_past_99_all_read_99_plus() {
        let base = plain(32, 32, BLUE);
        let drawn: Vec<Rgba> = [1, 7, 42, 99, 100]
            .into_iter()
            .map(|count| badge_icon(&base, count))
            .collect();
        for (i, a) in drawn.iter().enumerate() {
            for b in &drawn[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(badge_icon(&base, 100), badge_icon(&base, 5000));
    }

    #[test]
    fn a_transparent_or_odd_sized_icon_gets_an_opaque_badge_in_its_corner() {
        let base = plain(48, 32, [0, 0, 0, 0]);
        let icon = badge_icon(&base, 5);
        let diff = changed(&base, &icon);
        assert!(!diff.is_empty());
        assert!(diff.iter().all(|&(x, y)| x >= 24 && y >= 32 - 32 * 9 / 16));
        assert_eq!(icon.pixel(39, 17)[3], 0xff);
        assert_eq!(icon.pixel(0, 0), [0, 0, 0, 0]);
    }

    #[test]
    fn tiny_icons_get_no_badge_and_bad_buffers_are_refused() {
        let tiny = plain(6, 6, BLUE);
        assert_eq!(badge_icon(&tiny, 3), tiny);
        assert_eq!(Rgba::new(4, 4, vec![0; 10]), None);
        assert!(Rgba::new(4, 4, vec![0; 64]).is_some());
    }

    #[test]
    fn the_widest_badge_fits_small_tray_sizes() {
        for side in [16, 22, 24, 32, 48, 64, 128] {
            let badge = Badge::layout(side, side, "99+").unwrap();
            assert!(badge.x >= 0 && badge.y >= 0, "{side}: {badge:?}");
            assert_eq!(badge.x + badge.width, i64::from(side));
            let text = (3 * 4 - 1) * badge.scale;
            assert!(text <= badge.width, "{side}: {badge:?}");
        }
    }
}
