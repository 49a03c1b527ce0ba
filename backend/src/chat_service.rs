//! The chat operations: one function per event, each checking the rules (`chat`), changing the
//! store, then telling the hub whom to notify. The identity of the caller is always the one the
//! service verified (`ce-userId`, passed in as `user`), never anything from a request body.
//! A change is stored before anyone is told about it, so an acknowledged message is never lost.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chatr_protocol::client_event::ClientEvent;
use chatr_protocol::{Chat, ChatKind, ErrorCode, Presence, Reply, ServerEvent, User};

use crate::chat::rate_limit::{Operation, TokenBucket};
use crate::chat::{RuleError, permissions, presence, private, validate};
use crate::hub_client::HubClient;
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
            store::Error::AlreadyExists(m) => Self(ErrorCode::Forbidden, format!("{m} is taken")),
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

    /// Whether the caller may not do this (for `connected`: the connection is another user's).
    pub(crate) fn is_forbidden(&self) -> bool {
        self.0 == ErrorCode::Forbidden
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

/// Puts every open connection of `user` in the chat's group (to receive; members never publish
/// to it: typing goes through the backend); `asking` is the connection the request came on, admitted even if its
/// `connected` event (which records it) has not been handled yet — events race, and a
/// connection left out would miss the chat's messages until it reconnects.
/// The recorded connections of `user`, plus `also` (the one a request came on, which may not be
/// recorded yet: events race).
async fn connection_ids(
    shared: &Shared,
    user: &str,
    also: Option<&str>,
) -> Result<Vec<String>, Refusal> {
    let mut ids: Vec<String> = shared
        .store
        .connections(user)
        .await?
        .into_iter()
        .map(|c| c.connection_id)
        .collect();
    if let Some(also) = also
        && !ids.iter().any(|c| c == also)
    {
        ids.push(also.to_owned());
    }
    Ok(ids)
}

async fn admit(
    shared: &Shared,
    chat: &str,
    user: &str,
    asking: Option<&str>,
) -> Result<(), Refusal> {
    let connections = connection_ids(shared, user, asking).await?;
    for connection in connections {
        admit_connection(shared, chat, user, &connection).await?;
    }
    Ok(())
}

/// Puts one connection of `user` in a chat's group. A connection the hub does not know is dead
/// (its `disconnected` was lost or came first): its record is forgotten and that is not an error.
async fn admit_connection(
    shared: &Shared,
    chat: &str,
    user: &str,
    connection: &str,
) -> Result<(), Refusal> {
    let hub = hub(shared)?;
    match hub.add_connection_to_group(chat, connection).await {
        Ok(()) => Ok(()),
        Err(err) if err.is_not_found() => {
            tracing::debug!(conn_id = %connection, "a recorded connection is gone; forgetting it");
            forget_connection(shared, user, connection).await
        }
        Err(err) => Err(err.into()),
    }
}

/// Forgets a connection the hub no longer has, telling everyone if that changed the user's
/// presence (no grace period: it is known to be gone).
pub(crate) async fn forget_connection(
    shared: &Shared,
    user: &str,
    connection: &str,
) -> Result<(), Refusal> {
    let before = shared.store.connections(user).await?;
    if !before.iter().any(|c| c.connection_id == connection) {
        return Ok(());
    }
    let after = shared.store.remove_connection(user, connection).await?;
    let was = presence::of_connections(before.iter().map(|c| c.idle));
    if after.is_empty() {
        notify("announce offline", || async {
            hub(shared)?
                .send_to_all(
                    &ServerEvent::UserOffline {
                        user_id: user.to_owned(),
                    },
                    &[],
                )
                .await
                .map_err(Refusal::from)
        })
        .await;
        return Ok(());
    }
    announce(
        shared,
        user,
        was,
        presence::of_connections(after.iter().map(|c| c.idle)),
    )
    .await
}

/// Forgets every stored connection the hub no longer has: records whose `disconnected` never
/// arrived (the hub crashed or restarted, the backend was down when it came, or it lost its race
/// with `connected`). Returns how many were forgotten.
pub(crate) async fn sweep_connections(shared: &Shared) -> Result<usize, Refusal> {
    let hub = hub(shared)?;
    let mut forgotten = 0;
    for (user, record) in shared.store.all_connections().await? {
        if !hub.connection_exists(&record.connection_id).await? {
            forget_connection(shared, &user, &record.connection_id).await?;
            forgotten += 1;
        }
    }
    Ok(forgotten)
}

/// Sweeps at start (records left from before a restart) and then every `sweep_every`, until
/// dropped; a failed sweep (the hub not up yet) is tried again within five seconds.
pub(crate) async fn keep_connections_reconciled(state: crate::AppState) {
    let shared = state.shared();
    if shared.hub.is_none() {
        return;
    }
    let every = shared.sweep_every;
    loop {
        let wait = match sweep_connections(shared).await {
            Ok(0) => every,
            Ok(forgotten) => {
                tracing::info!(forgotten, "forgot connections the hub no longer has");
                every
            }
            Err(Refusal(_, message)) => {
                tracing::warn!(%message, "could not reconcile connections with the hub");
                every.min(Duration::from_secs(5))
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// How often a notification after a stored change is tried before it is given up (logged).
const NOTIFY_ATTEMPTS: u32 = 3;

/// Runs a hub call that tells people about a change already stored, retrying a failure twice
/// (100 ms, then 400 ms). The change took effect whatever happens here, so a failure is logged,
/// never answered as an error; people who missed it catch up from the store when they reconnect.
async fn notify<F, Fut>(what: &'static str, mut call: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), Refusal>>,
{
    for attempt in 0..NOTIFY_ATTEMPTS {
        match call().await {
            Ok(()) => return,
            Err(Refusal(_, message)) if attempt + 1 == NOTIFY_ATTEMPTS => {
                tracing::error!(what, %message, "could not tell everyone about a stored change");
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100 << (2 * attempt))).await,
        }
    }
}

/// `connect`: makes sure the user has a record. Names come from the verified sign-in
/// (`POST /api/token` writes them); the claims in a `connect` body are not covered by the
/// service's signature, so a replayed request must not be able to rename anyone: they are used
/// only for a user the store has never seen.
pub(crate) async fn on_connect(
    shared: &Shared,
    user: &str,
    name: Option<&str>,
    provider: Option<&str>,
) -> Result<(), Refusal> {
    if shared.store.user(user).await?.is_some() {
        return Ok(());
    }
    let record = UserRecord {
        id: user.to_owned(),
        name: name.map_or_else(
            || user.to_owned(),
            |n| crate::identity::names::stored_name(n, user),
        ),
        provider: provider.map_or_else(
            || user.split(':').next().unwrap_or_default().to_owned(),
            str::to_owned,
        ),
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
        notify("announce presence", || async {
            Ok(hub(shared)?.send_to_all(&event, &[]).await?)
        })
        .await;
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
    // Recorded first, checked second: a `disconnected` handled before this line found nothing to
    // remove, but then the hub no longer has the connection either (the close came first).
    if !hub(shared)?.connection_exists(connection).await? {
        tracing::debug!(conn_id = %connection, "connected event for a connection already gone");
        shared.store.remove_connection(user, connection).await?;
        return Ok(());
    }
    let before = presence::of_connections(without(&after, connection));
    let now = presence::of_connections(after.iter().map(|c| c.idle));
    for chat in shared.store.chats_of(user).await? {
        admit_connection(shared, &chat.chat.id, user, connection).await?;
    }
    hub(shared)?
        .send_to_connection(connection, &ServerEvent::Ready {})
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
            notify("announce offline", || async {
                Ok(hub(shared)?
                    .send_to_all(
                        &ServerEvent::UserOffline {
                            user_id: user.to_owned(),
                        },
                        &[],
                    )
                    .await?)
            })
            .await;
        }
        return Ok(());
    }
    let mut before_flags: Vec<bool> = remaining.iter().map(|c| c.idle).collect();
    before_flags.push(false);
    let before = presence::of_connections(before_flags);
    let after = presence::of_connections(remaining.iter().map(|c| c.idle));
    announce(shared, user, before, after).await
}

/// Takes one of `user`'s tokens for `operation`, or refuses with `RateLimited`.
fn allow(shared: &Shared, user: &str, operation: Operation) -> Result<(), Refusal> {
    let now = Instant::now();
    let mut buckets = shared
        .buckets
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if buckets.len() > 10_000 {
        buckets.retain(|_, b| !b.is_full_at(now));
    }
    let rate = shared.rate.of(operation);
    let allowed = buckets
        .entry((user.to_owned(), operation))
        .or_insert_with(|| TokenBucket::new(rate.burst, rate.per_second, now))
        .try_take(now);
    if allowed {
        Ok(())
    } else {
        Err(Refusal::new(ErrorCode::RateLimited, operation.refusal()))
    }
}

/// The id of the chat `user` creates with `client_key`: the same for every resend, so a retried
/// `createChat` finds the chat the first one made instead of making another.
fn chat_id_for(user: &str, client_key: Option<&str>) -> String {
    match client_key {
        Some(key) => uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("{user}\0{key}").as_bytes(),
        )
        .to_string(),
        None => uuid::Uuid::new_v4().to_string(),
    }
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
        ClientEvent::CreateChat { name, client_key } => {
            let name = validate::chat_name(&name, &shared.limits)?;
            if let Some(key) = &client_key {
                validate::client_key(key)?;
            }
            let id = chat_id_for(user, client_key.as_deref());
            // A resend finds its chat before any limit is taken (honest retries after an outage);
            // without a key the id is fresh and there is nothing to find.
            let existing = match client_key {
                Some(_) => shared.store.chat(&id).await?,
                None => None,
            };
            let chat = match existing {
                Some(stored) if stored.chat.owner == user && stored.pair.is_none() => stored.chat,
                Some(_) => {
                    return Err(Refusal::new(
                        ErrorCode::BadRequest,
                        "that client key is taken",
                    ));
                }
                None => {
                    allow(shared, user, Operation::CreateChat)?;
                    let chat = Chat {
                        id,
                        name,
                        kind: ChatKind::Group,
                        owner: user.to_owned(),
                        created_at: now_ms(),
                    };
                    let record = ChatRecord {
                        chat: chat.clone(),
                        pair: None,
                    };
                    match shared.store.create_chat(&record, &[user.to_owned()]).await {
                        // Two copies of one request raced: the other stored it.
                        Ok(()) | Err(store::Error::AlreadyExists(_)) => {}
                        Err(err) => return Err(err.into()),
                    }
                    chat
                }
            };
            admit(shared, &chat.id, user, Some(connection)).await?;
            let created = ServerEvent::ChatCreated { chat: chat.clone() };
            notify("announce a new chat", || async {
                Ok(hub.send_to_all(&created, &[]).await?)
            })
            .await;
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
            if !shared.store.is_member(&chat_id, user).await? {
                allow(shared, user, Operation::Membership)?;
            }
            let added = shared.store.add_member(&chat_id, user).await?;
            admit(shared, &chat_id, user, Some(connection)).await?;
            if added {
                let joined = ServerEvent::MemberJoined {
                    chat_id: chat_id.clone(),
                    user: user_view(shared, user).await?,
                };
                notify("announce a join", || async {
                    Ok(hub.send_to_group(&chat_id, &joined, &[]).await?)
                })
                .await;
            }
            Ok(Done {
                chat: Some(record.chat),
                ..Done::default()
            })
        }
        ClientEvent::LeaveChat { chat_id } => {
            if !shared.store.is_member(&chat_id, user).await? {
                return Ok(Done::default());
            }
            allow(shared, user, Operation::Membership)?;
            if shared.store.remove_member(&chat_id, user).await? {
                // Nobody who left may keep reading: this one is not best effort.
                hub.remove_user_from_group(&chat_id, user).await?;
                let left = ServerEvent::MemberLeft {
                    chat_id: chat_id.clone(),
                    user_id: user.to_owned(),
                };
                notify("announce a leave", || async {
                    Ok(hub.send_to_group(&chat_id, &left, &[]).await?)
                })
                .await;
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
            allow(shared, user, Operation::Membership)?;
            shared.store.delete_chat(&chat_id).await?;
            hub.empty_group(&chat_id).await?;
            let deleted = ServerEvent::ChatDeleted { chat_id };
            notify("announce a deleted chat", || async {
                Ok(hub.send_to_all(&deleted, &[]).await?)
            })
            .await;
            Ok(Done::default())
        }
        ClientEvent::CreatePrivateChat { target_user_id } => {
            let target = shared
                .store
                .user(&target_user_id)
                .await?
                .ok_or_else(|| Refusal::new(ErrorCode::NotFound, "no such user"))?;
            let id = private::chat_id(user, &target.id)?;
            if shared.store.chat(&id).await?.is_none() {
                allow(shared, user, Operation::CreateChat)?;
            }
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
            let to_target = ServerEvent::JoinPrivateChat {
                chat: for_target,
                grab_focus: false,
            };
            notify("open a private chat for its peer", || async {
                Ok(hub.send_to_user(&target.id, &to_target).await?)
            })
            .await;
            let to_me = ServerEvent::JoinPrivateChat {
                chat: for_me.clone(),
                grab_focus: true,
            };
            notify("open a private chat for its opener", || async {
                Ok(hub.send_to_user(user, &to_me).await?)
            })
            .await;
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
            permissions::can_read_or_post(shared.store.is_member(&chat_id, user).await?)?;
            // A resend of a stored message (its ack was lost: a cut, a killed backend) is answered
            // from the store and delivered again, before any limit is taken: members' apps drop
            // the copy by `seq`, and the sender sees it once.
            let message = match shared
                .store
                .find_message(&chat_id, user, &client_key)
                .await?
            {
                Some(stored) => stored,
                None => {
                    allow(shared, user, Operation::Send)?;
                    shared
                        .store
                        .append_message(&chat_id, user, &text, &client_key, now_ms())
                        .await?
                }
            };
            let pushed = ServerEvent::Message {
                message: message.clone(),
            };
            notify("deliver a message", || async {
                Ok(hub.send_to_group(&chat_id, &pushed, &[]).await?)
            })
            .await;
            Ok(Done {
                message: Some(message),
                ..Done::default()
            })
        }
        ClientEvent::Typing { chat_id } => signal_typing(shared, user, connection, &chat_id).await,
        ClientEvent::UserEnterIdle {} | ClientEvent::UserExitIdle {} => {
            let idle = matches!(event, ClientEvent::UserEnterIdle {});
            allow(shared, user, Operation::Presence)?;
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

/// `typing`: forwards "`user` is typing" to the chat's other members (not to `user`'s own
/// connections), stamped with the verified user. The id is checked and the throttle asked before
/// the store, so a flood costs no store read and no memory beyond a key; a signal it refuses
/// (`rateLimited`), or one from someone who is not a member (`forbidden`), goes nowhere.
async fn signal_typing(
    shared: &Shared,
    user: &str,
    connection: &str,
    chat_id: &str,
) -> Result<Done, Refusal> {
    store::key::check("chat id", chat_id)?;
    let verdict = shared
        .typing
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .check(user, chat_id, Instant::now());
    if verdict == crate::chat::typing::Verdict::TooSoon {
        return Err(Refusal::new(
            ErrorCode::RateLimited,
            "typing signals are limited to one every few seconds per chat",
        ));
    }
    permissions::can_read_or_post(shared.store.is_member(chat_id, user).await?)?;
    let mine = connection_ids(shared, user, Some(connection)).await?;
    let excluded: Vec<&str> = mine.iter().map(String::as_str).collect();
    let signal = ServerEvent::Typing {
        chat_id: chat_id.to_owned(),
        user_id: user.to_owned(),
    };
    hub(shared)?
        .send_to_group(chat_id, &signal, &excluded)
        .await?;
    Ok(Done::default())
}
