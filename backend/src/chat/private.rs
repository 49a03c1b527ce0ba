//! Private chats: one per pair of users, whoever starts it.

use sha2::{Digest, Sha256};

use super::RuleError;

/// The id prefix of private chats.
pub const PREFIX: &str = "private-";

/// The private chat id of two different users: the same for (a, b) and (b, a), opaque, fixed length,
/// and safe as a storage key whatever characters the user ids contain.
pub fn chat_id(a: &str, b: &str) -> Result<String, RuleError> {
    if a == b {
        return Err(RuleError::Invalid(
            "a private chat needs two different users".into(),
        ));
    }
    let (first, second) = if a < b { (a, b) } else { (b, a) };
    let mut hash = Sha256::new();
    // Length-prefixing keeps ("ab", "c") and ("a", "bc") apart.
    hash.update((first.len() as u64).to_be_bytes());
    hash.update(first.as_bytes());
    hash.update(second.as_bytes());
    let digest = hash.finalize();
    Ok(format!("{PREFIX}{}", hex::encode(&digest[..16])))
}

/// Whether `chat_id` names a private chat.
pub fn is_private(chat_id: &str) -> bool {
    chat_id.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pair_order_does_not_matter() {
        assert_eq!(
            chat_id("github:1", "local:x").unwrap(),
            chat_id("local:x", "github:1").unwrap()
        );
    }

    #[test]
    fn different_pairs_get_different_ids() {
        // The seed's `private_<a>_<b>` collided for ids containing `_`; ours cannot.
        assert_ne!(chat_id("a_b", "c").unwrap(), chat_id("a", "b_c").unwrap());
        assert_ne!(chat_id("ab", "c").unwrap(), chat_id("a", "bc").unwrap());
    }

    #[test]
    fn ids_are_fixed_length_safe_keys() {
        let id = chat_id("github:1/../#?", "local:\\x").unwrap();
        assert!(is_private(&id));
        assert_eq!(id.len(), PREFIX.len() + 32);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn a_user_cannot_chat_privately_with_themself() {
        assert!(chat_id("github:1", "github:1").is_err());
    }
}
