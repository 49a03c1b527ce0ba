//! What the tray shows, as a pure model: the unread badge drawn into the icon, the tooltip, and the
//! status line of the menu. `tray.rs` renders it; this file has no Tauri in it.

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

/// Everything the tray needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrayModel {
    /// Unread messages over all chats.
    pub unread: u32,
    /// Connection state.
    pub status: Status,
}

impl TrayModel {
    /// The tooltip, e.g. `Chatr — 3 unread`.
    pub fn tooltip(&self) -> String {
        match self.unread {
            0 => format!("Chatr — {}", self.status_text()),
            1 => "Chatr — 1 unread message".to_owned(),
            n => format!("Chatr — {n} unread messages"),
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
        match self.unread {
            0 => None,
            n if n > 99 => Some("99+".to_owned()),
            n => Some(n.to_string()),
        }
    }
}

/// Draws `badge` (digits and `+`) in a red disc into the bottom-right of a square RGBA icon.
///
/// Hand-written because the alternative is a font rasteriser and a font file for three glyphs: the
/// digits come from a 3×5 pixel font, scaled to the icon.
pub fn draw_badge(rgba: &mut [u8], size: u32, badge: &str) {
    let size = size as i64;
    if rgba.len() as i64 != size * size * 4 || badge.is_empty() {
        return;
    }
    let radius = size * 3 / 10;
    let (cx, cy) = (size - radius - 1, size - radius - 1);
    let mut put = |x: i64, y: i64, color: [u8; 4]| {
        if (0..size).contains(&x) && (0..size).contains(&y) {
            let i = ((y * size + x) * 4) as usize;
            rgba[i..i + 4].copy_from_slice(&color);
        }
    };
    for y in cy - radius..=cy + radius {
        for x in cx - radius..=cx + radius {
            if (x - cx).pow(2) + (y - cy).pow(2) <= radius.pow(2) {
                put(x, y, [0xd3, 0x2f, 0x2f, 0xff]);
            }
        }
    }
    let glyphs: Vec<[u8; 5]> = badge.chars().filter_map(glyph).collect();
    let count = glyphs.len() as i64;
    // Each glyph is 3 px wide plus 1 px gap; fit the text into 1.4 radii.
    let scale = ((radius * 14 / 10) / (count * 4 - 1)).max(1);
    let width = (count * 4 - 1) * scale;
    let (left, top) = (cx - width / 2, cy - 5 * scale / 2);
    for (n, rows) in glyphs.iter().enumerate() {
        let gx = left + n as i64 * 4 * scale;
        for (row, bits) in rows.iter().enumerate() {
            for col in 0..3 {
                if bits & (0b100 >> col) != 0 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            put(
                                gx + col * scale + dx,
                                top + row as i64 * scale + dy,
                                [0xff; 4],
                            );
                        }
                    }
                }
            }
        }
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
    fn tooltip_and_badge_follow_the_unread_count() {
        let mut model = TrayModel {
            unread: 0,
            status: Status::Online,
        };
        assert_eq!(model.tooltip(), "Chatr — Online");
        assert_eq!(model.badge(), None);
        model.unread = 1;
        assert_eq!(model.tooltip(), "Chatr — 1 unread message");
        model.unread = 7;
        assert_eq!(model.badge().as_deref(), Some("7"));
        model.unread = 250;
        assert_eq!(model.badge().as_deref(), Some("99+"));
        assert_eq!(model.tooltip(), "Chatr — 250 unread messages");
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

    fn red_and_white(rgba: &[u8]) -> (usize, usize) {
        let px = rgba.chunks(4);
        let red = px
            .clone()
            .filter(|p| p == &[0xd3, 0x2f, 0x2f, 0xff])
            .count();
        let white = px.filter(|p| p == &[0xff; 4]).count();
        (red, white)
    }

    #[test]
    fn the_badge_is_a_red_disc_with_white_digits_in_the_corner() {
        let size = 64;
        let mut icon = vec![0u8; (size * size * 4) as usize];
        draw_badge(&mut icon, size, "8");
        let (red, white) = red_and_white(&icon);
        assert!(red > 300, "disc too small: {red}");
        assert!(white > 20, "digit missing: {white}");
        // The icon's top-left part is untouched.
        let top_left = (0..size * 3 / 8)
            .flat_map(|y| (0..size * 3 / 8).map(move |x| ((y * size + x) * 4) as usize))
            .all(|i| icon[i..i + 4] == [0, 0, 0, 0]);
        assert!(top_left);
    }

    #[test]
    fn each_count_draws_its_own_digits_and_bad_input_draws_nothing() {
        let size = 64;
        let blank = vec![0u8; (size * size * 4) as usize];
        let drawn: Vec<Vec<u8>> = ["1", "7", "42", "99+"]
            .iter()
            .map(|badge| {
                let mut icon = blank.clone();
                draw_badge(&mut icon, size, badge);
                assert!(red_and_white(&icon).1 > 0, "{badge} drew no digits");
                icon
            })
            .collect();
        for (i, a) in drawn.iter().enumerate() {
            for b in &drawn[i + 1..] {
                assert_ne!(a, b);
            }
        }

        let mut wrong_size = vec![0u8; 10];
        draw_badge(&mut wrong_size, size, "1");
        assert_eq!(wrong_size, vec![0u8; 10]);
    }
}
