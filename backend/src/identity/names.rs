//! Display names as the backend stores them: whatever a person typed or an identity provider
//! claims, with the characters that let one name pose as another removed. Pure: text in, text out.
//!
//! Removed: control characters (general category `Cc`), format characters (`Cf`: bidi embeddings,
//! overrides and isolates such as U+202E, zero-width space/joiners, soft hyphen, word joiner, BOM,
//! tag characters, …), surrogates, private-use and unassigned code points, and the blank
//! "letters" that render as nothing (Hangul fillers, braille blank, combining grapheme joiner).
//! Every run of whitespace (`Zs`, line and paragraph separators, tabs, newlines) becomes one space,
//! and the ends are trimmed. This must never make two different visible names equal that were not
//! (it only removes what cannot be seen), and never let an invisible or reordering character through.
//! Telling two people both called "Ada" apart is the UI's job (it shows their ids).

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// The most characters a stored display name keeps.
pub const MAX_NAME_CHARS: usize = 64;

/// Characters outside `Cc`/`Cf` that render as nothing and are used to fake blank or equal names.
const INVISIBLE_LETTERS: &[char] = &[
    '\u{034F}', // combining grapheme joiner
    '\u{115F}', // Hangul choseong filler
    '\u{1160}', // Hangul jungseong filler
    '\u{17B4}', // Khmer vowel inherent aq
    '\u{17B5}', // Khmer vowel inherent aa
    '\u{2800}', // braille pattern blank
    '\u{3164}', // Hangul filler
    '\u{FFA0}', // halfwidth Hangul filler
];

fn is_hidden(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::Surrogate
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
    ) || INVISIBLE_LETTERS.contains(&c)
}

fn is_space(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c.general_category(),
            GeneralCategory::SpaceSeparator
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
}

/// `name` without invisible, control and reordering characters, whitespace collapsed to single
/// spaces and trimmed. May be empty (then the caller decides: refuse it, or use the id).
pub fn sanitise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for c in name.chars() {
        // Tabs and newlines are controls and whitespace: they separate words, so test space first.
        if is_space(c) {
            pending_space = !out.is_empty();
        } else if !is_hidden(c) {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// The name to store for a user whose provider claims `name`: sanitised, cut to
/// [`MAX_NAME_CHARS`], or the user id when nothing visible is left.
pub fn stored_name(name: &str, user_id: &str) -> String {
    let clean = sanitise(name);
    if clean.is_empty() {
        return user_id.to_owned();
    }
    match clean.char_indices().nth(MAX_NAME_CHARS) {
        Some((cut, _)) => clean[..cut].trim_end().to_owned(),
        None => clean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_kept() {
        assert_eq!(sanitise("Ada Lovelace"), "Ada Lovelace");
        assert_eq!(sanitise("José Núñez"), "José Núñez");
        assert_eq!(sanitise("李小龍"), "李小龍");
        assert_eq!(sanitise("O'Brien-Smith"), "O'Brien-Smith");
    }

    #[test]
    fn bidi_controls_are_removed() {
        // "Ada" followed by a right-to-left override making "nimda" read as "admin".
        assert_eq!(sanitise("Ada\u{202E}nimda"), "Adanimda");
        for c in [
            '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
            '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{061C}',
        ] {
            assert_eq!(sanitise(&format!("A{c}da")), "Ada", "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn zero_width_and_invisible_characters_are_removed() {
        for c in [
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{180E}',
            '\u{034F}',
            '\u{3164}',
            '\u{115F}',
            '\u{2800}',
            '\u{E000}',
            '\u{E0041}',
        ] {
            assert_eq!(sanitise(&format!("A{c}da")), "Ada", "U+{:04X}", c as u32);
        }
        // Two "Ada"s that differed only by an invisible character are now the same text (the UI
        // tells them apart by id, not by a hidden difference).
        assert_eq!(sanitise("Ada\u{200B}"), sanitise("Ada"));
    }

    #[test]
    fn whitespace_is_normalised() {
        assert_eq!(sanitise("  Ada \t\n Lovelace  "), "Ada Lovelace");
        assert_eq!(
            sanitise("Ada\u{00A0}\u{2003}\u{3000}Lovelace"),
            "Ada Lovelace"
        );
        assert_eq!(sanitise("Ada\u{2028}\u{2029}L"), "Ada L");
        assert_eq!(sanitise("A\u{0007}da\u{0000}"), "Ada");
    }

    #[test]
    fn an_empty_name_falls_back_to_the_id() {
        assert_eq!(sanitise("\u{200B}\u{202E} \u{3164}"), "");
        assert_eq!(
            stored_name("\u{200B}\u{202E} \u{3164}", "github:42"),
            "github:42"
        );
        assert_eq!(stored_name("  ", "local:x"), "local:x");
        assert_eq!(stored_name(" Ada\u{202E} ", "local:x"), "Ada");
    }

    #[test]
    fn stored_names_are_bounded() {
        let long = "é".repeat(100);
        assert_eq!(stored_name(&long, "x").chars().count(), MAX_NAME_CHARS);
    }
}
