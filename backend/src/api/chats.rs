//! The caller's view of users, chats, members and history:
//! `GET /api/me`, `/api/users`, `/api/chats`, `/api/chats/{id}/members`, `/api/chats/{id}/messages`.
//! A user reads only what they may see: history and private chats only as a member.

use axum::Json;
use axum::extract::{Path, State};
use chatr_protocol::{Chat, ChatKind, ChatPage, ChatView, Message, User};
use serde::Deserialize;

use super::extract::QueryParams;
use super::session::Session;
use crate::AppState;
use crate::chat_service::user_view;
use crate::error::ApiError;
use crate::store::{self, ChatCursor, ChatRecord, Page};

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

/// Chat-list paging: `limit` (1–200, default 100) and `cursor` (the previous page's `next`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ChatListQuery {
    /// How many chats, 1 to 200 (default 100).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
    /// Where to go on from: the `next` of the previous page (opaque). Absent: the first page.
    cursor: Option<String>,
}

/// Default page size of the chat list.
const DEFAULT_CHAT_PAGE: usize = 100;
/// Largest page of the chat list.
const MAX_CHAT_PAGE: usize = 200;

/// `GET /api/chats?limit=&cursor=`: a page of every group chat and the caller's private chats
/// (named after the other user), in one order: creation time, then id.
#[utoipa::path(get, path = "/api/chats", tag = "chat", security(("session" = [])),
    params(ChatListQuery),
    responses(
        (status = 200, description = "A page of group chats and the caller's private chats, oldest first; `next` is the cursor of the following page, null on the last", body = ChatPage),
        (status = 400, description = "Bad limit or cursor", body = crate::error::ErrorBody),
        (status = 401, description = "No valid session token", body = crate::error::ErrorBody),
    ))]
pub(crate) async fn chats(
    State(state): State<AppState>,
    session: Session,
    QueryParams(query): QueryParams<ChatListQuery>,
) -> Result<Json<ChatPage>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_CHAT_PAGE);
    if limit == 0 || limit > MAX_CHAT_PAGE {
        return Err(ApiError::BadRequest(format!(
            "limit must be 1 to {MAX_CHAT_PAGE}"
        )));
    }
    let after = query.cursor.as_deref().map(cursor::decode).transpose()?;
    let shared = state.shared();
    // One more than the page, to know whether another follows.
    let groups = shared
        .store
        .group_chats_page(after.as_ref(), limit + 1)
        .await?;
    let mine = shared.store.chats_of(&session.user_id).await?;
    let member_of: std::collections::HashSet<&str> =
        mine.iter().map(|c| c.chat.id.as_str()).collect();
    let listed = groups.into_iter().map(Listed::Group).chain(
        mine.iter()
            .filter(|r| r.chat.kind == ChatKind::Private)
            .filter(|r| after.as_ref().is_none_or(|a| ChatCursor::of(&r.chat) > *a))
            .map(Listed::Private),
    );
    let (page, more) = first_in_order(listed, limit);
    let next = if more {
        page.last()
            .map(|item| cursor::encode(&ChatCursor::of(item.chat())))
    } else {
        None
    };
    let mut views = Vec::with_capacity(page.len());
    for item in page {
        views.push(match item {
            Listed::Group(chat) => ChatView {
                member: member_of.contains(chat.id.as_str()),
                chat,
            },
            Listed::Private(record) => private_view(shared, record, &session.user_id).await?,
        });
    }
    Ok(Json(ChatPage { chats: views, next }))
}

/// A chat on its way into a page: a group chat, or one of the caller's private chats.
enum Listed<'a> {
    Group(Chat),
    Private(&'a ChatRecord),
}

impl Listed<'_> {
    fn chat(&self) -> &Chat {
        match self {
            Self::Group(chat) => chat,
            Self::Private(record) => &record.chat,
        }
    }
}

/// The first `limit` of `items` in chat-list order, and whether any were left over.
fn first_in_order<'a>(
    items: impl Iterator<Item = Listed<'a>>,
    limit: usize,
) -> (Vec<Listed<'a>>, bool) {
    let mut all: Vec<Listed<'a>> = items.collect();
    all.sort_by_key(|item| ChatCursor::of(item.chat()));
    let more = all.len() > limit;
    all.truncate(limit);
    (all, more)
}

/// A private chat as its member `me` sees it: named after the other user.
async fn private_view(
    shared: &crate::state::Shared,
    record: &ChatRecord,
    me: &str,
) -> Result<ChatView, ApiError> {
    let other = record
        .pair
        .as_ref()
        .map(|(a, b)| if a == me { b.clone() } else { a.clone() })
        .unwrap_or_default();
    let name = match shared.store.user(&other).await? {
        Some(user) => user.name,
        None => other,
    };
    Ok(ChatView {
        chat: Chat {
            name,
            ..record.chat.clone()
        },
        member: true,
    })
}

/// The chat list's opaque cursors: the position of the last chat of a page, base64url-encoded.
/// Clients must not build or read them; anything this API did not hand out is a 400.
mod cursor {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use crate::error::ApiError;
    use crate::store::{ChatCursor, key};

    /// The cursor of `position`.
    pub(super) fn encode(position: &ChatCursor) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", position.created_at, position.id))
    }

    /// The position a cursor names.
    pub(super) fn decode(cursor: &str) -> Result<ChatCursor, ApiError> {
        let bad = || ApiError::BadRequest("cursor is not one this API handed out".into());
        if cursor.len() > 2 * key::MAX_KEY_BYTES {
            return Err(bad());
        }
        let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (time, id) = raw.split_once(':').ok_or_else(bad)?;
        let created_at = time.parse().map_err(|_| bad())?;
        key::check("chat id", id).map_err(|_| bad())?;
        Ok(ChatCursor {
            created_at,
            id: id.to_owned(),
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn cursors_round_trip_and_forgeries_are_refused() {
            for position in [
                ChatCursor {
                    created_at: 1_700_000_000_000,
                    id: "5f0c-uuid".into(),
                },
                ChatCursor {
                    created_at: -3,
                    id: "private:a:b".into(),
                },
            ] {
                let cursor = encode(&position);
                assert!(
                    cursor
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                );
                assert_eq!(decode(&cursor).unwrap(), position);
            }
            let forged = |raw: &str| URL_SAFE_NO_PAD.encode(raw);
            for cursor in [
                String::new(),
                "not base64!".into(),
                forged("no separator"),
                forged("x:chat"),
                forged("5:"),
                forged("5:a/b"),
                "A".repeat(10_000),
            ] {
                assert!(decode(&cursor).is_err(), "{cursor:?} was accepted");
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(id: &str, created_at: i64, kind: ChatKind) -> Chat {
        Chat {
            id: id.into(),
            name: id.into(),
            kind,
            owner: "local:1".into(),
            created_at,
        }
    }

    #[test]
    fn group_and_private_chats_share_one_order_and_the_page_says_if_more_follow() {
        let private = ChatRecord {
            chat: chat("private:p", 15, ChatKind::Private),
            pair: Some(("local:1".into(), "local:2".into())),
        };
        let groups = || {
            vec![
                chat("a", 10, ChatKind::Group),
                chat("b", 20, ChatKind::Group),
                chat("c", 20, ChatKind::Group),
            ]
        };
        let ids =
            |page: &[Listed<'_>]| page.iter().map(|i| i.chat().id.clone()).collect::<Vec<_>>();
        let items = || {
            groups()
                .into_iter()
                .map(Listed::Group)
                .chain([Listed::Private(&private)])
        };
        let (page, more) = first_in_order(items(), 2);
        assert_eq!(
            (ids(&page), more),
            (vec!["a".into(), "private:p".into()], true)
        );
        let (page, more) = first_in_order(items(), 4);
        assert_eq!(ids(&page), ["a", "private:p", "b", "c"]);
        assert!(!more, "nothing left over");
    }
}
