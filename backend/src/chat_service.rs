//! The chat operations: one function per event, each checking the rules (`chat`), changing the
//! store, then telling the hub whom to notify. The identity of the caller is always the one the
//! service verified (`ce-userId`, passed in as `user`), never anything from a request body.
//! A change is stored before anyone is told about it, so an acknowledged message is never lost.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use chatr_protocol::client_event::ClientEvent;
use chatr_protocol::{Chat, ChatKind, ErrorCode, Presence, Reply, ServerEvent, User};

use crate::chat::rate_limit::TokenBucket;
use crate::chat::{RuleError, permissions, presence, private, validate};
use crate::hub_client::{HubClient, Permission};
use crate::state::Shared;
use crate::store::{self, ChatRecord, ConnectionRecord, UserRecord};

/// A refusal to send back to the caller.
#[derive(Debug)]
pub(crate) struct Refusal(ErrorCode, String);

impl From<RuleError> for Refusal {
    fn from(err: RuleError) -> Self {
        let code = match err {
            RuleError::Invalid(_) => ErrorCode::BadRequest,
            RuleError::TooLong { .. } => ErrorCode::TooLarge,
            RuleError::Forbidden(_) => ErrorCode::Forbidden,
        };
        Self(code, err.to_string())
    }
}

impl From<store::Error> for Refusal {
    fn from(err: store::Error) -> Self {
        match err {
            store::Error::NotFound(_) => Self(ErrorCode::NotFound, "no such chat".into()),
            store::Error::Invalid(m) => Self(ErrorCode::BadRequest, m),
            other => {
                tracing::error!(cause = %other, "store failed");
                Self(
                    ErrorCode::Internal,
                    "the server could not store that; retry".into(),
                )
            }
        }
    }
}

impl From<crate::hub_client::Error> for Refusal {
    fn from(err: crate::hub_client::Error) -> Self {
        tracing::error!(cause = %err, "hub call failed");
        Self(
            ErrorCode::Internal,
            "the server could not reach the hub; retry".into(),
        )
    }
}

impl Refusal {
    fn new(code: ErrorCode, message: &str) -> Self {
        Self(code, message.to_owned())
    }

    /// The reply for the caller.
    pub(crate) fn into_reply(self, request_id: Option<String>) -> Reply {
        Reply::Error {
            request_id,
            code: self.0,
            message: self.1,
        }
    }
}

/// What a successful operation answers.
#[derive(Debug, Default)]
pub(crate) struct Done {
    pub(crate) chat: Option<Chat>,
    pub(crate) message: Option<chatr_protocol::Message>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn hub(shared: &Shared) -> Result<&HubClient, Refusal> {
    shared
        .hub
        .as_ref()
        .ok_or_else(|| Refusal::new(ErrorCode::Internal, "no hub is configured"))
}

/// The public view of a user.
pub(crate) async fn user_view(shared: &Shared, id: &str) -> Result<User, Refusal> {
    let record = shared.store.user(id).await?;
    let connections = shared.store.connections(id).await?;
    let (name, provider) =
        record.map_or_else(|| (id.to_owned(), String::new()), |r| (r.name, r.provider));
    Ok(User {
        id: id.to_owned(),
        name,
        provider,
        presence: presence::of_connections(connections.iter().map(|c| c.idle)),
    })
}

/// Puts every open connection of `user` in the chat's group, with permission to send typing
/// signals there; `asking` is the connection the request came on, admitted even if its
/// `connected` event (which records it) has not been handled yet — events race, and a
/// connection left out would miss the chat's messages until it reconnects.
async fn admit(
    shared: &Shared,
    chat: &str,
    user: &str,
    asking: Option<&str>,
) -> Result<(), Refusal> {
    let hub = hub(shared)?;
    let mut connections: Vec<String> = shared
        .store
        .connections(user)
        .await?
        .into_iter()
        .map(|c| c.connection_id)
        .collect();
    if let Some(asking) = asking
        && !connections.iter().any(|c| c == asking)
    {
        connections.push(asking.to_owned());
    }
    for connection in connections {
        admit_connection(hub, chat, &connection).await?;
    }
    Ok(())
}

async fn admit_connection(hub: &HubClient, chat: &str, connection: &str) -> Result<(), Refusal> {
    hub.add_connection_to_group(chat, connection).await?;
    hub.grant_permission(Permission::SendToGroup, connection, chat)
        .await?;
    Ok(())
}

/// `connect`: the user record is refreshed from the signed token's profile claims.
pub(crate) async fn on_connect(
    shared: &Shared,
    user: &str,
    name: Option<&str>,
    provider: Option<&str>,
) -> Result<(), Refusal> {
    let existing = shared.store.user(user).await?;
    let record = UserRecord {
        id: user.to_owned(),
        name: name
            .map(str::to_owned)
            .or_else(|| existing.as_ref().map(|e| e.name.clone()))
            .unwrap_or_else(|| user.to_owned()),
        provider: provider
            .map(str::to_owned)
            .or_else(|| existing.map(|e| e.provider))
            .unwrap_or_else(|| user.split(':').next().unwrap_or_default().to_owned()),
    };
    shared.store.upsert_user(&record).await?;
    Ok(())
}

fn without(connections: &[ConnectionRecord], id: &str) -> Vec<bool> {
    connections
        .iter()
        .filter(|c| c.connection_id != id)
        .map(|c| c.idle)
        .collect()
}

async fn announce(
    shared: &Shared,
    user: &str,
    before: Presence,
    after: Presence,
) -> Result<(), Refusal> {
    let view = user_view(shared, user).await?;
    if let Some(event) = presence::announcement(&view, before, after) {
        hub(shared)?.send_to_all(&event, &[]).await?;
    }
    Ok(())
}

/// `connected`: presence, and the connection joins every chat the user is in.
pub(crate) async fn on_connected(
    shared: &Shared,
    user: &str,
    connection: &str,
) -> Result<(), Refusal> {
    let after = shared.store.add_connection(user, connection).await?;
    let before = presence::of_connections(without(&after, connection));
    let now = presence::of_connections(after.iter().map(|c| c.idle));
    let hub = hub(shared)?;
    for chat in shared.store.chats_of(user).await? {
        admit_connection(hub, &chat.chat.id, connection).await?;
    }
    hub.send_to_connection(connection, &ServerEvent::Ready {})
        .await?;
    announce(shared, user, before, now).await
}

/// `disconnected`: presence; offline only if no connection came back within the grace period.
pub(crate) async fn on_disconnected(
    shared: &Shared,
    user: &str,
    connection: &str,
) -> Result<(), Refusal> {
    let remaining = shared.store.remove_connection(user, connection).await?;
    if remaining.is_empty() {
        tokio::time::sleep(presence::OFFLINE_GRACE).await;
        if shared.store.connections(user).await?.is_empty() {
            hub(shared)?
                .send_to_all(
                    &ServerEvent::UserOffline {
                        user_id: user.to_owned(),
                    },
                    &[],
                )
                .await?;
        }
        return Ok(());
    }
    let mut before_flags: Vec<bool> = remaining.iter().map(|c| c.idle).collect();
    before_flags.push(false);
    let before = presence::of_connections(before_flags);
    let after = presence::of_connections(remaining.iter().map(|c| c.idle));
    announce(shared, user, before, after).await
}

fn take_token(shared: &Shared, user: &str) -> bool {
    let now = Instant::now();
    let mut buckets = shared
        .buckets
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if buckets.len() > 10_000 {
        buckets.retain(|_, b| !b.is_full_at(now));
    }
    let (burst, per_second) = shared.rate;
    buckets
        .entry(user.to_owned())
        .or_insert_with(|| TokenBucket::new(burst, per_second, now))
        .try_take(now)
}

/// A client event from `user` on `connection`.
pub(crate) async fn on_event(
    shared: &Shared,
    user: &str,
    connection: &str,
    event: ClientEvent,
) -> Result<Done, Refusal> {
    let hub = hub(shared)?;
    match event {
        ClientEvent::CreateChat { name } => {
            let name = validate::chat_name(&name, &shared.limits)?;
            let chat = Chat {
                id: uuid::Uuid::new_v4().to_string(),
                name,
                kind: ChatKind::Group,
                owner: user.to_owned(),
                created_at: now_ms(),
            };
            shared
                .store
                .create_chat(
                    &ChatRecord {
                        chat: chat.clone(),
                        pair: None,
                    },
                    &[user.to_owned()],
                )
                .await?;
            admit(shared, &chat.id, user, Some(connection)).await?;
            hub.send_to_all(&ServerEvent::ChatCreated { chat: chat.clone() }, &[])
                .await?;
            Ok(Done {
                chat: Some(chat),
                ..Done::default()
            })
        }
        ClientEvent::JoinChat { chat_id } => {
            let record = shared
                .store
                .chat(&chat_id)
                .await?
                .ok_or_else(|| Refusal::new(ErrorCode::NotFound, "no such chat"))?;
            let pair = record.pair.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
            permissions::can_join(&record.chat, user, pair)?;
            let added = shared.store.add_member(&chat_id, user).await?;
            admit(shared, &chat_id, user, Some(connection)).await?;
            if added {
                let view = user_view(shared, user).await?;
                hub.send_to_group(
                    &chat_id,
                    &ServerEvent::MemberJoined {
                        chat_id: chat_id.clone(),
                        user: view,
                    },
                    &[],
                )
                .await?;
            }
            Ok(Done {
                chat: Some(record.chat),
                ..Done::default()
            })
        }
        ClientEvent::LeaveChat { chat_id } => {
            if shared.store.remove_member(&chat_id, user).await? {
                hub.remove_user_from_group(&chat_id, user).await?;
                for c in shared.store.connections(user).await? {
                    hub.revoke_permission(Permission::SendToGroup, &c.connection_id, &chat_id)
                        .await?;
                }
                hub.send_to_group(
                    &chat_id,
                    &ServerEvent::MemberLeft {
                        chat_id: chat_id.clone(),
                        user_id: user.to_owned(),
                    },
                    &[],
                )
                .await?;
            }
            Ok(Done::default())
        }
        ClientEvent::DeleteChat { chat_id } => {
            let record = shared
                .store
                .chat(&chat_id)
                .await?
                .ok_or_else(|| Refusal::new(ErrorCode::NotFound, "no such chat"))?;
            permissions::can_delete(&record.chat, user)?;
            shared.store.delete_chat(&chat_id).await?;
            hub.empty_group(&chat_id).await?;
            hub.send_to_all(&ServerEvent::ChatDeleted { chat_id }, &[])
                .await?;
            Ok(Done::default())
        }
        ClientEvent::CreatePrivateChat { target_user_id } => {
            let target = shared
                .store
                .user(&target_user_id)
                .await?
                .ok_or_else(|| Refusal::new(ErrorCode::NotFound, "no such user"))?;
            let id = private::chat_id(user, &target.id)?;
            let record = ChatRecord {
                chat: Chat {
                    id: id.clone(),
                    name: String::new(),
                    kind: ChatKind::Private,
                    owner: user.to_owned(),
                    created_at: now_ms(),
                },
                pair: Some((user.to_owned(), target.id.clone())),
            };
            match shared
                .store
                .create_chat(&record, &[user.to_owned(), target.id.clone()])
                .await
            {
                Ok(()) | Err(store::Error::AlreadyExists(_)) => {}
                Err(err) => return Err(err.into()),
            }
            let stored = shared
                .store
                .chat(&id)
                .await?
                .ok_or_else(|| Refusal::new(ErrorCode::Internal, "the chat vanished"))?;
            for member in [user, target.id.as_str()] {
                shared.store.add_member(&id, member).await?;
                let asking = (member == user).then_some(connection);
                admit(shared, &id, member, asking).await?;
            }
            let me = shared.store.user(user).await?;
            let named = |name: String| Chat {
                name,
                ..stored.chat.clone()
            };
            let for_target = named(me.map_or_else(|| user.to_owned(), |m| m.name));
            let for_me = named(target.name.clone());
            hub.send_to_user(
                &target.id,
                &ServerEvent::JoinPrivateChat {
                    chat: for_target,
                    grab_focus: false,
                },
            )
            .await?;
            hub.send_to_user(
                user,
                &ServerEvent::JoinPrivateChat {
                    chat: for_me.clone(),
                    grab_focus: true,
                },
            )
            .await?;
            Ok(Done {
                chat: Some(for_me),
                ..Done::default()
            })
        }
        ClientEvent::SendMessage {
            chat_id,
            client_key,
            text,
        } => {
            validate::client_key(&client_key)?;
            validate::message_text(&text, &shared.limits)?;
            if !take_token(shared, user) {
                return Err(Refusal::new(
                    ErrorCode::RateLimited,
                    "you are sending too fast; wait a moment",
                ));
            }
            permissions::can_read_or_post(shared.store.is_member(&chat_id, user).await?)?;
            let message = shared
                .store
                .append_message(&chat_id, user, &text, &client_key, now_ms())
                .await?;
            hub.send_to_group(
                &chat_id,
                &ServerEvent::Message {
                    message: message.clone(),
                },
                &[],
            )
            .await?;
            Ok(Done {
                message: Some(message),
                ..Done::default()
            })
        }
        ClientEvent::UserEnterIdle {} | ClientEvent::UserExitIdle {} => {
            let idle = matches!(event, ClientEvent::UserEnterIdle {});
            let after = shared.store.set_idle(user, connection, idle).await?;
            let flipped: Vec<bool> = after
                .iter()
                .map(|c| {
                    if c.connection_id == connection {
                        !idle
                    } else {
                        c.idle
                    }
                })
                .collect();
            announce(
                shared,
                user,
                presence::of_connections(flipped),
                presence::of_connections(after.iter().map(|c| c.idle)),
            )
            .await?;
            Ok(Done::default())
        }
    }
}
