//! `POST|OPTIONS /api/eventHandler`: the Web PubSub webhook. It answers abuse protection only for
//! allowed origins, refuses requests whose `ce-signature` matches none of our keys (401, nothing
//! changes), then refuses (401) an event that is not from its connection's recorded user or whose
//! connection is not open (`origin`: replayed requests), then hands the event to `chat_service`.
//! Client events always get a 200 with a [`Reply`] (Web PubSub drops a connection whose event got
//! a non-2xx answer); `connect` without a verified user gets 401.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chatr_protocol::client_event::ClientRequest;
use chatr_protocol::{ErrorCode, Reply, ServerEvent};

use super::origin::{self, Forged};
use super::parse::{ConnectRequest, ConnectResponse, EventHeaders, EventKind};
use super::verify;
use crate::AppState;
use crate::chat_service::{self, Done};

/// The subprotocol Chatr's clients speak, preferred when offered.
const RELIABLE: &str = "json.reliable.webpubsub.azure.v1";
const JSON: &str = "json.webpubsub.azure.v1";

/// Every request to the event handler.
#[utoipa::path(post, path = "/api/eventHandler", tag = "web pubsub",
    description = "Web PubSub's CloudEvents webhook (HTTP binary mode): system events `connect`, \
`connected`, `disconnected` and user events. Trusted only when `ce-signature` verifies with an \
access key or the bearer token is the service's managed identity. `OPTIONS` answers abuse protection.",
    request_body(content = String, content_type = "application/json"),
    responses(
        (status = 200, description = "connect: the connection's user and subprotocol; user events: the reply to the sender"),
        (status = 204, description = "Handled, nothing to say"),
        (status = 400, description = "Not a well-formed event"),
        (status = 401, description = "Not from our Web PubSub service"),
    ))]
pub(crate) async fn event_handler(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shared = state.shared();
    if method == Method::OPTIONS || method == Method::GET {
        let origin = headers
            .get("webhook-request-origin")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return match verify::allowed_origin(origin, &shared.allowed_origins) {
            Some(allowed) => match HeaderValue::from_str(&allowed) {
                Ok(value) => (StatusCode::OK, [("webhook-allowed-origin", value)]).into_response(),
                Err(_) => StatusCode::BAD_REQUEST.into_response(),
            },
            None => StatusCode::UNAUTHORIZED.into_response(),
        };
    }
    let event = match EventHeaders::parse(&headers) {
        Ok(event) => event,
        Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()).into_response(),
    };
    let signed = event
        .signature
        .as_deref()
        .is_some_and(|s| verify::signature_is_valid(s, &event.connection_id, &shared.event_keys));
    if !signed && !bearer_is_valid(shared, &headers).await {
        tracing::warn!(conn_id = %event.connection_id, "event with a missing or forged signature refused");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match event.kind {
        EventKind::Connect => {
            if let Err(forged) = origin::connect(shared, &event.connection_id).await {
                return refused(&event, forged);
            }
            connect(&state, &event, &body).await
        }
        EventKind::Connected => {
            let Some(user) = event.user_id.clone() else {
                return StatusCode::NO_CONTENT.into_response();
            };
            if let Err(forged) = origin::connected(shared, &user, &event.connection_id).await {
                return refused(&event, forged);
            }
            match chat_service::on_connected(shared, &user, &event.connection_id).await {
                Ok(()) => {}
                Err(refusal) if refusal.is_forbidden() => {
                    // Recorded for another user between the check and the write.
                    return refused(&event, Forged::OtherUser);
                }
                Err(_) => tracing::warn!(user_id = %user, "could not admit a new connection"),
            }
            StatusCode::NO_CONTENT.into_response()
        }
        EventKind::Disconnected => {
            if let Some(user) = event.user_id.clone() {
                match origin::disconnected(shared, &user, &event.connection_id).await {
                    Ok(true) => {}
                    Ok(false) => return StatusCode::NO_CONTENT.into_response(),
                    Err(forged) => return refused(&event, forged),
                }
                // Presence waits out a grace period; answer the service at once.
                let state = state.clone();
                tokio::spawn(async move {
                    if chat_service::on_disconnected(state.shared(), &user, &event.connection_id)
                        .await
                        .is_err()
                    {
                        tracing::warn!(user_id = %user, "could not record a disconnect");
                    }
                });
            }
            StatusCode::NO_CONTENT.into_response()
        }
        EventKind::User => {
            if let Some(user) = &event.user_id
                && let Err(forged) = origin::user_event(shared, user, &event.connection_id).await
            {
                return refused(&event, forged);
            }
            user_event(&state, &event, &body).await
        }
    }
}

/// A signed event that is not what it claims (a replay): 401, and nothing changed.
fn refused(event: &EventHeaders, why: Forged) -> Response {
    tracing::warn!(conn_id = %event.connection_id, reason = %why, "event refused");
    (StatusCode::UNAUTHORIZED, why.to_string()).into_response()
}

/// Whether the request carries a valid token from the service's managed identity (event handlers
/// with `auth: ManagedIdentity`), checked against the configured issuer and audience.
async fn bearer_is_valid(shared: &crate::state::Shared, headers: &HeaderMap) -> bool {
    let Some(issuer) = &shared.event_issuer else {
        return false;
    };
    let Some(token) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    match issuer.verify(token).await {
        // The verified id is `<provider>:<oid>`: the identity the token was issued to.
        Ok(caller) => match &shared.event_caller {
            Some(expected) if caller.id.split_once(':').map(|(_, oid)| oid) != Some(expected) => {
                tracing::warn!(caller = %caller.id, "event token issued to another identity");
                false
            }
            _ => true,
        },
        Err(err) => {
            tracing::warn!(cause = %err, "event with an invalid bearer token");
            false
        }
    }
}

async fn connect(state: &AppState, event: &EventHeaders, body: &[u8]) -> Response {
    let Some(user) = event.user_id.as_deref() else {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    let request = match ConnectRequest::parse(body) {
        Ok(request) => request,
        Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()).into_response(),
    };
    let claim = |name: &str| {
        request
            .claims
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    };
    if chat_service::on_connect(state.shared(), user, claim("name"), claim("provider"))
        .await
        .is_err()
    {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let subprotocol = [RELIABLE, JSON]
        .into_iter()
        .find(|p| request.offers(p))
        .map(str::to_owned);
    let answer = ConnectResponse {
        user_id: Some(user.to_owned()),
        subprotocol,
        ..ConnectResponse::default()
    };
    (StatusCode::OK, axum::Json(answer)).into_response()
}

async fn user_event(state: &AppState, event: &EventHeaders, body: &[u8]) -> Response {
    let reply = match (
        event.user_id.as_deref(),
        ClientRequest::parse(&event.event_name, body),
    ) {
        (None, _) => Reply::Error {
            request_id: None,
            code: ErrorCode::Forbidden,
            message: "sign in first".into(),
        },
        (_, Err(err)) => Reply::Error {
            // Answer under the request's id even when the rest of it is unusable.
            request_id: serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("requestId")?.as_str().map(str::to_owned))
                .filter(|id| id.len() <= chatr_protocol::client_event::MAX_REQUEST_ID_LEN),
            code: ErrorCode::BadRequest,
            message: err.to_string(),
        },
        (Some(user), Ok(request)) => {
            match chat_service::on_event(state.shared(), user, &event.connection_id, request.event)
                .await
            {
                Ok(Done { chat, message }) => Reply::Ok {
                    request_id: request.request_id,
                    chat,
                    message,
                },
                Err(refusal) => refusal.into_reply(request.request_id),
            }
        }
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        axum::Json(ServerEvent::Reply(reply)),
    )
        .into_response()
}
