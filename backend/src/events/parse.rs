//! Reading a Web PubSub CloudEvents request (binary content mode) into typed values. Pure: takes
//! headers and body bytes, returns values or a [`ParseError`]; never trusts anything it has not
//! checked, and never decides what the event means for chats (that is `chat`'s job).

use std::collections::HashMap;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

/// The longest header value we keep (ids, names, state): bounds what a hostile request can make us hold.
const MAX_HEADER_LEN: usize = 4096;

/// Why a webhook request is not a Web PubSub event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A required CloudEvents header is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header is present but unusable (not UTF-8, too long, unknown type).
    #[error("invalid header {0}")]
    InvalidHeader(&'static str),
    /// The body does not have the shape this event needs.
    #[error("invalid body: {0}")]
    InvalidBody(String),
}

/// What kind of event, from `ce-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `azure.webpubsub.sys.connect`: blocking; the answer admits or rejects the connection.
    Connect,
    /// `azure.webpubsub.sys.connected`: the connection is open.
    Connected,
    /// `azure.webpubsub.sys.disconnected`: the connection closed.
    Disconnected,
    /// `azure.webpubsub.user.<name>`: a client event, named by `ce-eventName`.
    User,
}

/// The CloudEvents headers of one request: who, where, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHeaders {
    /// The event's kind.
    pub kind: EventKind,
    /// `ce-eventName` (`connect`, `connected`, `disconnected` or the client's event name).
    pub event_name: String,
    /// `ce-hub`.
    pub hub: String,
    /// `ce-connectionId`.
    pub connection_id: String,
    /// `ce-userId`: the user the service authenticated, if any. The only source of identity.
    pub user_id: Option<String>,
    /// `ce-signature`, checked separately by `verify`.
    pub signature: Option<String>,
    /// `ce-connectionState`, set earlier by us.
    pub connection_state: Option<String>,
}

/// The body of a `connect` event. Every map is name → list of values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConnectRequest {
    /// The access token's claims.
    pub claims: HashMap<String, Vec<String>>,
    /// The connect URL's query parameters.
    pub query: HashMap<String, Vec<String>>,
    /// The handshake's headers.
    pub headers: HashMap<String, Vec<String>>,
    /// The subprotocols the client offered.
    pub subprotocols: Vec<String>,
}

/// Our answer to a `connect` event (HTTP 200, JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectResponse {
    /// The user id the connection gets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Groups to join at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Roles to grant (replacing the token's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The subprotocol to select among those offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subprotocol: Option<String>,
}

/// The body of a `disconnected` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DisconnectedRequest {
    /// Why the connection closed, as the service says it.
    pub reason: Option<String>,
}

impl EventHeaders {
    /// Reads and checks the CloudEvents headers.
    pub fn parse(headers: &HeaderMap) -> Result<Self, ParseError> {
        let ce_type = required(headers, "ce-type")?;
        let kind = match ce_type.as_str() {
            "azure.webpubsub.sys.connect" => EventKind::Connect,
            "azure.webpubsub.sys.connected" => EventKind::Connected,
            "azure.webpubsub.sys.disconnected" => EventKind::Disconnected,
            t if t.starts_with("azure.webpubsub.user.") => EventKind::User,
            _ => return Err(ParseError::InvalidHeader("ce-type")),
        };
        Ok(Self {
            kind,
            event_name: required(headers, "ce-eventname")?,
            hub: required(headers, "ce-hub")?,
            connection_id: required(headers, "ce-connectionid")?,
            user_id: optional(headers, "ce-userid")?.filter(|id| !id.is_empty()),
            signature: optional(headers, "ce-signature")?,
            connection_state: optional(headers, "ce-connectionstate")?,
        })
    }
}

impl ConnectRequest {
    /// Parses a `connect` body.
    pub fn parse(body: &[u8]) -> Result<Self, ParseError> {
        serde_json::from_slice(body).map_err(|err| ParseError::InvalidBody(err.to_string()))
    }

    /// The subprotocols offered, in the client's order.
    pub fn offers(&self, subprotocol: &str) -> bool {
        self.subprotocols.iter().any(|p| p == subprotocol)
    }
}

impl DisconnectedRequest {
    /// Parses a `disconnected` body; an empty body is a disconnect without a reason.
    pub fn parse(body: &[u8]) -> Result<Self, ParseError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        serde_json::from_slice(body).map_err(|err| ParseError::InvalidBody(err.to_string()))
    }
}

fn optional(headers: &HeaderMap, name: &'static str) -> Result<Option<String>, ParseError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    if value.len() > MAX_HEADER_LEN {
        return Err(ParseError::InvalidHeader(name));
    }
    value
        .to_str()
        .map(|v| Some(v.to_owned()))
        .map_err(|_| ParseError::InvalidHeader(name))
}

fn required(headers: &HeaderMap, name: &'static str) -> Result<String, ParseError> {
    optional(headers, name)?
        .filter(|v| !v.is_empty())
        .ok_or(ParseError::MissingHeader(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn user_event() -> HeaderMap {
        headers(&[
            ("ce-specversion", "1.0"),
            ("ce-type", "azure.webpubsub.user.sendMessage"),
            ("ce-eventName", "sendMessage"),
            ("ce-hub", "chat"),
            ("ce-connectionId", "c1"),
            ("ce-userId", "github:1"),
            ("ce-signature", "sha256=00"),
        ])
    }

    #[test]
    fn user_event_headers_are_read_case_insensitively() {
        let parsed = EventHeaders::parse(&user_event()).unwrap();
        assert_eq!(parsed.kind, EventKind::User);
        assert_eq!(parsed.event_name, "sendMessage");
        assert_eq!(parsed.hub, "chat");
        assert_eq!(parsed.connection_id, "c1");
        assert_eq!(parsed.user_id.as_deref(), Some("github:1"));
        assert_eq!(parsed.signature.as_deref(), Some("sha256=00"));
        assert_eq!(parsed.connection_state, None);
    }

    #[test]
    fn system_event_types_are_recognised() {
        for (ce_type, kind) in [
            ("azure.webpubsub.sys.connect", EventKind::Connect),
            ("azure.webpubsub.sys.connected", EventKind::Connected),
            ("azure.webpubsub.sys.disconnected", EventKind::Disconnected),
        ] {
            let mut h = user_event();
            h.insert("ce-type", HeaderValue::from_static(ce_type));
            assert_eq!(EventHeaders::parse(&h).unwrap().kind, kind);
        }
    }

    #[test]
    fn missing_or_foreign_headers_are_errors() {
        let mut h = user_event();
        h.remove("ce-connectionid");
        assert_eq!(
            EventHeaders::parse(&h),
            Err(ParseError::MissingHeader("ce-connectionid"))
        );
        let mut h = user_event();
        h.insert("ce-type", HeaderValue::from_static("com.example.other"));
        assert_eq!(
            EventHeaders::parse(&h),
            Err(ParseError::InvalidHeader("ce-type"))
        );
        let mut h = user_event();
        h.insert("ce-hub", HeaderValue::from_str(&"h".repeat(5000)).unwrap());
        assert_eq!(
            EventHeaders::parse(&h),
            Err(ParseError::InvalidHeader("ce-hub"))
        );
    }

    #[test]
    fn an_empty_user_id_means_no_user() {
        let mut h = user_event();
        h.insert("ce-userid", HeaderValue::from_static(""));
        assert_eq!(EventHeaders::parse(&h).unwrap().user_id, None);
    }

    #[test]
    fn connect_body_has_array_valued_maps() {
        let body = br#"{"claims":{"sub":["github:1"],"role":[]},"query":{},"headers":{},
            "subprotocols":["json.reliable.webpubsub.azure.v1","json.webpubsub.azure.v1"]}"#;
        let parsed = ConnectRequest::parse(body).unwrap();
        assert_eq!(parsed.claims["sub"], ["github:1"]);
        assert!(parsed.offers("json.webpubsub.azure.v1"));
        assert!(!parsed.offers("protobuf.webpubsub.azure.v1"));
        assert!(ConnectRequest::parse(b"{\"claims\":{\"sub\":\"not-an-array\"}}").is_err());
    }

    #[test]
    fn connect_response_leaves_out_what_is_unset() {
        let response = ConnectResponse {
            user_id: Some("github:1".into()),
            subprotocol: Some("json.reliable.webpubsub.azure.v1".into()),
            ..ConnectResponse::default()
        };
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            serde_json::json!({"userId": "github:1", "subprotocol": "json.reliable.webpubsub.azure.v1"})
        );
    }

    #[test]
    fn disconnected_body_may_be_empty() {
        assert_eq!(
            DisconnectedRequest::parse(b"").unwrap(),
            DisconnectedRequest::default()
        );
        assert_eq!(
            DisconnectedRequest::parse(br#"{"reason":"closed by client"}"#)
                .unwrap()
                .reason
                .as_deref(),
            Some("closed by client")
        );
    }
}
