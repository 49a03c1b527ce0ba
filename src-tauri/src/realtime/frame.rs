//! The client side of Web PubSub's JSON subprotocols (`json.webpubsub.azure.v1` and its reliable
//! variant): requests we send and the frames we receive, as typed values. Pure serde; the socket
//! lives elsewhere. Unknown frame types and error names are tolerated, as the protocol requires.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The reliable JSON subprotocol: sequence ids, cumulative acks, resumable connections.
pub const RELIABLE_SUBPROTOCOL: &str = "json.reliable.webpubsub.azure.v1";

/// A request to the service.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Request {
    /// A client event to the upstream (our backend), e.g. `sendMessage`.
    Event {
        /// The event name.
        event: String,
        /// Correlates the service's ack.
        ack_id: u64,
        /// Always `json` for Chatr.
        data_type: &'static str,
        /// The event's body.
        data: Value,
    },
    /// "I have received every message up to this id" (reliable subprotocol only).
    SequenceAck {
        /// The largest id received.
        sequence_id: u64,
    },
    /// Keep-alive; the service answers `pong`.
    Ping,
}

impl Request {
    /// An `event` request with a JSON body.
    pub fn event(event: impl Into<String>, ack_id: u64, data: Value) -> Self {
        Self::Event {
            event: event.into(),
            ack_id,
            data_type: "json",
            data,
        }
    }

    /// The frame's text.
    pub fn to_text(&self) -> String {
        // Serialising these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Where a message came from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// Our backend (REST send, or its answer to one of our events).
    Server,
    /// A group publish.
    Group,
}

/// An error in a failed ack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AckError {
    /// `Forbidden`, `InternalServerError`, `Duplicate`, `BadRequest`, or a newer one.
    pub name: String,
    /// The service's explanation.
    #[serde(default)]
    pub message: String,
}

/// A frame from the service.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Incoming {
    /// The outcome of a request with an `ackId`.
    Ack {
        /// Which request.
        ack_id: u64,
        /// Whether it was done.
        success: bool,
        /// Why not.
        #[serde(default)]
        error: Option<AckError>,
    },
    /// A message.
    Message {
        /// Server or group.
        from: Source,
        /// The group, for group messages.
        #[serde(default)]
        group: Option<String>,
        /// The publisher's user id (stamped by the service), for group messages.
        #[serde(default)]
        from_user_id: Option<String>,
        /// `json`, `text` or `binary`.
        #[serde(default = "json_type")]
        data_type: String,
        /// The payload.
        #[serde(default)]
        data: Value,
        /// Reliable subprotocol: position in this connection's stream.
        #[serde(default)]
        sequence_id: Option<u64>,
    },
    /// `connected` / `disconnected`.
    System {
        /// Which system event.
        event: SystemEvent,
        /// Our user id (connected).
        #[serde(default)]
        user_id: Option<String>,
        /// Our connection id (connected).
        #[serde(default)]
        connection_id: Option<String>,
        /// Reliable subprotocol: the token to resume with (connected).
        #[serde(default)]
        reconnection_token: Option<String>,
        /// Why (disconnected).
        #[serde(default)]
        message: Option<String>,
    },
    /// The answer to `ping`.
    Pong,
    /// A frame type this client does not know; ignored.
    #[serde(other)]
    Unknown,
}

/// A system event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SystemEvent {
    /// The connection is ready.
    Connected,
    /// The service is closing the connection.
    Disconnected,
    /// A system event this client does not know.
    #[serde(other)]
    Other,
}

fn json_type() -> String {
    "json".to_owned()
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
#[error("malformed frame from the service: {0}")]
pub struct DecodeError(#[from] serde_json::Error);

/// Reads one text frame.
pub fn decode(text: &str) -> Result<Incoming, DecodeError> {
    Ok(serde_json::from_str(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_have_the_documented_shape() {
        assert_eq!(
            serde_json::to_value(Request::event("sendMessage", 4, json!({"text": "hi"}))).unwrap(),
            json!({"type": "event", "event": "sendMessage", "ackId": 4, "dataType": "json",
                   "data": {"text": "hi"}})
        );
        assert_eq!(
            Request::SequenceAck { sequence_id: 17 }.to_text(),
            r#"{"type":"sequenceAck","sequenceId":17}"#
        );
        assert_eq!(Request::Ping.to_text(), r#"{"type":"ping"}"#);
    }

    #[test]
    fn acks_decode_with_and_without_errors() {
        assert_eq!(
            decode(r#"{"type":"ack","ackId":1,"success":true}"#).unwrap(),
            Incoming::Ack {
                ack_id: 1,
                success: true,
                error: None
            }
        );
        match decode(r#"{"type":"ack","ackId":3,"success":false,"error":{"name":"Forbidden","message":"no"}}"#)
            .unwrap()
        {
            Incoming::Ack {
                success: false,
                error: Some(err),
                ..
            } => assert_eq!(err.name, "Forbidden"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn reliable_messages_carry_sequence_ids() {
        let frame = decode(
            r#"{"type":"message","from":"group","group":"c1","fromUserId":"u1","dataType":"json","data":{"x":1},"sequenceId":9}"#,
        )
        .unwrap();
        assert_eq!(
            frame,
            Incoming::Message {
                from: Source::Group,
                group: Some("c1".into()),
                from_user_id: Some("u1".into()),
                data_type: "json".into(),
                data: json!({"x": 1}),
                sequence_id: Some(9),
            }
        );
    }

    #[test]
    fn connected_carries_the_reconnection_token() {
        match decode(r#"{"type":"system","event":"connected","userId":"u","connectionId":"c","reconnectionToken":"t"}"#)
            .unwrap()
        {
            Incoming::System {
                event: SystemEvent::Connected,
                reconnection_token,
                connection_id,
                ..
            } => {
                assert_eq!(reconnection_token.as_deref(), Some("t"));
                assert_eq!(connection_id.as_deref(), Some("c"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_types_are_tolerated_and_garbage_is_an_error() {
        assert_eq!(
            decode(r#"{"type":"streamAck","x":1}"#).unwrap(),
            Incoming::Unknown
        );
        assert_eq!(decode(r#"{"type":"pong"}"#).unwrap(), Incoming::Pong);
        assert!(decode("not json").is_err());
        assert!(decode(r#"{"no":"type"}"#).is_err());
    }
}
