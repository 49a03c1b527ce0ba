//! What users type, checked before anything is stored: chat names, message text, idempotency keys.

use super::RuleError;

/// Size limits; configurable on the backend, defaults below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest message, in characters (Unicode scalar values).
    pub max_message_chars: usize,
    /// The longest chat name, in characters.
    pub max_chat_name_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_chars: 4000,
            max_chat_name_chars: 80,
        }
    }
}

/// The longest idempotency key a client may send.
pub const MAX_CLIENT_KEY_LEN: usize = 64;

/// A chat name, trimmed: 1..=limit characters, no control characters.
pub fn chat_name(name: &str, limits: &Limits) -> Result<String, RuleError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(RuleError::Invalid("a chat needs a name".into()));
    }
    if name.chars().any(char::is_control) {
        return Err(RuleError::Invalid(
            "a chat name cannot contain control characters".into(),
        ));
    }
    if name.chars().count() > limits.max_chat_name_chars {
        return Err(RuleError::TooLong {
            what: "chat name",
            max: limits.max_chat_name_chars,
        });
    }
    Ok(name.to_owned())
}

/// A message's text: not blank, within the limit, no control characters but newlines and tabs.
/// The text is stored as typed (not trimmed): Markdown can depend on leading spaces.
pub fn message_text(text: &str, limits: &Limits) -> Result<(), RuleError> {
    if text.trim().is_empty() {
        return Err(RuleError::Invalid("a message cannot be empty".into()));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(RuleError::Invalid(
            "a message cannot contain control characters".into(),
        ));
    }
    if text.chars().count() > limits.max_message_chars {
        return Err(RuleError::TooLong {
            what: "message",
            max: limits.max_message_chars,
        });
    }
    Ok(())
}

/// An idempotency key: 1..=64 visible ASCII characters (a UUID fits).
pub fn client_key(key: &str) -> Result<(), RuleError> {
    if key.is_empty()
        || key.len() > MAX_CLIENT_KEY_LEN
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(RuleError::Invalid(format!(
            "clientKey must be 1 to {MAX_CLIENT_KEY_LEN} visible ASCII characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_names_are_trimmed_and_bounded() {
        let limits = Limits::default();
        assert_eq!(chat_name("  Rustaceans ", &limits).unwrap(), "Rustaceans");
        assert!(chat_name("   ", &limits).is_err());
        assert!(chat_name("a\u{0}b", &limits).is_err());
        assert_eq!(
            chat_name(&"é".repeat(81), &limits),
            Err(RuleError::TooLong {
                what: "chat name",
                max: 80
            })
        );
        assert!(chat_name(&"é".repeat(80), &limits).is_ok());
    }

    #[test]
    fn messages_may_span_lines_but_not_be_blank_or_too_long() {
        let limits = Limits {
            max_message_chars: 10,
            ..Limits::default()
        };
        assert!(message_text("line 1\nline 2", &limits).is_err()); // 13 chars > 10
        assert!(message_text("a\nb\tc", &limits).is_ok());
        assert!(message_text(" \n\t ", &limits).is_err());
        assert!(message_text("bell\u{7}", &limits).is_err());
        assert!(message_text("<img src=x onerror=alert(1)>", &Limits::default()).is_ok());
    }

    #[test]
    fn client_keys_are_short_visible_ascii() {
        assert!(client_key("0b6f3f0e-1c1a-4c55-9d0e-6a8f1c2b3d4e").is_ok());
        assert!(client_key("").is_err());
        assert!(client_key("has space").is_err());
        assert!(client_key(&"k".repeat(65)).is_err());
    }
}
