//! Who may do what to a chat. The store says who is a member; these functions say what follows.

use chatr_protocol::{Chat, ChatKind};

use super::RuleError;

/// Whether `user` may delete `chat`: only a group chat's owner. Private chats are left, not deleted.
pub fn can_delete(chat: &Chat, user: &str) -> Result<(), RuleError> {
    match chat.kind {
        ChatKind::Private => Err(RuleError::Forbidden(
            "private chats cannot be deleted, only left",
        )),
        ChatKind::Group if chat.owner == user => Ok(()),
        ChatKind::Group => Err(RuleError::Forbidden("only the owner may delete this chat")),
    }
}

/// Whether `user` may join `chat`. Anyone may join a group chat; a private chat only admits the two
/// users it was made for (`pair`), so nobody can listen in.
pub fn can_join(chat: &Chat, user: &str, pair: Option<(&str, &str)>) -> Result<(), RuleError> {
    match (chat.kind, pair) {
        (ChatKind::Group, _) => Ok(()),
        (ChatKind::Private, Some((a, b))) if user == a || user == b => Ok(()),
        (ChatKind::Private, _) => Err(RuleError::Forbidden("this private chat is not yours")),
    }
}

/// Whether `user` may post to or read `chat`: members only.
pub fn can_read_or_post(is_member: bool) -> Result<(), RuleError> {
    if is_member {
        Ok(())
    } else {
        Err(RuleError::Forbidden("you are not a member of this chat"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(kind: ChatKind) -> Chat {
        Chat {
            id: "c1".into(),
            name: "Rust".into(),
            kind,
            owner: "github:1".into(),
            created_at: 0,
        }
    }

    #[test]
    fn only_the_owner_deletes_a_group_chat() {
        assert!(can_delete(&chat(ChatKind::Group), "github:1").is_ok());
        assert!(can_delete(&chat(ChatKind::Group), "github:2").is_err());
    }

    #[test]
    fn private_chats_are_never_deleted() {
        assert!(can_delete(&chat(ChatKind::Private), "github:1").is_err());
    }

    #[test]
    fn anyone_joins_a_group_chat() {
        assert!(can_join(&chat(ChatKind::Group), "github:9", None).is_ok());
    }

    #[test]
    fn only_its_pair_joins_a_private_chat() {
        let private = chat(ChatKind::Private);
        let pair = Some(("github:1", "github:2"));
        assert!(can_join(&private, "github:2", pair).is_ok());
        assert!(can_join(&private, "github:3", pair).is_err());
        assert!(can_join(&private, "github:1", None).is_err());
    }

    #[test]
    fn non_members_cannot_read_or_post() {
        assert!(can_read_or_post(true).is_ok());
        assert_eq!(
            can_read_or_post(false),
            Err(RuleError::Forbidden("you are not a member of this chat"))
        );
    }
}
