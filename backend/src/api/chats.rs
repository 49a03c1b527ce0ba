//! The caller's view of users, chats, members and history:
//! `GET /api/me`, `/api/users`, `/api/chats`, `/api/chats/{id}/members`, `/api/chats/{id}/messages`.
//! A user reads only what they may see: history and private chats only as a member.

use axum::Json;
use axum::extract::{Path, State};
use chatr_protocol::{Chat, ChatKind, ChatView, Message, User};
use serde::Deserialize;

use super::extract::QueryParams;
use super::session::Session;
use crate::AppState;
use crate::chat_service::user_view;
use crate::error::ApiError;
use crate::store::{self, Page};

/// Default page size of history.
const DEFAULT_LIMIT: usize = 50;

/// `GET /api/me`
#[utoipa::path(get, path = "/api/me", tag = "chat", security(("session" = [])),
    responses((status = 200, description = "The caller", body = User), (status = 401, description = "No valid session token", body = crate::error::ErrorBody)))]
pub(crate) async fn me(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<User>, ApiError> {
    Ok(Json(user_view(state.shared(), &session.user_id).await?))
}

/// `GET /api/users`: everyone, with presence.
#[utoipa::path(get, path = "/api/users", tag = "chat", security(("session" = [])),
    responses((status = 200, description = "Every user, with presence", body = Vec<User>), (status = 401, description = "No valid session token", body = crate::error::ErrorBody)))]
pub(crate) async fn users(
    State(state): State<AppState>,
    _session: Session,
) -> Result<Json<Vec<User>>, ApiError> {
    let shared = state.shared();
    let records = shared.store.users().await?;
    let mut users: Vec<User> = Vec::with_capacity(records.len());
    for record in records {
        users.push(user_view(shared, &record.id).await?);
    }
    Ok(Json(users))
}

/// `GET /api/chats`: every group chat, and the caller's private chats named after the other user.
#[utoipa::path(get, path = "/api/chats", tag = "chat", security(("session" = [])),
    responses((status = 200, description = "Group chats and the caller's private chats", body = Vec<ChatView>), (status = 401, description = "No valid session token", body = crate::error::ErrorBody)))]
pub(crate) async fn chats(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<ChatView>>, ApiError> {
    let shared = state.shared();
    let groups = shared.store.group_chats().await?;
    let mine = shared.store.chats_of(&session.user_id).await?;
    let member_of: std::collections::HashSet<&str> =
        mine.iter().map(|c| c.chat.id.as_str()).collect();
    let mut views: Vec<ChatView> = groups
        .iter()
        .map(|chat| ChatView {
            chat: chat.clone(),
            member: member_of.contains(chat.id.as_str()),
        })
        .collect();
    for record in &mine {
        if record.chat.kind != ChatKind::Private {
            continue;
        }
        let other = record
            .pair
            .as_ref()
            .map(|(a, b)| {
                if *a == session.user_id {
                    b.clone()
                } else {
                    a.clone()
                }
            })
            .unwrap_or_default();
        let name = match shared.store.user(&other).await? {
            Some(user) => user.name,
            None => other,
        };
        views.push(ChatView {
            chat: Chat {
                name,
                ..record.chat.clone()
            },
            member: true,
        });
    }
    Ok(Json(views))
}

/// Whether the caller may see the chat: members always; anyone, for group chats' member lists.
async fn visible(state: &AppState, chat: &str, user: &str, history: bool) -> Result<(), ApiError> {
    let shared = state.shared();
    let record = match shared.store.chat(chat).await {
        Ok(record) => record,
        // An id that cannot even be a key names no chat.
        Err(store::Error::Invalid(_)) => None,
        Err(err) => return Err(err.into()),
    };
    let record = record.ok_or(ApiError::NotFound("no such chat"))?;
    let member = shared.store.is_member(chat, user).await?;
    if member || (!history && record.chat.kind == ChatKind::Group) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("you are not a member of this chat"))
    }
}

/// `GET /api/chats/{id}/members`
#[utoipa::path(get, path = "/api/chats/{id}/members", tag = "chat", security(("session" = [])),
    params(("id" = String, Path, description = "The chat")),
    responses(
        (status = 200, description = "The chat's members, with presence", body = Vec<User>),
        (status = 401, description = "No valid session token", body = crate::error::ErrorBody),
        (status = 403, description = "A private chat of others", body = crate::error::ErrorBody),
        (status = 404, description = "No such chat", body = crate::error::ErrorBody),
    ))]
pub(crate) async fn members(
    State(state): State<AppState>,
    session: Session,
    Path(chat): Path<String>,
) -> Result<Json<Vec<User>>, ApiError> {
    visible(&state, &chat, &session.user_id, false).await?;
    let shared = state.shared();
    let ids = shared.store.members(&chat).await?;
    let mut users = Vec::with_capacity(ids.len());
    for id in ids {
        users.push(user_view(shared, &id).await?);
    }
    Ok(Json(users))
}

/// History paging: `before` (older than), `after` (newer than), `limit` (1–200, default 50).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// Messages with a sequence number below this one (older).
    before: Option<u64>,
    /// Messages with a sequence number above this one (newer).
    after: Option<u64>,
    /// How many, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
}

/// `GET /api/chats/{id}/messages?before=&after=&limit=`: oldest first.
#[utoipa::path(get, path = "/api/chats/{id}/messages", tag = "chat", security(("session" = [])),
    params(("id" = String, Path, description = "The chat"), HistoryQuery),
    responses(
        (status = 200, description = "A page of history, oldest first", body = Vec<Message>),
        (status = 400, description = "Bad paging parameters", body = crate::error::ErrorBody),
        (status = 401, description = "No valid session token", body = crate::error::ErrorBody),
        (status = 403, description = "Not a member of the chat", body = crate::error::ErrorBody),
        (status = 404, description = "No such chat", body = crate::error::ErrorBody),
    ))]
pub(crate) async fn messages(
    State(state): State<AppState>,
    session: Session,
    Path(chat): Path<String>,
    QueryParams(query): QueryParams<HistoryQuery>,
) -> Result<Json<Vec<Message>>, ApiError> {
    let page = match (query.before, query.after) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest("use before or after, not both".into()));
        }
        (Some(seq), None) => Page::Before(seq),
        (None, Some(seq)) => Page::After(seq),
        (None, None) => Page::Latest,
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > store::MAX_PAGE {
        return Err(ApiError::BadRequest("limit must be 1 to 200".into()));
    }
    visible(&state, &chat, &session.user_id, true).await?;
    Ok(Json(
        state.shared().store.messages(&chat, page, limit).await?,
    ))
}
