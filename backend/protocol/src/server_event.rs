//! What the backend sends clients: `{ "chatEvent": <name>, "data": <object> }`, delivered as Web
//! PubSub messages (to everyone, to a user, or to a chat's group), and the [`Reply`] to each client
//! request. `data` is always a JSON object, never JSON inside a string (the seed's double encoding).
//! Names keep the seed's vocabulary (`chatCreated`, `userOnline`, `joinPrivateChat`, …).

use serde::{Deserialize, Serialize};

use crate::model::{Chat, ChatId, Message, User, UserId};

/// A push from the backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "chatEvent",
    content = "data",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ServerEvent {
    /// This connection is now in the group of every chat its user belongs to (to the new
    /// connection only, after `connected`): what those chats get from now on arrives live, and
    /// what came before is in history — the moment a client fills the gap of a fresh connection.
    Ready {},
    /// A group chat was created (to everyone).
    ChatCreated {
        /// The new chat.
        chat: Chat,
    },
    /// A group chat was deleted by its owner (to everyone); members are removed from it.
    ChatDeleted {
        /// The deleted chat.
        chat_id: ChatId,
    },
    /// A user's first connection opened (to everyone).
    UserOnline {
        /// The user, with presence.
        user: User,
    },
    /// A user's last connection closed (to everyone).
    UserOffline {
        /// Who went offline.
        user_id: UserId,
    },
    /// A user went idle on every device (to everyone).
    UserIsIdle {
        /// Who is idle.
        user_id: UserId,
    },
    /// An idle user is active again (to everyone).
    UserNotIdle {
        /// Who is back.
        user_id: UserId,
    },
    /// A private chat was opened (to both of its users).
    JoinPrivateChat {
        /// The chat, named after the other user for this recipient.
        chat: Chat,
        /// True for the user who asked (focus the tab); false for the other (notify instead).
        grab_focus: bool,
    },
    /// Someone joined a chat (to the chat's group).
    MemberJoined {
        /// The chat.
        chat_id: ChatId,
        /// Who joined.
        user: User,
    },
    /// Someone left a chat (to the chat's group).
    MemberLeft {
        /// The chat.
        chat_id: ChatId,
        /// Who left.
        user_id: UserId,
    },
    /// A stored message (to the chat's group).
    Message {
        /// The message as stored.
        message: Message,
    },
    /// A member is typing in a chat (to the chat's group, except the typist's own connections).
    /// The backend sends it, after checking membership and throttling, in answer to a client's
    /// `typing` event; `user_id` is the verified sender, never a value from the client.
    Typing {
        /// The chat.
        chat_id: ChatId,
        /// Who is typing.
        user_id: UserId,
    },
    /// The answer to one client request (to the requesting connection only).
    Reply(Reply),
}

/// The backend's answer to one client request. Always delivered (the webhook answers 2xx even when
/// it refuses: Web PubSub drops a connection whose event got a non-2xx answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "status",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Reply {
    /// Done.
    Ok {
        /// The request's `requestId`, if it had one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        /// The chat created, opened or joined, where the request was about one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chat: Option<Chat>,
        /// The stored message, for `sendMessage`: receiving it means the message is stored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<Message>,
    },
    /// Refused or failed; nothing was changed.
    Error {
        /// The request's `requestId`, if it had one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        /// What kind of failure, for the client to branch on.
        code: ErrorCode,
        /// A sentence for people.
        message: String,
    },
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    /// The request is malformed or a field is invalid (empty name, unknown event, …).
    BadRequest,
    /// The chat or user does not exist (or the caller may not know it does).
    NotFound,
    /// The caller may not do this (not the owner, not a member, someone else's private chat).
    Forbidden,
    /// The message or name is longer than the limit.
    TooLarge,
    /// The caller sent too much too fast; retry later.
    RateLimited,
    /// The backend failed; the request may be retried with the same idempotency key.
    Internal,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChatKind, Presence};
    use serde_json::json;

    #[test]
    fn events_carry_an_object_not_a_string() {
        let event = ServerEvent::UserOnline {
            user: User {
                id: "github:1".into(),
                name: "Ada".into(),
                provider: "github".into(),
                presence: Presence::Online,
            },
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"chatEvent": "userOnline", "data": {"user": {
                "id": "github:1", "name": "Ada", "provider": "github", "presence": "online"}}})
        );
    }

    #[test]
    fn seed_names_are_kept() {
        let names: Vec<String> = [
            ServerEvent::ChatDeleted {
                chat_id: "c".into(),
            },
            ServerEvent::UserOffline {
                user_id: "u".into(),
            },
            ServerEvent::UserIsIdle {
                user_id: "u".into(),
            },
            ServerEvent::UserNotIdle {
                user_id: "u".into(),
            },
        ]
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["chatEvent"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
        assert_eq!(
            names,
            ["chatDeleted", "userOffline", "userIsIdle", "userNotIdle"]
        );
    }

    #[test]
    fn private_chat_invitation_round_trips() {
        let event = ServerEvent::JoinPrivateChat {
            chat: Chat {
                id: "private:abc".into(),
                name: "Ada".into(),
                kind: ChatKind::Private,
                owner: "github:1".into(),
                created_at: 1_700_000_000_000,
            },
            grab_focus: false,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["data"]["grabFocus"], json!(false));
        assert_eq!(
            json["data"]["chat"]["createdAt"],
            json!(1_700_000_000_000_i64)
        );
        assert_eq!(serde_json::from_value::<ServerEvent>(json).unwrap(), event);
    }

    #[test]
    fn replies_say_ok_or_error_with_the_request_id() {
        let ok = ServerEvent::Reply(Reply::Ok {
            request_id: Some("r1".into()),
            chat: None,
            message: None,
        });
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            json!({"chatEvent": "reply", "data": {"status": "ok", "requestId": "r1"}})
        );
        let refused = ServerEvent::Reply(Reply::Error {
            request_id: None,
            code: ErrorCode::Forbidden,
            message: "only the owner may delete this chat".into(),
        });
        let json = serde_json::to_value(&refused).unwrap();
        assert_eq!(
            json,
            json!({"chatEvent": "reply", "data": {"status": "error", "code": "forbidden",
                "message": "only the owner may delete this chat"}})
        );
        assert_eq!(
            serde_json::from_value::<ServerEvent>(json).unwrap(),
            refused
        );
    }

    #[test]
    fn typing_round_trips_with_the_sender() {
        let event = ServerEvent::Typing {
            chat_id: "c1".into(),
            user_id: "github:1".into(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            json!({"chatEvent": "typing", "data": {"chatId": "c1", "userId": "github:1"}})
        );
        assert_eq!(serde_json::from_value::<ServerEvent>(json).unwrap(), event);
    }

    #[test]
    fn messages_round_trip() {
        let event = ServerEvent::Message {
            message: Message {
                chat_id: "c1".into(),
                seq: 42,
                from: "local:7".into(),
                text: "<b>not html</b>".into(),
                sent_at: 1,
                client_key: "k".into(),
            },
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<ServerEvent>(&json).unwrap(), event);
    }
}
