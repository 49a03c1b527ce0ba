//! The client endpoint: `GET /client/hubs/{hub}` (or `/client/?hub=`), the WebSocket handshake.
//! Before upgrading: authenticate the token (401 if bad), ask the upstream `connect` handler
//! (its 4xx/5xx rejects the handshake with that status), pick the subprotocol. A request carrying
//! `awps_connection_id` and `awps_reconnection_token` resumes a reliable connection instead.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::Shared;
use crate::auth;
use crate::connection::{self, MAX_MESSAGE_BYTES, Start};
use crate::engine::{Conn, Hub, Protocol};
use crate::frame::{JSON_SUBPROTOCOL, RELIABLE_SUBPROTOCOL};

/// `GET /client/hubs/{hub}`.
pub(crate) async fn client_hub(
    State(shared): State<Arc<Shared>>,
    Path(hub): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    accept(shared, hub, query.unwrap_or_default(), headers, ws).await
}

/// `GET /client/?hub={hub}`.
pub(crate) async fn client_query(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let query = query.unwrap_or_default();
    let Some(hub) = first(&parse_query(&query), "hub") else {
        return (
            StatusCode::BAD_REQUEST,
            "the hub query parameter is missing",
        )
            .into_response();
    };
    accept(shared, hub, query, headers, ws).await
}

fn parse_query(query: &str) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        map.entry(key.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    map
}

fn first(map: &BTreeMap<String, Vec<String>>, key: &str) -> Option<String> {
    map.get(key).and_then(|v| v.first()).cloned()
}

fn valid_hub(hub: &str) -> bool {
    let mut chars = hub.chars();
    hub.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_`,.[]".contains(c))
}

/// Per-connection WebSocket read buffer.
const READ_BUFFER_BYTES: usize = 4 * 1024;

async fn accept(
    shared: Arc<Shared>,
    hub_name: String,
    query: String,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !valid_hub(&hub_name) {
        return (StatusCode::BAD_REQUEST, "invalid hub name").into_response();
    }
    let params = parse_query(&query);
    let ws = ws
        .max_message_size(2 * MAX_MESSAGE_BYTES)
        .max_frame_size(2 * MAX_MESSAGE_BYTES)
        // tungstenite reads through a buffer of this size per connection (128 KiB by default,
        // filled before each read): small keeps idle connections cheap; larger frames still
        // arrive whole, in more reads.
        .read_buffer_size(READ_BUFFER_BYTES);
    let offered: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();

    if let (Some(id), Some(token)) = (
        first(&params, "awps_connection_id"),
        first(&params, "awps_reconnection_token"),
    ) {
        return resume(shared, &hub_name, &id, &token, &offered, ws);
    }

    if shared.engine.connection_count() >= shared.engine.config.max_connections {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    }
    let token = first(&params, "access_token")
        .or_else(|| {
            auth::bearer(
                headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok()),
            )
            .map(str::to_owned)
        })
        .unwrap_or_default();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let keys = &shared.engine.config.access_keys;
    let identity = auth::verify_client_token(
        &token,
        keys,
        &format!("http://{host}/client/hubs/{hub_name}"),
    )
    .or_else(|_| {
        auth::verify_client_token(
            &token,
            keys,
            &format!("https://{host}/client/hubs/{hub_name}"),
        )
    })
    // Like Azure, also accept the audience of the server's own endpoint, so clients may reach it
    // through a proxy or another host name.
    .or_else(|_| auth::verify_client_token(&token, keys, &shared.client_audience(&hub_name)));
    let identity = match identity {
        Ok(identity) => identity,
        Err(err) => {
            tracing::debug!(cause = %err, "client token refused");
            return (StatusCode::UNAUTHORIZED, "invalid or missing access token").into_response();
        }
    };

    let supported: Vec<&String> = offered
        .iter()
        .filter(|p| *p == JSON_SUBPROTOCOL || *p == RELIABLE_SUBPROTOCOL)
        .collect();
    let mut user_id = identity.user_id.clone();
    let mut roles = identity.roles.clone();
    let mut groups = identity.groups.clone();
    let mut chosen = supported.first().map(|p| p.to_string());
    let mut state = None;

    let hub = shared.engine.hub(&hub_name);
    // Checked before the upstream hears of it, and again for the user it settles on.
    if let Some(refusal) = over_user_cap(&shared, &hub, user_id.as_deref()) {
        return refusal;
    }
    let provisional = Conn::new(&hub_name, user_id.clone(), Protocol::Raw, &[], None);
    if let Some(handler) = shared.engine.config.handler(&hub_name, "connect", true) {
        let mut claims = serde_json::Map::new();
        for (name, value) in &identity.claims {
            let values = match value {
                Value::Array(items) => items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect(),
                Value::String(s) => vec![s.clone()],
                other => vec![other.to_string()],
            };
            claims.insert(name.clone(), json!(values));
        }
        let mut query_map = params.clone();
        query_map.remove("access_token");
        let mut header_map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in &headers {
            if name != header::AUTHORIZATION
                && let Ok(v) = value.to_str()
            {
                header_map
                    .entry(name.as_str().to_owned())
                    .or_default()
                    .push(v.to_owned());
            }
        }
        let body = json!({ "claims": claims, "query": query_map, "headers": header_map, "subprotocols": offered });
        let origin = crate::upstream::Origin {
            hub: &hub_name,
            connection_id: &provisional.id,
            user_id: user_id.as_deref(),
            subprotocol: None,
            state: None,
        };
        match shared.upstream.connect(handler, &origin, &body).await {
            Ok(answer) => {
                if let Some(id) = answer.user_id {
                    user_id = Some(id).filter(|id| !id.is_empty());
                }
                if let Some(r) = answer.roles {
                    roles = r;
                }
                if let Some(g) = answer.groups.filter(|g| !g.is_empty()) {
                    groups = g;
                }
                if let Some(p) = answer.subprotocol.filter(|p| offered.contains(p)) {
                    chosen = Some(p);
                }
                state = answer.state;
            }
            Err(crate::upstream::Error::Status(status)) if status.is_client_error() => {
                return (
                    StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::UNAUTHORIZED),
                    "rejected by the event handler",
                )
                    .into_response();
            }
            Err(err) => {
                tracing::warn!(cause = %err, "connect handler failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the event handler failed",
                )
                    .into_response();
            }
        }
    }

    if let Some(refusal) = over_user_cap(&shared, &hub, user_id.as_deref()) {
        return refusal;
    }
    let protocol = match chosen.as_deref() {
        Some(RELIABLE_SUBPROTOCOL) => Protocol::Reliable,
        Some(JSON_SUBPROTOCOL) => Protocol::Json,
        _ => Protocol::Raw,
    };
    let mut conn = Conn::new(&hub_name, user_id, protocol, &roles, state);
    conn.id = provisional.id;
    let conn = Arc::new(conn);
    let ws = match protocol.name() {
        Some(name) => ws.protocols([name]),
        None => ws,
    };
    ws.on_upgrade(move |socket| connection::run(shared, hub, conn, socket, Start::New { groups }))
}

/// 429 when `user` already has as many connections in `hub` as one user may.
///
/// A soft cap: handshakes of one user that run at the same moment may each pass it.
fn over_user_cap(shared: &Shared, hub: &Hub, user: Option<&str>) -> Option<Response> {
    let limit = shared.engine.config.max_connections_per_user;
    let user = user?;
    (hub.user_connection_count(user) >= limit).then(|| {
        tracing::debug!(user, limit, "connection refused: per-user cap");
        (
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many connections for this user (at most {limit}); close one first"),
        )
            .into_response()
    })
}

fn resume(
    shared: Arc<Shared>,
    hub_name: &str,
    id: &str,
    token: &str,
    offered: &[String],
    ws: WebSocketUpgrade,
) -> Response {
    let hub = shared.engine.hub(hub_name);
    let conn = hub.connection(id).filter(|c| {
        c.protocol == Protocol::Reliable && c.reconnection_token == token && !c.gone.is_cancelled()
    });
    let ws = if offered.iter().any(|p| p == RELIABLE_SUBPROTOCOL) {
        ws.protocols([RELIABLE_SUBPROTOCOL])
    } else {
        ws
    };
    match conn {
        Some(conn) => {
            ws.on_upgrade(move |socket| connection::run(shared, hub, conn, socket, Start::Resumed))
        }
        // Upgrade, then close with 1008: the client must start a new connection.
        None => ws.on_upgrade(|mut socket| async move {
            let _ = socket
                .send(Message::Close(Some(CloseFrame {
                    code: 1008,
                    reason: "the connection cannot be recovered".into(),
                })))
                .await;
        }),
    }
}
