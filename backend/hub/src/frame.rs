//! The JSON subprotocols' frames from the service's side: client requests decoded into typed values,
//! and the frames we send built as text. Pure. A message frame is built once per fan-out; reliable
//! connections get their `sequenceId` spliced in without re-serialising the payload.

use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

/// The plain JSON subprotocol.
pub const JSON_SUBPROTOCOL: &str = "json.webpubsub.azure.v1";
/// The reliable JSON subprotocol.
pub const RELIABLE_SUBPROTOCOL: &str = "json.reliable.webpubsub.azure.v1";

/// How a payload is typed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum DataType {
    /// Any JSON value.
    #[default]
    Json,
    /// A string.
    Text,
    /// Base64 bytes.
    Binary,
    /// Base64 of a protobuf `Any` (passed through).
    Protobuf,
}

impl DataType {
    fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Text => "text",
            Self::Binary => "binary",
            Self::Protobuf => "protobuf",
        }
    }
}

/// A message's payload, kept as it will be forwarded.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A JSON value (never null).
    Json(Value),
    /// Text.
    Text(String),
    /// Bytes.
    Binary(Vec<u8>),
}

impl Payload {
    /// Validates `data` against `data_type`.
    pub fn from_wire(data_type: DataType, data: Value) -> Result<Self, String> {
        match (data_type, data) {
            (DataType::Json, Value::Null) => Err("json data cannot be null".into()),
            (DataType::Json, value) => Ok(Self::Json(value)),
            (DataType::Text, Value::String(s)) => Ok(Self::Text(s)),
            (DataType::Text, _) => Err("text data must be a string".into()),
            (DataType::Binary | DataType::Protobuf, Value::String(s)) => {
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map(Self::Binary)
                    .map_err(|_| "binary data must be base64".into())
            }
            (DataType::Binary | DataType::Protobuf, _) => {
                Err("binary data must be a base64 string".into())
            }
        }
    }

    /// From an HTTP body and its content type (REST sends, upstream answers).
    pub fn from_http(content_type: Option<&str>, body: &[u8]) -> Result<Self, String> {
        let mime = content_type
            .unwrap_or("application/octet-stream")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/json" => serde_json::from_slice(body)
                .map(Self::Json)
                .map_err(|e| format!("invalid JSON body: {e}")),
            "text/plain" => String::from_utf8(body.to_vec())
                .map(Self::Text)
                .map_err(|_| "text body is not UTF-8".into()),
            "application/octet-stream" => Ok(Self::Binary(body.to_vec())),
            other => Err(format!("unsupported content type {other:?}")),
        }
    }

    /// The content type an upstream request carries for this payload.
    pub fn content_type(&self) -> &'static str {
        match self {
            Self::Json(_) => "application/json",
            Self::Text(_) => "text/plain; charset=utf-8",
            Self::Binary(_) => "application/octet-stream",
        }
    }

    /// The bytes an upstream request (or a raw client) carries.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Json(v) => v.to_string().into_bytes(),
            Self::Text(s) => s.clone().into_bytes(),
            Self::Binary(b) => b.clone(),
        }
    }

    fn wire(&self) -> (&'static str, Value) {
        match self {
            Self::Json(v) => (DataType::Json.name(), v.clone()),
            Self::Text(s) => (DataType::Text.name(), Value::String(s.clone())),
            Self::Binary(b) => (
                DataType::Binary.name(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
            ),
        }
    }
}

/// A request from a client.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Join a group.
    JoinGroup {
        /// The group.
        group: String,
        /// Ack id.
        ack_id: Option<u64>,
    },
    /// Leave a group.
    LeaveGroup {
        /// The group.
        group: String,
        /// Ack id.
        ack_id: Option<u64>,
    },
    /// Publish to a group.
    SendToGroup {
        /// The group.
        group: String,
        /// Ack id.
        ack_id: Option<u64>,
        /// Do not echo to the sender.
        no_echo: bool,
        /// What to publish.
        payload: Payload,
    },
    /// A user event for the upstream.
    Event {
        /// The event name.
        event: String,
        /// Ack id.
        ack_id: Option<u64>,
        /// The event's body.
        payload: Payload,
    },
    /// Reliable: everything up to this id was received.
    SequenceAck {
        /// The id.
        sequence_id: u64,
    },
    /// Keep-alive.
    Ping,
}

/// Why a frame is not a valid request. `ack_id` is set when the frame had one, so the client can
/// be answered with a `BadRequest` ack instead of being dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadFrame {
    /// The frame's ack id, if it could be read.
    pub ack_id: Option<u64>,
    /// What is wrong.
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequest {
    #[serde(rename = "type")]
    kind: String,
    ack_id: Option<u64>,
    group: Option<String>,
    event: Option<String>,
    #[serde(default)]
    no_echo: bool,
    #[serde(default)]
    data_type: DataType,
    #[serde(default)]
    data: Value,
    sequence_id: Option<u64>,
}

/// The longest group name.
pub const MAX_GROUP_LEN: usize = 1024;

fn valid_group(group: Option<String>) -> Result<String, String> {
    match group {
        Some(g) if g.len() > MAX_GROUP_LEN => Err("group name is too long".into()),
        Some(g) if g.trim().is_empty() => Err("group name is empty".into()),
        Some(g) => Ok(g),
        None => Err("group is missing".into()),
    }
}

fn valid_event(event: Option<String>) -> Result<String, String> {
    let event = event.ok_or("event is missing")?;
    let mut chars = event.chars();
    let ok = event.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(event)
    } else {
        Err(format!(
            "invalid event name {:?}",
            event.chars().take(64).collect::<String>()
        ))
    }
}

/// Decodes one client frame.
pub fn decode(text: &str) -> Result<Request, BadFrame> {
    let raw: RawRequest = serde_json::from_str(text).map_err(|e| BadFrame {
        ack_id: serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("ackId").and_then(Value::as_u64)),
        reason: format!("malformed request: {e}"),
    })?;
    let ack_id = raw.ack_id;
    let bad = |reason: String| BadFrame { ack_id, reason };
    match raw.kind.as_str() {
        "joinGroup" => Ok(Request::JoinGroup {
            group: valid_group(raw.group).map_err(bad)?,
            ack_id,
        }),
        "leaveGroup" => Ok(Request::LeaveGroup {
            group: valid_group(raw.group).map_err(bad)?,
            ack_id,
        }),
        "sendToGroup" => Ok(Request::SendToGroup {
            group: valid_group(raw.group).map_err(bad)?,
            ack_id,
            no_echo: raw.no_echo,
            payload: Payload::from_wire(raw.data_type, raw.data).map_err(bad)?,
        }),
        "event" => Ok(Request::Event {
            event: valid_event(raw.event).map_err(bad)?,
            ack_id,
            payload: Payload::from_wire(raw.data_type, raw.data).map_err(bad)?,
        }),
        "sequenceAck" => Ok(Request::SequenceAck {
            sequence_id: raw
                .sequence_id
                .ok_or_else(|| bad("sequenceId is missing".into()))?,
        }),
        "ping" => Ok(Request::Ping),
        other => Err(bad(format!(
            "unknown request type {:?}",
            other.chars().take(64).collect::<String>()
        ))),
    }
}

/// The error names of failed acks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckError {
    /// Missing permission.
    Forbidden,
    /// The ack id was used before; the request was not repeated.
    Duplicate,
    /// The request is malformed.
    BadRequest,
    /// The service (or upstream) failed; the client may retry.
    InternalServerError,
}

impl AckError {
    fn name(self) -> &'static str {
        match self {
            Self::Forbidden => "Forbidden",
            Self::Duplicate => "Duplicate",
            Self::BadRequest => "BadRequest",
            Self::InternalServerError => "InternalServerError",
        }
    }
}

/// `{"type":"ack",…}`.
pub fn ack(ack_id: u64, outcome: Result<(), (AckError, &str)>) -> String {
    match outcome {
        Ok(()) => json!({"type": "ack", "ackId": ack_id, "success": true}).to_string(),
        Err((error, message)) => json!({"type": "ack", "ackId": ack_id, "success": false,
            "error": {"name": error.name(), "message": message}})
        .to_string(),
    }
}

/// A message from a group publish or a REST group send (`from_user_id` only for publishes).
pub fn group_message(group: &str, from_user_id: Option<&str>, payload: &Payload) -> String {
    let (data_type, data) = payload.wire();
    json!({"type": "message", "from": "group", "group": group, "fromUserId": from_user_id,
           "dataType": data_type, "data": data})
    .to_string()
}

/// A message from the server (REST send, or the upstream's answer to an event).
pub fn server_message(payload: &Payload) -> String {
    let (data_type, data) = payload.wire();
    json!({"type": "message", "from": "server", "dataType": data_type, "data": data}).to_string()
}

/// Adds `"sequenceId": id` to a message frame built by [`group_message`] or [`server_message`].
pub fn with_sequence_id(frame: &str, sequence_id: u64) -> String {
    match frame.strip_suffix('}') {
        Some(body) => format!("{body},\"sequenceId\":{sequence_id}}}"),
        None => frame.to_owned(),
    }
}

/// The `connected` system frame.
pub fn connected(
    user_id: Option<&str>,
    connection_id: &str,
    reconnection_token: Option<&str>,
) -> String {
    let mut frame = json!({"type": "system", "event": "connected", "userId": user_id,
                           "connectionId": connection_id});
    if let Some(token) = reconnection_token {
        frame["reconnectionToken"] = Value::String(token.to_owned());
    }
    frame.to_string()
}

/// The `disconnected` system frame.
pub fn disconnected(message: &str) -> String {
    json!({"type": "system", "event": "disconnected", "message": message}).to_string()
}

/// The answer to `ping`.
pub const PONG: &str = r#"{"type":"pong"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_decode() {
        assert_eq!(
            decode(r#"{"type":"joinGroup","group":"g","ackId":1}"#),
            Ok(Request::JoinGroup {
                group: "g".into(),
                ack_id: Some(1)
            })
        );
        assert_eq!(
            decode(
                r#"{"type":"sendToGroup","group":"g","noEcho":true,"dataType":"text","data":"hi"}"#
            ),
            Ok(Request::SendToGroup {
                group: "g".into(),
                ack_id: None,
                no_echo: true,
                payload: Payload::Text("hi".into())
            })
        );
        assert_eq!(
            decode(r#"{"type":"event","event":"sendMessage","ackId":9,"data":{"a":1}}"#),
            Ok(Request::Event {
                event: "sendMessage".into(),
                ack_id: Some(9),
                payload: Payload::Json(json!({"a": 1}))
            })
        );
        assert_eq!(
            decode(r#"{"type":"sequenceAck","sequenceId":5}"#),
            Ok(Request::SequenceAck { sequence_id: 5 })
        );
        assert_eq!(decode(r#"{"type":"ping"}"#), Ok(Request::Ping));
    }

    #[test]
    fn bad_frames_keep_their_ack_id_when_it_can_be_read() {
        let err = decode(r#"{"type":"teleport","ackId":4}"#).unwrap_err();
        assert_eq!(err.ack_id, Some(4));
        assert!(err.reason.contains("unknown request type"));
        let err =
            decode(r#"{"type":"sendToGroup","group":"g","ackId":5,"dataType":"text","data":7}"#)
                .unwrap_err();
        assert_eq!(err.ack_id, Some(5));
        assert_eq!(decode("{not json").unwrap_err().ack_id, None);
        assert!(decode(r#"{"type":"joinGroup","group":"   ","ackId":1}"#).is_err());
        assert!(decode(r#"{"type":"event","event":"9bad","ackId":1,"data":1}"#).is_err());
        assert!(decode(r#"{"type":"event","event":"x","ackId":1,"data":null}"#).is_err());
        let long = "g".repeat(MAX_GROUP_LEN + 1);
        assert!(decode(&format!(r#"{{"type":"joinGroup","group":"{long}"}}"#)).is_err());
    }

    #[test]
    fn binary_data_is_base64_both_ways() {
        let payload = Payload::from_wire(DataType::Binary, json!("AQID")).unwrap();
        assert_eq!(payload, Payload::Binary(vec![1, 2, 3]));
        let frame: Value = serde_json::from_str(&server_message(&payload)).unwrap();
        assert_eq!(frame["dataType"], "binary");
        assert_eq!(frame["data"], "AQID");
        assert!(Payload::from_wire(DataType::Binary, json!("%%%")).is_err());
    }

    #[test]
    fn http_bodies_map_by_content_type() {
        assert_eq!(
            Payload::from_http(Some("application/json; charset=utf-8"), br#"{"a":1}"#).unwrap(),
            Payload::Json(json!({"a": 1}))
        );
        assert_eq!(
            Payload::from_http(Some("text/plain"), b"hi").unwrap(),
            Payload::Text("hi".into())
        );
        assert_eq!(
            Payload::from_http(None, b"\x01").unwrap(),
            Payload::Binary(vec![1])
        );
        assert!(Payload::from_http(Some("image/png"), b"").is_err());
    }

    #[test]
    fn sequence_ids_are_spliced_into_the_shared_frame() {
        let frame = group_message("g", Some("u1"), &Payload::Json(json!({"x": 1})));
        let numbered: Value = serde_json::from_str(&with_sequence_id(&frame, 42)).unwrap();
        assert_eq!(numbered["sequenceId"], 42);
        assert_eq!(numbered["fromUserId"], "u1");
        assert_eq!(numbered["data"]["x"], 1);
    }

    #[test]
    fn acks_and_system_frames_have_the_documented_shape() {
        let failed: Value =
            serde_json::from_str(&ack(3, Err((AckError::Forbidden, "no")))).unwrap();
        assert_eq!(
            failed,
            json!({"type":"ack","ackId":3,"success":false,"error":{"name":"Forbidden","message":"no"}})
        );
        let connected: Value = serde_json::from_str(&connected(Some("u"), "c", Some("t"))).unwrap();
        assert_eq!(connected["reconnectionToken"], "t");
        assert_eq!(connected["event"], "connected");
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_text_never_panics(text in ".{0,200}") {
            let _ = decode(&text);
        }

        #[test]
        fn decoding_request_shaped_json_never_panics(
            kind in "(joinGroup|leaveGroup|sendToGroup|event|sequenceAck|ping|[a-z]{1,8})",
            group in proptest::option::of(".{0,40}"),
            event in proptest::option::of("[a-zA-Z0-9_.-]{0,20}"),
            data_type in "(json|text|binary|protobuf|[a-z]{1,5})",
            ack in proptest::option::of(proptest::num::u64::ANY),
            data in proptest::option::of(".{0,40}"),
        ) {
            let frame = json!({"type": kind, "group": group, "event": event, "dataType": data_type,
                               "ackId": ack, "data": data});
            let _ = decode(&frame.to_string());
        }
    }
}
