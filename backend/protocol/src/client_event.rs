//! What a client asks of the backend.
//!
//! On the wire each request is a Web PubSub `event` frame: `event` is the name (`createChat`, …) and
//! `data` (with `dataType: "json"`) is a JSON object of the request's fields plus an optional
//! `requestId`, which the backend copies into its [`Reply`](crate::Reply) so the client can match
//! them. The sender's identity is never in the body: the backend takes it from the verified
//! connection. The names keep the seed's vocabulary where it had one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::{ChatId, UserId};

/// The longest `requestId` the backend accepts.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// A client request, as named by the frame's `event` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "event",
    content = "data",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum ClientEvent {
    /// Create a group chat; the caller becomes its owner and first member. The server picks the id.
    CreateChat {
        /// Display name, 1–80 characters after trimming.
        name: String,
        /// Idempotency key chosen by the client (e.g. a UUID): a resend with the same key creates
        /// nothing new and answers the chat the first request made. Without one, every request
        /// makes a new chat.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_key: Option<String>,
    },
    /// Open (or re-open) the private chat with another user; both become members.
    CreatePrivateChat {
        /// The other user.
        target_user_id: UserId,
    },
    /// Join a group chat.
    JoinChat {
        /// The chat to join.
        chat_id: ChatId,
    },
    /// Leave a chat (group or private).
    LeaveChat {
        /// The chat to leave.
        chat_id: ChatId,
    },
    /// Delete a group chat; only its owner may.
    DeleteChat {
        /// The chat to delete.
        chat_id: ChatId,
    },
    /// This device has had no input for the idle threshold.
    UserEnterIdle {},
    /// This device has input again.
    UserExitIdle {},
    /// Post a message to a chat the caller is a member of.
    SendMessage {
        /// The chat.
        chat_id: ChatId,
        /// Idempotency key chosen by the client (e.g. a UUID); a resend with the same key stores
        /// nothing new and returns the original message.
        client_key: String,
        /// The text, Markdown source.
        text: String,
    },
    /// "I am typing in this chat": best effort, members only, throttled by the backend, which
    /// forwards it to the chat's other members as [`ServerEvent::Typing`](crate::ServerEvent)
    /// stamped with the verified sender. Nothing else travels with it.
    Typing {
        /// The chat.
        chat_id: ChatId,
    },
}

/// A [`ClientEvent`] with the client's optional correlation id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    /// Copied into the reply; `None` if the client does not need one.
    pub request_id: Option<String>,
    /// What is asked.
    pub event: ClientEvent,
}

/// Why a client frame is not a valid request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The event name is not one of ours.
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    /// The body is not a JSON object with the event's fields.
    #[error("malformed {event} request: {reason}")]
    Malformed {
        /// The event name.
        event: String,
        /// What is wrong, for the client's developer.
        reason: String,
    },
}

impl ClientEvent {
    /// Every event name, as sent in the frame's `event` field.
    pub const NAMES: [&'static str; 9] = [
        "createChat",
        "createPrivateChat",
        "joinChat",
        "leaveChat",
        "deleteChat",
        "userEnterIdle",
        "userExitIdle",
        "sendMessage",
        "typing",
    ];

    /// Whether sending this request again is harmless: it names what it changes (a client key,
    /// a chat, the caller's own state), so a resend after a failure the client could not see
    /// past (a cut, an error ack from a backend that may have stored it first) does it at most
    /// once. A `createChat` without a client key and typing signals are not resent.
    pub fn resend_is_safe(&self) -> bool {
        match self {
            Self::CreateChat { client_key, .. } => client_key.is_some(),
            Self::Typing { .. } => false,
            Self::CreatePrivateChat { .. }
            | Self::JoinChat { .. }
            | Self::LeaveChat { .. }
            | Self::DeleteChat { .. }
            | Self::UserEnterIdle {}
            | Self::UserExitIdle {}
            | Self::SendMessage { .. } => true,
        }
    }

    /// The name this event travels under.
    pub fn name(&self) -> &'static str {
        let index = match self {
            Self::CreateChat { .. } => 0,
            Self::CreatePrivateChat { .. } => 1,
            Self::JoinChat { .. } => 2,
            Self::LeaveChat { .. } => 3,
            Self::DeleteChat { .. } => 4,
            Self::UserEnterIdle {} => 5,
            Self::UserExitIdle {} => 6,
            Self::SendMessage { .. } => 7,
            Self::Typing { .. } => 8,
        };
        Self::NAMES[index]
    }
}

impl ClientRequest {
    /// Parses a request from the event name and the JSON body of its frame.
    pub fn parse(event: &str, body: &[u8]) -> Result<Self, ParseError> {
        if !ClientEvent::NAMES.contains(&event) {
            return Err(ParseError::UnknownEvent(truncate(event, 64)));
        }
        let malformed = |reason: String| ParseError::Malformed {
            event: event.to_owned(),
            reason,
        };
        let mut fields: Map<String, Value> = match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(malformed("the body must be a JSON object".into())),
            Err(err) => return Err(malformed(err.to_string())),
        };
        let request_id = match fields.remove("requestId") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) if !id.is_empty() && id.len() <= MAX_REQUEST_ID_LEN => Some(id),
            Some(_) => {
                return Err(malformed(format!(
                    "requestId must be a string of 1 to {MAX_REQUEST_ID_LEN} bytes"
                )));
            }
        };
        let tagged = serde_json::json!({ "event": event, "data": fields });
        let event = serde_json::from_value(tagged).map_err(|err| malformed(err.to_string()))?;
        Ok(Self { request_id, event })
    }

    /// The frame's `event` field.
    pub fn event_name(&self) -> &'static str {
        self.event.name()
    }

    /// The frame's `data` field: the event's fields plus `requestId`.
    pub fn body(&self) -> Value {
        let mut body = match serde_json::to_value(&self.event) {
            Ok(Value::Object(mut tagged)) => match tagged.remove("data") {
                Some(Value::Object(fields)) => fields,
                _ => Map::new(),
            },
            _ => Map::new(),
        };
        if let Some(id) = &self.request_id {
            body.insert("requestId".into(), Value::String(id.clone()));
        }
        Value::Object(body)
    }
}

/// At most `max` bytes of `s`, cut on a character boundary (for echoing hostile input in errors).
fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(event: &str, body: Value) -> Result<ClientRequest, ParseError> {
        ClientRequest::parse(event, body.to_string().as_bytes())
    }

    #[test]
    fn a_create_chat_without_a_client_key_is_still_understood() {
        let request = ClientRequest::parse("createChat", br#"{"name": "Rust"}"#).unwrap();
        assert_eq!(
            request.event,
            ClientEvent::CreateChat {
                name: "Rust".into(),
                client_key: None
            }
        );
        assert!(
            !request
                .body()
                .as_object()
                .unwrap()
                .contains_key("clientKey")
        );
    }

    #[test]
    fn only_requests_that_name_what_they_change_are_resent() {
        let keyed = ClientEvent::CreateChat {
            name: "a".into(),
            client_key: Some("k".into()),
        };
        let unkeyed = ClientEvent::CreateChat {
            name: "a".into(),
            client_key: None,
        };
        let send = ClientEvent::SendMessage {
            chat_id: "c".into(),
            client_key: "k".into(),
            text: "t".into(),
        };
        let typing = ClientEvent::Typing {
            chat_id: "c".into(),
        };
        assert!(keyed.resend_is_safe() && send.resend_is_safe());
        assert!(!unkeyed.resend_is_safe() && !typing.resend_is_safe());
    }

    #[test]
    fn every_event_round_trips_through_name_and_body() {
        let events = [
            ClientEvent::CreateChat {
                name: "Rust".into(),
                client_key: Some("k1".into()),
            },
            ClientEvent::CreatePrivateChat {
                target_user_id: "github:1".into(),
            },
            ClientEvent::JoinChat {
                chat_id: "c1".into(),
            },
            ClientEvent::LeaveChat {
                chat_id: "c1".into(),
            },
            ClientEvent::DeleteChat {
                chat_id: "c1".into(),
            },
            ClientEvent::UserEnterIdle {},
            ClientEvent::UserExitIdle {},
            ClientEvent::SendMessage {
                chat_id: "c1".into(),
                client_key: "k1".into(),
                text: "hi".into(),
            },
            ClientEvent::Typing {
                chat_id: "c1".into(),
            },
        ];
        assert_eq!(events.len(), ClientEvent::NAMES.len());
        for event in events {
            let request = ClientRequest {
                request_id: Some("r1".into()),
                event,
            };
            let body = serde_json::to_vec(&request.body()).unwrap();
            let back = ClientRequest::parse(request.event_name(), &body).unwrap();
            assert_eq!(back, request);
        }
    }

    #[test]
    fn fields_are_camel_case_on_the_wire() {
        let request = ClientRequest {
            request_id: None,
            event: ClientEvent::SendMessage {
                chat_id: "c1".into(),
                client_key: "k1".into(),
                text: "hi".into(),
            },
        };
        assert_eq!(request.event_name(), "sendMessage");
        assert_eq!(
            request.body(),
            json!({"chatId": "c1", "clientKey": "k1", "text": "hi"})
        );
    }

    #[test]
    fn idle_events_take_an_empty_object() {
        let request = parse("userEnterIdle", json!({})).unwrap();
        assert_eq!(request.event, ClientEvent::UserEnterIdle {});
    }

    #[test]
    fn typing_carries_the_chat_and_nothing_else() {
        let request = parse("typing", json!({"chatId": "c1"})).unwrap();
        assert_eq!(
            request.event,
            ClientEvent::Typing {
                chat_id: "c1".into()
            }
        );
        assert_eq!(request.body(), json!({"chatId": "c1"}));
        // A payload riding along (the old direct publishes carried anything) is refused, and so
        // is a claimed sender.
        for extra in [
            json!({"chatId": "c1", "typing": true}),
            json!({"chatId": "c1", "padding": "x".repeat(1000)}),
            json!({"chatId": "c1", "userId": "github:2"}),
            json!({}),
        ] {
            assert!(
                matches!(
                    parse("typing", extra.clone()),
                    Err(ParseError::Malformed { .. })
                ),
                "{extra} was accepted"
            );
        }
    }

    #[test]
    fn unknown_event_is_rejected_by_name() {
        assert_eq!(
            parse("userConnected", json!({})),
            Err(ParseError::UnknownEvent("userConnected".into()))
        );
    }

    #[test]
    fn spoofed_identity_fields_are_rejected_not_ignored() {
        // The seed trusted `initiatorUserId` and `fromUserId` from bodies; we refuse them outright.
        let err = parse(
            "createPrivateChat",
            json!({"targetUserId": "github:2", "initiatorUserId": "github:3"}),
        )
        .unwrap_err();
        assert!(matches!(err, ParseError::Malformed { .. }), "{err:?}");
        let err = parse(
            "sendMessage",
            json!({"chatId": "c", "clientKey": "k", "text": "t", "fromUserId": "x"}),
        )
        .unwrap_err();
        assert!(matches!(err, ParseError::Malformed { .. }), "{err:?}");
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        for (event, body) in [
            ("joinChat", b"not json".as_slice()),
            ("joinChat", b"\"chat-id-as-text\"".as_slice()),
            ("joinChat", b"{}".as_slice()),
            ("joinChat", br#"{"chatId": 5}"#.as_slice()),
            ("createChat", br#"{"name": "x", "requestId": 7}"#.as_slice()),
        ] {
            assert!(
                matches!(
                    ClientRequest::parse(event, body),
                    Err(ParseError::Malformed { .. })
                ),
                "{event} {:?} was accepted",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn oversized_request_id_is_rejected() {
        let long = "x".repeat(MAX_REQUEST_ID_LEN + 1);
        assert!(parse("userExitIdle", json!({"requestId": long})).is_err());
    }

    #[test]
    fn hostile_event_names_are_truncated_in_errors() {
        let name = "é".repeat(100);
        match ClientRequest::parse(&name, b"{}") {
            Err(ParseError::UnknownEvent(echo)) => assert!(echo.len() <= 64),
            other => panic!("unexpected {other:?}"),
        }
    }
}
