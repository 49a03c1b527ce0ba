//! Which strings may be store keys, and how message positions become sortable row keys. Pure
//! functions only: no I/O, never rewrites a key silently (a bad key is refused, not "fixed").
//!
//! Every id the store keeps (user, chat, connection, idempotency key) ends up in an Azure Table
//! PartitionKey or RowKey, which may not contain `/ \ # ?` or control characters and is limited to
//! 1 KiB (the seed crashed on such chat ids: its bug 14). Both stores apply the same check, so a
//! key that works on SQLite in development also works on Table Storage in the cloud.

use super::Error;

/// The longest key, in bytes. Table Storage allows 1 KiB per key; composite row keys (sender +
/// client key) must stay under that, so each part gets a quarter of it.
pub const MAX_KEY_BYTES: usize = 256;

/// Checks that `value` can be used as (part of) a storage key; `what` names it in the error.
pub fn check(what: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::Invalid(format!("{what} is empty")));
    }
    if value.len() > MAX_KEY_BYTES {
        return Err(Error::Invalid(format!(
            "{what} is longer than {MAX_KEY_BYTES} bytes"
        )));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| matches!(c, '/' | '\\' | '#' | '?') || c.is_control())
    {
        return Err(Error::Invalid(format!(
            "{what} contains a character keys may not hold ({:?})",
            bad.escape_default().to_string()
        )));
    }
    Ok(())
}

/// Width of a zero-padded `u64` (`u64::MAX` has 20 digits).
const SEQ_WIDTH: usize = 20;

/// The row key of message `seq`: `m` + the zero-padded distance from `u64::MAX`, so an ascending
/// row-key scan (the only order Table Storage has) reads a chat newest first.
pub fn message_row(seq: u64) -> String {
    format!("m{:0width$}", u64::MAX - seq, width = SEQ_WIDTH)
}

/// The message position encoded in a row key made by [`message_row`].
pub fn message_seq(row: &str) -> Option<u64> {
    let digits = row.strip_prefix('m')?;
    if digits.len() != SEQ_WIDTH || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits
        .parse::<u64>()
        .ok()
        .map(|inverted| u64::MAX - inverted)
}

/// The row key remembering which message `(sender, client_key)` produced, in the chat's partition.
/// The sender's length comes first, so `("ab", "c")` and `("a", "bc")` never share a row.
pub fn idempotency_row(sender: &str, client_key: &str) -> String {
    format!("k{}:{sender}:{client_key}", sender.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_ids_are_keys() {
        for ok in [
            "github:12345",
            "local:6f1c-aa",
            "private-00ff",
            "Zürich chat",
            "a.b_c~d",
        ] {
            assert!(check("id", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn table_forbidden_characters_are_refused() {
        for bad in [
            "a/b", "a\\b", "a#b", "a?b", "a\nb", "a\tb", "\u{7f}", "a\u{85}b", "",
        ] {
            assert!(
                matches!(check("chat id", bad), Err(Error::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn overlong_keys_are_refused() {
        assert!(check("id", &"x".repeat(MAX_KEY_BYTES)).is_ok());
        assert!(check("id", &"x".repeat(MAX_KEY_BYTES + 1)).is_err());
    }

    #[test]
    fn message_rows_sort_newest_first() {
        let rows: Vec<String> = [1, 2, 9, 10, 11, 1_000_000, u64::MAX - 1]
            .into_iter()
            .map(message_row)
            .collect();
        let mut sorted = rows.clone();
        sorted.sort();
        sorted.reverse();
        assert_eq!(rows, sorted, "higher seq, lower row key");
        assert!(rows.iter().all(|r| r.len() == 1 + SEQ_WIDTH));
    }

    #[test]
    fn message_rows_round_trip() {
        for seq in [0, 1, 42, u64::MAX] {
            assert_eq!(message_seq(&message_row(seq)), Some(seq));
        }
        assert_eq!(message_seq("c"), None);
        assert_eq!(message_seq("m12"), None);
        assert_eq!(message_seq(&idempotency_row("a", "b")), None);
    }

    #[test]
    fn idempotency_rows_keep_sender_and_key_apart() {
        assert_ne!(idempotency_row("ab", "c"), idempotency_row("a", "bc"));
        assert_ne!(idempotency_row("a:1", "x"), idempotency_row("a", "1:x"));
    }
}
