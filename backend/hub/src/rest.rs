//! The data-plane REST API under `/api/hubs/{hub}/…`, as Azure Web PubSub serves it (api-versions
//! 2021-10-01 to 2024-12-01). Requests are authorised by a JWT whose audience is the request URL.
//! Routing is by hand over the path segments because several operations are spelled `:verb`,
//! which axum's router reserves.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{EncodingKey, Header};
use serde::Deserialize;
use serde_json::json;

use crate::Shared;
use crate::auth;
use crate::engine::{Delivery, Hub};
use crate::frame::{self, Payload};
use crate::odata::Filter;
use crate::roles::Action;

/// The API versions we answer.
pub const API_VERSIONS: [&str; 5] = [
    "2021-10-01",
    "2022-11-01",
    "2023-07-01",
    "2024-01-01",
    "2024-12-01",
];

type Query = BTreeMap<String, Vec<String>>;

/// An error answer: status, `x-ms-error-code`, and a JSON `{code, message}` body.
#[derive(Debug)]
struct RestError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        (
            self.status,
            [("x-ms-error-code", self.code)],
            Json(json!({ "code": self.code, "message": self.message })),
        )
            .into_response()
    }
}

fn error(status: StatusCode, code: &'static str, message: &str) -> RestError {
    RestError {
        status,
        code,
        message: message.to_owned(),
    }
}

fn ok(status: StatusCode) -> Response {
    status.into_response()
}

/// Every `/api/hubs/…` request.
pub(crate) async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let url = format!("http://{host}{uri}");
    let token = auth::bearer(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    )
    .unwrap_or("");
    let keys = &shared.engine.config.access_keys;
    let https_url = format!("https://{host}{uri}");
    if auth::verify_rest_token(token, keys, &url).is_err()
        && auth::verify_rest_token(token, keys, &https_url).is_err()
    {
        return error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "invalid or missing access token",
        )
        .into_response();
    }
    let mut query: Query = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        query
            .entry(key.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    match query.get("api-version").and_then(|v| v.first()) {
        Some(v) if API_VERSIONS.contains(&v.as_str()) => {}
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidApiVersion",
                "a supported api-version is required",
            )
            .into_response();
        }
    }
    // Percent-decoded path segments after /api/hubs/.
    let segments: Vec<String> = uri
        .path()
        .trim_start_matches("/api/hubs/")
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let Some((hub_name, rest)) = segments.split_first() else {
        return error(StatusCode::NOT_FOUND, "NotFound", "no such operation").into_response();
    };
    let hub = shared.engine.hub(hub_name);
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let ctx = Ctx {
        shared: &shared,
        hub: &hub,
        hub_name,
        query: &query,
    };
    route(&ctx, &method, &rest, content_type, &body).unwrap_or_else(IntoResponse::into_response)
}

struct Ctx<'a> {
    shared: &'a Arc<Shared>,
    hub: &'a Hub,
    hub_name: &'a str,
    query: &'a Query,
}

impl Ctx<'_> {
    fn all(&self, key: &str) -> Vec<String> {
        self.query.get(key).cloned().unwrap_or_default()
    }
    fn one(&self, key: &str) -> Option<&str> {
        self.query
            .get(key)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
    fn filter(&self) -> Result<Option<Filter>, RestError> {
        match self.one("filter") {
            None | Some("") => Ok(None),
            Some(text) => Filter::parse(text)
                .map(Some)
                .map_err(|e| error(StatusCode::BAD_REQUEST, "InvalidFilter", &e.to_string())),
        }
    }
    fn reason(&self) -> String {
        self.one("reason")
            .unwrap_or("closed by the service")
            .to_owned()
    }
}

fn payload(content_type: Option<&str>, body: &[u8]) -> Result<Payload, RestError> {
    Payload::from_http(content_type, body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, "InvalidBody", &e))
}

fn exists(found: bool) -> Response {
    ok(if found {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    })
}

#[derive(Deserialize)]
struct GroupsBody {
    groups: Vec<String>,
    filter: Option<String>,
}

fn route(
    ctx: &Ctx<'_>,
    method: &Method,
    rest: &[&str],
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, RestError> {
    let hub = ctx.hub;
    let excluded = ctx.all("excluded");
    match (method, rest) {
        (&Method::POST, [":send"]) => {
            let filter = ctx.filter()?;
            let delivery = Delivery::server(&payload(content_type, body)?);
            let targets: Vec<_> = hub
                .all()
                .into_iter()
                .filter(|c| filter.as_ref().is_none_or(|f| f.matches(c)))
                .collect();
            hub.fan_out(&targets, &delivery, &excluded);
            Ok(ok(StatusCode::ACCEPTED))
        }
        (&Method::POST, ["groups", group, ":send"]) => {
            let filter = ctx.filter()?;
            let delivery = Delivery::group(group, None, &payload(content_type, body)?);
            let targets: Vec<_> = hub
                .group_connections(group)
                .into_iter()
                .filter(|c| filter.as_ref().is_none_or(|f| f.matches(c)))
                .collect();
            hub.fan_out(&targets, &delivery, &excluded);
            Ok(ok(StatusCode::ACCEPTED))
        }
        (&Method::POST, ["users", user, ":send"]) => {
            let filter = ctx.filter()?;
            let delivery = Delivery::server(&payload(content_type, body)?);
            let targets: Vec<_> = hub
                .user_connections(user)
                .into_iter()
                .filter(|c| filter.as_ref().is_none_or(|f| f.matches(c)))
                .collect();
            hub.fan_out(&targets, &delivery, &[]);
            Ok(ok(StatusCode::ACCEPTED))
        }
        (&Method::POST, ["connections", id, ":send"]) => {
            let delivery = Delivery::server(&payload(content_type, body)?);
            if let Some(conn) = hub.connection(id) {
                conn.deliver(&delivery);
            }
            Ok(ok(StatusCode::ACCEPTED))
        }
        (&Method::HEAD, ["connections", id]) => Ok(exists(hub.connection(id).is_some())),
        (&Method::DELETE, ["connections", id]) => {
            if let Some(conn) = hub.connection(id) {
                close(&conn, &ctx.reason());
            }
            Ok(ok(StatusCode::NO_CONTENT))
        }
        (&Method::POST, [":closeConnections"]) => {
            close_all(hub.all(), &excluded, &ctx.reason());
            Ok(ok(StatusCode::NO_CONTENT))
        }
        (&Method::POST, ["groups", group, ":closeConnections"]) => {
            close_all(hub.group_connections(group), &excluded, &ctx.reason());
            Ok(ok(StatusCode::NO_CONTENT))
        }
        (&Method::POST, ["users", user, ":closeConnections"]) => {
            close_all(hub.user_connections(user), &excluded, &ctx.reason());
            Ok(ok(StatusCode::NO_CONTENT))
        }
        (&Method::HEAD, ["groups", group]) => Ok(exists(hub.group_exists(group))),
        (&Method::HEAD, ["users", user]) => Ok(exists(hub.user_exists(user))),
        (&Method::PUT, ["groups", group, "connections", id]) => match hub.connection(id) {
            Some(conn) => {
                hub.join(group, &conn);
                Ok(ok(StatusCode::OK))
            }
            None => Err(error(
                StatusCode::NOT_FOUND,
                "NotFound",
                "no such connection",
            )),
        },
        (&Method::DELETE, ["groups", group, "connections", id]) => {
            if let Some(conn) = hub.connection(id) {
                hub.leave(group, &conn);
            }
            Ok(ok(StatusCode::NO_CONTENT))
        }
        (&Method::DELETE, ["connections", id, "groups"]) => {
            if let Some(conn) = hub.connection(id) {
                for group in conn.groups() {
                    hub.leave(&group, &conn);
                }
            }
            Ok(ok(StatusCode::NO_CONTENT))
        }
        (&Method::PUT, ["users", user, "groups", group]) => {
            let connections = hub.user_connections(user);
            if connections.is_empty() {
                return Err(error(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    "the user has no connection",
                ));
            }
            for conn in connections {
                hub.join(group, &conn);
            }
            Ok(ok(StatusCode::OK))
        }
        (&Method::DELETE, ["users", user, "groups", group]) => {
            for conn in hub.user_connections(user) {
                hub.leave(group, &conn);
            }
            Ok(ok(StatusCode::NO_CONTENT))
        }
        (&Method::DELETE, ["users", user, "groups"]) => {
            for conn in hub.user_connections(user) {
                for group in conn.groups() {
                    hub.leave(&group, &conn);
                }
            }
            Ok(ok(StatusCode::NO_CONTENT))
        }
        (&Method::POST, [op @ (":addToGroups" | ":removeFromGroups")]) => {
            let request: GroupsBody = serde_json::from_slice(body)
                .map_err(|e| error(StatusCode::BAD_REQUEST, "InvalidBody", &e.to_string()))?;
            let filter = match request.filter.as_deref() {
                Some(text) if !text.is_empty() => Some(Filter::parse(text).map_err(|e| {
                    error(StatusCode::BAD_REQUEST, "InvalidFilter", &e.to_string())
                })?),
                _ => None,
            };
            for conn in hub.all() {
                if filter.as_ref().is_none_or(|f| f.matches(&conn)) {
                    for group in &request.groups {
                        if *op == ":addToGroups" {
                            hub.join(group, &conn);
                        } else {
                            hub.leave(group, &conn);
                        }
                    }
                }
            }
            Ok(ok(StatusCode::OK))
        }
        (&Method::GET, ["groups", group, "connections"]) => {
            let value: Vec<_> = hub
                .group_connections(group)
                .iter()
                .map(|c| json!({ "connectionId": c.id, "userId": c.user_id }))
                .collect();
            Ok(Json(json!({ "value": value })).into_response())
        }
        (_, ["permissions", permission, "connections", id]) => {
            let action = Action::parse(permission).ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    "InvalidPermission",
                    "unknown permission",
                )
            })?;
            let target = ctx.one("targetName").filter(|t| !t.is_empty());
            let conn = hub.connection(id);
            match *method {
                Method::PUT => match conn {
                    Some(conn) => {
                        conn.grant(action, target);
                        Ok(ok(StatusCode::OK))
                    }
                    None => Err(error(
                        StatusCode::NOT_FOUND,
                        "NotFound",
                        "no such connection",
                    )),
                },
                Method::DELETE => {
                    if let Some(conn) = conn {
                        conn.revoke(action, target);
                    }
                    Ok(ok(StatusCode::NO_CONTENT))
                }
                Method::HEAD => Ok(exists(
                    conn.is_some_and(|c| c.has_permission(action, target)),
                )),
                _ => Err(error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    "use PUT, DELETE or HEAD",
                )),
            }
        }
        (&Method::POST, [":generateToken"]) => {
            let minutes: u64 = match ctx.one("minutesToExpire") {
                None => 60,
                Some(m) => m.parse().ok().filter(|m| *m >= 1).ok_or_else(|| {
                    error(
                        StatusCode::BAD_REQUEST,
                        "InvalidArgument",
                        "minutesToExpire must be a positive integer",
                    )
                })?,
            };
            let token = generate_token(ctx, minutes).map_err(|e| {
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    &e.to_string(),
                )
            })?;
            Ok(Json(json!({ "token": token })).into_response())
        }
        _ => Err(error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "no such operation",
        )),
    }
}

fn close(conn: &crate::engine::Conn, reason: &str) {
    conn.send_control(frame::disconnected(reason));
    conn.kick(1000, reason);
    conn.gone.cancel();
}

fn close_all(connections: Vec<Arc<crate::engine::Conn>>, excluded: &[String], reason: &str) {
    for conn in connections {
        if !excluded.contains(&conn.id) {
            close(&conn, reason);
        }
    }
}

fn generate_token(ctx: &Ctx<'_>, minutes: u64) -> Result<String, jsonwebtoken::errors::Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    // The audience is the client endpoint of this server as the caller reached it.
    let mut claims = serde_json::Map::new();
    claims.insert(
        "aud".into(),
        json!(ctx.shared.client_audience(ctx.hub_name)),
    );
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + minutes * 60));
    if let Some(user) = ctx.one("userId") {
        claims.insert("sub".into(), json!(user));
    }
    let roles = ctx.all("role");
    if !roles.is_empty() {
        claims.insert("role".into(), json!(roles));
    }
    let groups = ctx.all("group");
    if !groups.is_empty() {
        claims.insert("webpubsub.group".into(), json!(groups));
    }
    let key = ctx
        .shared
        .engine
        .config
        .access_keys
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
}
