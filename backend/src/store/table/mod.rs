//! The Azure Table Storage store: the [`Store`] contract on five tables, with ETag optimistic
//! concurrency wherever an operation reads, changes and writes back. It must never overwrite an
//! entity it did not read (except idempotent index rows) and never log entity contents or secrets.
//!
//! # Tables and keys (each name is `<prefix><name>`)
//! | table       | PartitionKey | RowKey            | holds                                         |
//! |-------------|--------------|-------------------|-----------------------------------------------|
//! | `users`     | `user`       | user id           | name, provider                                |
//! |             | `refresh`    | refresh family id | userId, name, provider, generation, expiresAt, revoked |
//! | `presence`  | user id      | `connections`     | JSON map connection id → idle flag; lastSeen  |
//! | `connections` | `connection` | connection id   | the user it belongs to (by-id index)          |
//! | `chats`     | `chat`       | chat id           | name, kind, owner, createdAt, pair, members   |
//! |             | `bytime`     | `<20 digits>:<chat id>` | a group chat's (immutable) fields, in listing order; digits = `createdAt - i64::MIN`; row `~indexed` marks the index complete |
//! | `userchats` | user id      | chat id           | a copy of the chat's (immutable) fields       |
//! | `messages`  | chat id      | `c`               | the next message number (the counter)         |
//! |             |              | `m<20 digits>`    | a message; digits = `u64::MAX - seq`          |
//! |             |              | `k<len>:<from>:<key>` | which seq `(from, client key)` produced   |
//!
//! - **Presence** is one entity per user, changed with `If-Match`, so two instances handling two
//!   devices at once serialise: exactly one sees the first connection arrive and one the last
//!   leave. A disconnect touches that one entity: no per-chat work.
//! - **Connection owners**: `add_connection` inserts the by-id row first (an existing row of
//!   another user refuses the add), then changes presence; `remove_connection` changes presence
//!   first, then deletes the row. A crash in between leaves a row whose connection is gone: ids
//!   are never reused, and the reconciling sweep (`all_connections` reads presence) removes both.
//! - **Membership**: the chat entity's `members` list is the truth, changed with `If-Match` and
//!   retried on 412, so concurrent joins never lose one another. `userchats` is the user → chats
//!   index (one partition query). It is written *before* a join commits and removed *after* a leave
//!   or delete commits, so after a crash it may list a chat too many, never one too few; callers
//!   check permissions with `is_member`, which reads the truth. A surplus row can only name a chat
//!   the user was allowed to join (the caller checks before `add_member`) or one that is gone, so
//!   re-admitting a connection to everything `chats_of` lists grants nothing new; the next
//!   `add_member`/`remove_member` of that pair repairs the row. Delete removes the index rows of
//!   the members it read, then deletes the chat with `If-Match`, so a join that slips in between
//!   makes the delete go round again.
//! - **Group chats by time** (`bytime`): one row per group chat keyed by creation time then id, so
//!   a page of the chat list is one `RowKey gt` query with `$top`. Like `userchats` it is written
//!   *before* the chat and removed *after* it, so a crash leaves at most a row too many (a chat
//!   that is gone), never a chat missing from the list. Stores made before it existed are indexed
//!   once at open (then `~indexed` is written); chats created meanwhile by an older build are not
//!   listed until the row is removed and the store reopened.
//! - **Messages**: the counter row is bumped with `If-Match` (the number is taken before anything is
//!   written), then the idempotency row is inserted (409 = a resend raced us: the original wins),
//!   then the message row. A row-key range scan reads newest first, so `Latest` and `Before` are one
//!   `$top` query and `After` is a bounded range. Under a crash between those steps a number can be
//!   skipped (never reused); a resend after a crash completes the original.
//! - **Refresh-token families** (local sign-in) live in `users` under their own partition (so
//!   listing users never sees them); a refresh advances the generation with `If-Match`, so of two
//!   redemptions of one token exactly one wins.
//! - Property values are strings (numbers as decimal strings), so the JSON never needs `odata`
//!   type annotations.

pub mod azurite;
pub mod client;
pub mod sign;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use chatr_protocol::{Chat, ChatKind, Message};
use rand::Rng;
use serde_json::Value;

use self::client::{Entity, Outcome, TableClient, Tagged, literal, text};
use super::RefreshFamily;
use super::{ChatCursor, MAX_CHATS_PAGE};
use super::{ChatRecord, ConnectionRecord, Error, MAX_PAGE, Page, Store, UserRecord, key};

/// How often a read-modify-write is retried after losing an ETag race before giving up with
/// [`Error::Conflict`].
const MAX_ATTEMPTS: u32 = 100;
/// The partition of all users.
const USERS_PK: &str = "user";
/// The partition of all chats.
const CHATS_PK: &str = "chat";
/// The row of a user's connections in `presence`.
const PRESENCE_RK: &str = "connections";
/// The partition of the connection → user index.
const CONNECTIONS_PK: &str = "connection";
/// The row of a chat's message counter in `messages`.
const COUNTER_RK: &str = "c";
/// The partition of refresh-token families in `users`.
const REFRESH_PK: &str = "refresh";

fn refresh_family_from(id: &str, e: &Entity) -> Result<RefreshFamily, Error> {
    Ok(RefreshFamily {
        id: id.to_owned(),
        user_id: text(e, "userId"),
        name: text(e, "name"),
        provider: text(e, "provider"),
        generation: number(e, "generation")?,
        expires_at: number(e, "expiresAt")?,
        revoked: text(e, "revoked") == "1",
    })
}

fn refresh_family_row(family: &RefreshFamily) -> Entity {
    entity(
        REFRESH_PK,
        &family.id,
        &[
            ("userId", family.user_id.clone()),
            ("name", family.name.clone()),
            ("provider", family.provider.clone()),
            ("generation", family.generation.to_string()),
            ("expiresAt", family.expires_at.to_string()),
            ("revoked", if family.revoked { "1" } else { "0" }.to_owned()),
        ],
    )
}

/// The Table Storage store.
#[derive(Debug, Clone)]
pub struct TableStore {
    client: TableClient,
    users: String,
    presence: String,
    connections: String,
    chats: String,
    userchats: String,
    messages: String,
}

fn backend(err: impl std::fmt::Display) -> Error {
    Error::Backend(err.to_string())
}

fn entity(pk: &str, rk: &str, props: &[(&str, String)]) -> Entity {
    let mut e = Entity::new();
    e.insert("PartitionKey".into(), Value::String(pk.into()));
    e.insert("RowKey".into(), Value::String(rk.into()));
    for (name, value) in props {
        e.insert((*name).into(), Value::String(value.clone()));
    }
    e
}

fn number<T: std::str::FromStr>(e: &Entity, name: &str) -> Result<T, Error> {
    text(e, name)
        .parse()
        .map_err(|_| Error::Backend(format!("stored {name} is not a number")))
}

/// Waits a little, more after each lost race, with jitter so racing writers spread out.
async fn back_off(attempt: u32) {
    tracing::debug!(attempt, "lost an ETag race; retrying");
    let cap = 2 + attempt.min(20) * 2;
    let ms = rand::rng().random_range(1..=cap);
    tokio::time::sleep(Duration::from_millis(u64::from(ms))).await;
}

fn chat_props(record: &ChatRecord) -> Vec<(&'static str, String)> {
    let chat = &record.chat;
    let mut props = vec![
        ("name", chat.name.clone()),
        (
            "kind",
            match chat.kind {
                ChatKind::Group => "group",
                ChatKind::Private => "private",
            }
            .into(),
        ),
        ("owner", chat.owner.clone()),
        ("createdAt", chat.created_at.to_string()),
    ];
    if let Some((a, b)) = &record.pair {
        props.push(("pairA", a.clone()));
        props.push(("pairB", b.clone()));
    }
    props
}

/// A chat from a `chats` or `userchats` entity (`id` is given: the two tables key it differently).
fn chat_from(id: &str, e: &Entity) -> Result<ChatRecord, Error> {
    let (a, b) = (text(e, "pairA"), text(e, "pairB"));
    Ok(ChatRecord {
        chat: Chat {
            id: id.to_owned(),
            name: text(e, "name"),
            kind: if text(e, "kind") == "private" {
                ChatKind::Private
            } else {
                ChatKind::Group
            },
            owner: text(e, "owner"),
            created_at: number(e, "createdAt")?,
        },
        pair: (!a.is_empty() && !b.is_empty()).then_some((a, b)),
    })
}

fn members_of(e: &Entity) -> Result<BTreeSet<String>, Error> {
    let raw = text(e, "members");
    if raw.is_empty() {
        return Ok(BTreeSet::new());
    }
    serde_json::from_str(&raw).map_err(backend)
}

fn message_from(chat: &str, e: &Entity) -> Result<Message, Error> {
    Ok(Message {
        chat_id: chat.to_owned(),
        seq: key::message_seq(&text(e, "RowKey"))
            .ok_or_else(|| Error::Backend("stored message has a bad row key".into()))?,
        from: text(e, "from"),
        text: text(e, "text"),
        sent_at: number(e, "sentAt")?,
        client_key: text(e, "clientKey"),
    })
}

fn sort_chats(chats: &mut [ChatRecord]) {
    chats.sort_by(|a, b| (a.chat.created_at, &a.chat.id).cmp(&(b.chat.created_at, &b.chat.id)));
}

impl TableStore {
    /// A store on the tables named `<prefix>users`, … (letters and digits only; Table names must
    /// start with a letter), creating any that are missing.
    pub async fn open(client: TableClient, prefix: &str) -> Result<Self, Error> {
        if !prefix.chars().all(|c| c.is_ascii_alphanumeric())
            || !prefix.starts_with(|c: char| c.is_ascii_alphabetic())
            || prefix.len() > 50
        {
            return Err(Error::Invalid(
                "table prefix: a letter, then letters and digits (at most 50)".into(),
            ));
        }
        let store = Self {
            client,
            users: format!("{prefix}users"),
            presence: format!("{prefix}presence"),
            connections: format!("{prefix}connections"),
            chats: format!("{prefix}chats"),
            userchats: format!("{prefix}userchats"),
            messages: format!("{prefix}messages"),
        };
        for table in [
            &store.users,
            &store.presence,
            &store.connections,
            &store.chats,
            &store.userchats,
            &store.messages,
        ] {
            store.client.create_table(table).await?;
        }
        store.index_group_chats_once().await?;
        Ok(store)
    }

    /// Applies `change` to a refresh family with `If-Match`, retrying lost races: `change`
    /// answers `Err(answer)` to stop without writing, `Ok(())` to write, after which the answer is
    /// `true`; a missing family is `false`.
    async fn change_refresh_family(
        &self,
        id: &str,
        change: impl Fn(&mut RefreshFamily) -> Result<(), bool> + Send + Sync,
    ) -> Result<bool, Error> {
        for attempt in 0..MAX_ATTEMPTS {
            let Some(Tagged { entity, etag }) =
                self.client.get(&self.users, REFRESH_PK, id).await?
            else {
                return Ok(false);
            };
            let mut family = refresh_family_from(id, &entity)?;
            if let Err(answer) = change(&mut family) {
                return Ok(answer);
            }
            let row = refresh_family_row(&family);
            match self
                .client
                .replace(&self.users, REFRESH_PK, id, &row, Some(&etag))
                .await?
            {
                Outcome::Done => return Ok(true),
                Outcome::Missing => return Ok(false),
                // Someone changed it meanwhile: read again (it has moved on, or was revoked).
                Outcome::Lost => back_off(attempt).await,
            }
        }
        Err(Error::Conflict(format!("refresh family {id}")))
    }

    /// Applies `change` to a user's connection map with `If-Match`, retrying lost races.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %user))]
    async fn change_presence(
        &self,
        user: &str,
        change: impl Fn(&mut BTreeMap<String, bool>) -> bool + Send + Sync,
    ) -> Result<Vec<ConnectionRecord>, Error> {
        key::check("user id", user)?;
        for attempt in 0..MAX_ATTEMPTS {
            let current = self.client.get(&self.presence, user, PRESENCE_RK).await?;
            let last_seen = current
                .as_ref()
                .map(|t| text(&t.entity, "lastSeen"))
                .unwrap_or_default();
            let (mut map, etag) = match &current {
                Some(Tagged { entity, etag }) => {
                    let raw = text(entity, "connections");
                    let map: BTreeMap<String, bool> = if raw.is_empty() {
                        BTreeMap::new()
                    } else {
                        serde_json::from_str(&raw).map_err(backend)?
                    };
                    (map, Some(etag.clone()))
                }
                None => (BTreeMap::new(), None),
            };
            let had_any = !map.is_empty();
            if change(&mut map) {
                // Only a change that closes the last connection moves "last seen".
                let last_seen = if had_any && map.is_empty() {
                    super::now_ms().to_string()
                } else {
                    last_seen
                };
                let mut props =
                    vec![("connections", serde_json::to_string(&map).map_err(backend)?)];
                if !last_seen.is_empty() {
                    props.push(("lastSeen", last_seen));
                }
                let row = entity(user, PRESENCE_RK, &props);
                let outcome = match &etag {
                    Some(etag) => {
                        self.client
                            .replace(&self.presence, user, PRESENCE_RK, &row, Some(etag))
                            .await?
                    }
                    None => self.client.insert(&self.presence, &row).await?,
                };
                if outcome != Outcome::Done {
                    back_off(attempt).await;
                    continue;
                }
            }
            return Ok(map
                .into_iter()
                .map(|(connection_id, idle)| ConnectionRecord {
                    connection_id,
                    idle,
                })
                .collect());
        }
        tracing::warn!("gave up after {MAX_ATTEMPTS} lost ETag races");
        Err(Error::Conflict(format!("presence of {user}")))
    }

    async fn index_row(&self, user: &str, record: &ChatRecord) -> Result<(), Error> {
        let row = entity(user, &record.chat.id, &chat_props(record));
        match self
            .client
            .replace(&self.userchats, user, &record.chat.id, &row, None)
            .await?
        {
            Outcome::Done => Ok(()),
            other => Err(Error::Backend(format!("index write: {other:?}"))),
        }
    }

    async fn unindex(&self, user: &str, chat: &str) -> Result<(), Error> {
        self.client
            .delete(&self.userchats, user, chat, "*")
            .await
            .map(|_| ())
    }

    /// Adds (`join`) or removes `user` in `chat`'s member list with `If-Match`, retrying lost
    /// races; `false` when nothing changed. Keeps the `userchats` index a superset of the truth.
    #[tracing::instrument(level = "debug", skip_all, fields(chat_id = %chat, user_id = %user, join))]
    async fn change_members(&self, chat: &str, user: &str, join: bool) -> Result<bool, Error> {
        key::check("chat id", chat)?;
        key::check("user id", user)?;
        for attempt in 0..MAX_ATTEMPTS {
            let Some(Tagged { mut entity, etag }) =
                self.client.get(&self.chats, CHATS_PK, chat).await?
            else {
                if join && attempt > 0 {
                    // An earlier round wrote the index row; the chat went meanwhile.
                    self.unindex(user, chat).await?;
                }
                return Err(Error::NotFound(chat.to_owned()));
            };
            let record = chat_from(chat, &entity)?;
            let mut members = members_of(&entity)?;
            let changed = if join {
                members.insert(user.to_owned())
            } else {
                members.remove(user)
            };
            if !changed {
                // Repair the index from the truth (a crash may have left it behind).
                if join {
                    self.index_row(user, &record).await?;
                } else {
                    self.unindex(user, chat).await?;
                }
                return Ok(false);
            }
            if join {
                self.index_row(user, &record).await?;
            }
            entity.insert(
                "members".into(),
                Value::String(serde_json::to_string(&members).map_err(backend)?),
            );
            match self
                .client
                .replace(&self.chats, CHATS_PK, chat, &entity, Some(&etag))
                .await?
            {
                Outcome::Done => {
                    if !join {
                        self.unindex(user, chat).await?;
                    }
                    return Ok(true);
                }
                Outcome::Missing => {
                    if join {
                        self.unindex(user, chat).await?;
                    }
                    return Err(Error::NotFound(chat.to_owned()));
                }
                Outcome::Lost => back_off(attempt).await,
            }
        }
        tracing::warn!("gave up after {MAX_ATTEMPTS} lost ETag races");
        Err(Error::Conflict(format!("members of {chat}")))
    }

    /// Deletes every row of `chat`'s message partition (history, idempotency rows, counter).
    async fn clear_messages(&self, chat: &str) -> Result<(), Error> {
        let rows = self
            .client
            .query(
                &self.messages,
                &format!("PartitionKey eq {}", literal(chat)),
                None,
            )
            .await?;
        for row in rows {
            self.client
                .delete(&self.messages, chat, &text(&row, "RowKey"), "*")
                .await?;
        }
        Ok(())
    }

    async fn message_at(&self, chat: &str, seq: u64) -> Result<Option<Message>, Error> {
        match self
            .client
            .get(&self.messages, chat, &key::message_row(seq))
            .await?
        {
            Some(Tagged { entity, .. }) => message_from(chat, &entity).map(Some),
            None => Ok(None),
        }
    }

    /// Stores message `seq` unless a row is there already; answers what is stored.
    async fn put_message(&self, message: Message) -> Result<Message, Error> {
        let row = entity(
            &message.chat_id,
            &key::message_row(message.seq),
            &[
                ("from", message.from.clone()),
                ("text", message.text.clone()),
                ("sentAt", message.sent_at.to_string()),
                ("clientKey", message.client_key.clone()),
            ],
        );
        match self.client.insert(&self.messages, &row).await? {
            Outcome::Done => Ok(message),
            _ => match self.message_at(&message.chat_id, message.seq).await? {
                // Only the same send (a resend completing it) may have written this row.
                Some(stored)
                    if stored.from == message.from && stored.client_key == message.client_key =>
                {
                    Ok(stored)
                }
                Some(_) => Err(Error::Backend(format!(
                    "message {} of {} is held by another send",
                    message.seq, message.chat_id
                ))),
                None => Err(Error::Backend("message vanished while storing".into())),
            },
        }
    }
}

#[async_trait]
impl Store for TableStore {
    async fn upsert_user(&self, user: &UserRecord) -> Result<(), Error> {
        key::check("user id", &user.id)?;
        let row = entity(
            USERS_PK,
            &user.id,
            &[
                ("name", user.name.clone()),
                ("provider", user.provider.clone()),
            ],
        );
        match self
            .client
            .replace(&self.users, USERS_PK, &user.id, &row, None)
            .await?
        {
            Outcome::Done => Ok(()),
            other => Err(Error::Backend(format!("user write: {other:?}"))),
        }
    }

    async fn user(&self, id: &str) -> Result<Option<UserRecord>, Error> {
        key::check("user id", id)?;
        Ok(self
            .client
            .get(&self.users, USERS_PK, id)
            .await?
            .map(|t| UserRecord {
                id: id.to_owned(),
                name: text(&t.entity, "name"),
                provider: text(&t.entity, "provider"),
            }))
    }

    async fn users(&self) -> Result<Vec<UserRecord>, Error> {
        let rows = self
            .client
            .query(
                &self.users,
                &format!("PartitionKey eq {}", literal(USERS_PK)),
                None,
            )
            .await?;
        let mut users: Vec<UserRecord> = rows
            .iter()
            .map(|e| UserRecord {
                id: text(e, "RowKey"),
                name: text(e, "name"),
                provider: text(e, "provider"),
            })
            .collect();
        users.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        Ok(users)
    }

    async fn add_connection(
        &self,
        user: &str,
        connection: &str,
    ) -> Result<Vec<ConnectionRecord>, Error> {
        key::check("user id", user)?;
        key::check("connection id", connection)?;
        let row = entity(CONNECTIONS_PK, connection, &[("user", user.to_owned())]);
        if self.client.insert(&self.connections, &row).await? != Outcome::Done {
            // Already indexed: fine if it is this user's (a repeated `connected`).
            let owner = self.connection_owner(connection).await?;
            if owner.as_deref().is_some_and(|o| o != user) {
                return Err(Error::AlreadyExists(format!("connection {connection}")));
            }
        }
        let connection = connection.to_owned();
        self.change_presence(user, move |map| {
            if map.contains_key(&connection) {
                false
            } else {
                map.insert(connection.clone(), false);
                true
            }
        })
        .await
    }

    async fn remove_connection(
        &self,
        user: &str,
        connection: &str,
    ) -> Result<Vec<ConnectionRecord>, Error> {
        key::check("connection id", connection)?;
        let owned = connection.to_owned();
        let left = self
            .change_presence(user, move |map| map.remove(&owned).is_some())
            .await?;
        if self.connection_owner(connection).await?.as_deref() == Some(user) {
            self.client
                .delete(&self.connections, CONNECTIONS_PK, connection, "*")
                .await?;
        }
        Ok(left)
    }

    async fn connection_owner(&self, connection: &str) -> Result<Option<String>, Error> {
        key::check("connection id", connection)?;
        Ok(self
            .client
            .get(&self.connections, CONNECTIONS_PK, connection)
            .await?
            .map(|t| text(&t.entity, "user")))
    }

    async fn all_connections(&self) -> Result<Vec<(String, ConnectionRecord)>, Error> {
        let rows = self
            .client
            .query(&self.presence, &format!("RowKey eq '{PRESENCE_RK}'"), None)
            .await?;
        let mut all = Vec::new();
        for row in rows {
            let raw = text(&row, "connections");
            if raw.is_empty() {
                continue;
            }
            let map: BTreeMap<String, bool> = serde_json::from_str(&raw).map_err(backend)?;
            let user = text(&row, "PartitionKey");
            all.extend(map.into_iter().map(|(connection_id, idle)| {
                (
                    user.clone(),
                    ConnectionRecord {
                        connection_id,
                        idle,
                    },
                )
            }));
        }
        Ok(all)
    }

    async fn set_idle(
        &self,
        user: &str,
        connection: &str,
        idle: bool,
    ) -> Result<Vec<ConnectionRecord>, Error> {
        key::check("connection id", connection)?;
        let connection = connection.to_owned();
        self.change_presence(user, move |map| match map.get_mut(&connection) {
            Some(flag) if *flag != idle => {
                *flag = idle;
                true
            }
            _ => false,
        })
        .await
    }

    async fn connections(&self, user: &str) -> Result<Vec<ConnectionRecord>, Error> {
        self.change_presence(user, |_| false).await
    }

    async fn last_seen(&self, user: &str) -> Result<Option<i64>, Error> {
        key::check("user id", user)?;
        match self.client.get(&self.presence, user, PRESENCE_RK).await? {
            Some(t) if !text(&t.entity, "lastSeen").is_empty() => {
                number(&t.entity, "lastSeen").map(Some)
            }
            _ => Ok(None),
        }
    }

    async fn create_chat(&self, record: &ChatRecord, members: &[String]) -> Result<(), Error> {
        let id = &record.chat.id;
        key::check("chat id", id)?;
        for member in members {
            key::check("user id", member)?;
        }
        let members: BTreeSet<String> = members.iter().cloned().collect();
        let mut row = entity(CHATS_PK, id, &chat_props(record));
        row.insert(
            "members".into(),
            Value::String(serde_json::to_string(&members).map_err(backend)?),
        );
        self.list_by_time(record).await?;
        match self.client.insert(&self.chats, &row).await? {
            Outcome::Done => {}
            Outcome::Lost => {
                self.unlist_unless_stored(record).await?;
                return Err(Error::AlreadyExists(id.clone()));
            }
            Outcome::Missing => return Err(Error::Backend("chats table is missing".into())),
        }
        // Rows left in the partition by an append that raced an earlier delete of this id belong
        // to no chat: clear them so the new chat starts empty (normally this finds nothing).
        self.clear_messages(id).await?;
        // The counter exists exactly as long as the chat: appends use it to know the chat exists.
        let counter = entity(id, COUNTER_RK, &[("next", "1".into())]);
        if let Err(err) = self
            .client
            .replace(&self.messages, id, COUNTER_RK, &counter, None)
            .await
        {
            // Without its counter the chat cannot take messages: undo the creation.
            let _ = self.client.delete(&self.chats, CHATS_PK, id, "*").await;
            let _ = self.unlist(time_row_of(&record.chat)).await;
            return Err(err);
        }
        for member in &members {
            self.index_row(member, record).await?;
        }
        Ok(())
    }

    async fn chat(&self, id: &str) -> Result<Option<ChatRecord>, Error> {
        key::check("chat id", id)?;
        match self.client.get(&self.chats, CHATS_PK, id).await? {
            Some(t) => chat_from(id, &t.entity).map(Some),
            None => Ok(None),
        }
    }

    async fn group_chats(&self) -> Result<Vec<Chat>, Error> {
        let rows = self
            .client
            .query(
                &self.chats,
                &format!("PartitionKey eq {} and kind eq 'group'", literal(CHATS_PK)),
                None,
            )
            .await?;
        let mut chats = rows
            .iter()
            .map(|e| chat_from(&text(e, "RowKey"), e))
            .collect::<Result<Vec<_>, _>>()?;
        sort_chats(&mut chats);
        Ok(chats.into_iter().map(|r| r.chat).collect())
    }

    async fn delete_chat(&self, id: &str) -> Result<(), Error> {
        key::check("chat id", id)?;
        let mut deleted = false;
        let mut listed = None;
        for attempt in 0..MAX_ATTEMPTS {
            let Some(Tagged { entity, etag }) = self.client.get(&self.chats, CHATS_PK, id).await?
            else {
                return Err(Error::NotFound(id.to_owned()));
            };
            listed = time_row_of(&chat_from(id, &entity)?.chat);
            for member in members_of(&entity)? {
                self.unindex(&member, id).await?;
            }
            match self.client.delete(&self.chats, CHATS_PK, id, &etag).await? {
                Outcome::Done => {
                    deleted = true;
                    break;
                }
                Outcome::Missing => return Err(Error::NotFound(id.to_owned())),
                Outcome::Lost => back_off(attempt).await,
            }
        }
        if !deleted {
            tracing::warn!(chat_id = %id, "gave up after {MAX_ATTEMPTS} lost ETag races");
            return Err(Error::Conflict(format!("chat {id}")));
        }
        // The counter goes first, so appends racing this delete fail with NotFound.
        self.client
            .delete(&self.messages, id, COUNTER_RK, "*")
            .await?;
        self.clear_messages(id).await?;
        self.unlist(listed).await
    }

    async fn add_member(&self, chat: &str, user: &str) -> Result<bool, Error> {
        self.change_members(chat, user, true).await
    }

    async fn remove_member(&self, chat: &str, user: &str) -> Result<bool, Error> {
        self.change_members(chat, user, false).await
    }

    async fn is_member(&self, chat: &str, user: &str) -> Result<bool, Error> {
        key::check("user id", user)?;
        Ok(self.members(chat).await?.iter().any(|m| m == user))
    }

    async fn members(&self, chat: &str) -> Result<Vec<String>, Error> {
        key::check("chat id", chat)?;
        match self.client.get(&self.chats, CHATS_PK, chat).await? {
            Some(t) => Ok(members_of(&t.entity)?.into_iter().collect()),
            None => Ok(Vec::new()),
        }
    }

    async fn chats_of(&self, user: &str) -> Result<Vec<ChatRecord>, Error> {
        key::check("user id", user)?;
        let rows = self
            .client
            .query(
                &self.userchats,
                &format!("PartitionKey eq {}", literal(user)),
                None,
            )
            .await?;
        let mut chats = rows
            .iter()
            .map(|e| chat_from(&text(e, "RowKey"), e))
            .collect::<Result<Vec<_>, _>>()?;
        sort_chats(&mut chats);
        Ok(chats)
    }

    async fn find_message(
        &self,
        chat: &str,
        from: &str,
        client_key: &str,
    ) -> Result<Option<Message>, Error> {
        key::check("chat id", chat)?;
        key::check("user id", from)?;
        key::check("client key", client_key)?;
        let idem = key::idempotency_row(from, client_key);
        match self.client.get(&self.messages, chat, &idem).await? {
            // A claim whose message row a crash cut short reads as "not stored": the send's
            // retry then completes it through `append_message`.
            Some(Tagged { entity, .. }) => self.message_at(chat, number(&entity, "seq")?).await,
            None => Ok(None),
        }
    }

    async fn append_message(
        &self,
        chat: &str,
        from: &str,
        text: &str,
        client_key: &str,
        sent_at: i64,
    ) -> Result<Message, Error> {
        key::check("chat id", chat)?;
        key::check("user id", from)?;
        key::check("client key", client_key)?;
        let idem = key::idempotency_row(from, client_key);
        let message = |seq| Message {
            chat_id: chat.to_owned(),
            seq,
            from: from.to_owned(),
            text: text.to_owned(),
            sent_at,
            client_key: client_key.to_owned(),
        };
        for attempt in 0..MAX_ATTEMPTS {
            // A resend: answer the original (completing it if a crash cut it short).
            if let Some(Tagged { entity, .. }) =
                self.client.get(&self.messages, chat, &idem).await?
            {
                let seq: u64 = number(&entity, "seq")?;
                return match self.message_at(chat, seq).await? {
                    Some(original) => Ok(original),
                    None => self.put_message(message(seq)).await,
                };
            }
            let Some(Tagged {
                entity: mut counter,
                etag,
            }) = self.client.get(&self.messages, chat, COUNTER_RK).await?
            else {
                return Err(Error::NotFound(chat.to_owned()));
            };
            let seq: u64 = number(&counter, "next")?;
            counter.insert("next".into(), Value::String((seq + 1).to_string()));
            match self
                .client
                .replace(&self.messages, chat, COUNTER_RK, &counter, Some(&etag))
                .await?
            {
                Outcome::Done => {}
                Outcome::Missing => return Err(Error::NotFound(chat.to_owned())),
                Outcome::Lost => {
                    back_off(attempt).await;
                    continue;
                }
            }
            let claim = entity(chat, &idem, &[("seq", seq.to_string())]);
            match self.client.insert(&self.messages, &claim).await? {
                // Number `seq` stays unused: the resend that won answers on the next round.
                Outcome::Lost => continue,
                Outcome::Missing => return Err(Error::NotFound(chat.to_owned())),
                Outcome::Done => return self.put_message(message(seq)).await,
            }
        }
        tracing::warn!(chat_id = %chat, "gave up after {MAX_ATTEMPTS} lost ETag races");
        Err(Error::Conflict(format!("messages of {chat}")))
    }

    async fn messages(&self, chat: &str, page: Page, limit: usize) -> Result<Vec<Message>, Error> {
        if limit == 0 || limit > MAX_PAGE {
            return Err(Error::Invalid(format!("limit must be 1 to {MAX_PAGE}")));
        }
        key::check("chat id", chat)?;
        let pk = format!("PartitionKey eq {}", literal(chat));
        // Message rows are `m` + digits, so they sit between `m` and `n`, newest first.
        let filter = match page {
            Page::Latest => format!("{pk} and RowKey gt 'm' and RowKey lt 'n'"),
            Page::Before(seq) => format!(
                "{pk} and RowKey gt {} and RowKey lt 'n'",
                literal(&key::message_row(seq))
            ),
            Page::After(seq) => format!(
                "{pk} and RowKey lt {} and RowKey ge {}",
                literal(&key::message_row(seq)),
                literal(&key::message_row(seq.saturating_add(limit as u64)))
            ),
        };
        let rows = self
            .client
            .query(&self.messages, &filter, Some(limit))
            .await?;
        let mut messages = rows
            .iter()
            .map(|e| message_from(chat, e))
            .collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|m| m.seq);
        Ok(messages)
    }

    // --- Refresh-token families of the local sign-in provider ---

    async fn create_refresh_family(&self, family: &RefreshFamily) -> Result<(), Error> {
        key::check("refresh family id", &family.id)?;
        match self
            .client
            .insert(&self.users, &refresh_family_row(family))
            .await?
        {
            Outcome::Done => Ok(()),
            Outcome::Lost => Err(Error::AlreadyExists(format!(
                "refresh family {}",
                family.id
            ))),
            other => Err(Error::Backend(format!("refresh family write: {other:?}"))),
        }
    }

    async fn refresh_family(&self, id: &str) -> Result<Option<RefreshFamily>, Error> {
        key::check("refresh family id", id)?;
        self.client
            .get(&self.users, REFRESH_PK, id)
            .await?
            .map(|t| refresh_family_from(id, &t.entity))
            .transpose()
    }

    async fn advance_refresh_family(
        &self,
        id: &str,
        generation: u64,
        expires_at: i64,
    ) -> Result<bool, Error> {
        key::check("refresh family id", id)?;
        self.change_refresh_family(id, |family| {
            if family.revoked || family.generation != generation {
                return Err(false);
            }
            family.generation += 1;
            family.expires_at = expires_at;
            Ok(())
        })
        .await
    }

    async fn revoke_refresh_family(&self, id: &str) -> Result<bool, Error> {
        key::check("refresh family id", id)?;
        self.change_refresh_family(id, |family| {
            if family.revoked {
                return Err(true);
            }
            family.revoked = true;
            Ok(())
        })
        .await
    }

    // --- Paged listing of group chats ---

    async fn group_chats_page(
        &self,
        after: Option<&ChatCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, Error> {
        if limit == 0 || limit > MAX_CHATS_PAGE {
            return Err(Error::Invalid(format!(
                "limit must be 1 to {MAX_CHATS_PAGE}"
            )));
        }
        // Index rows sort between the partition's start and the `~indexed` marker.
        let from = after.map_or_else(String::new, |c| time_key(c.created_at, &c.id));
        let filter = format!(
            "PartitionKey eq {} and RowKey gt {} and RowKey lt {}",
            literal(BY_TIME_PK),
            literal(&from),
            literal(INDEXED_RK)
        );
        let rows = self.client.query(&self.chats, &filter, Some(limit)).await?;
        rows.iter()
            .map(|e| chat_from(&text(e, "chatId"), e).map(|r| r.chat))
            .collect()
    }
}

/// The partition of the group chats in listing order, in `chats`.
const BY_TIME_PK: &str = "bytime";
/// The row that says every group chat has its `bytime` row (`~` sorts after every digit).
const INDEXED_RK: &str = "~indexed";

/// The `bytime` row key of a chat: creation time shifted to be non-negative, zero-padded so the
/// string order is the numeric one, then the id.
fn time_key(created_at: i64, id: &str) -> String {
    let shifted = created_at.abs_diff(i64::MIN);
    format!("{shifted:020}:{id}")
}

/// The `bytime` row key of `chat`, if it is listed there (group chats only).
fn time_row_of(chat: &Chat) -> Option<String> {
    (chat.kind == ChatKind::Group).then(|| time_key(chat.created_at, &chat.id))
}

impl TableStore {
    /// Writes the `bytime` row of a group chat (idempotent; private chats have none).
    async fn list_by_time(&self, record: &ChatRecord) -> Result<(), Error> {
        let Some(rk) = time_row_of(&record.chat) else {
            return Ok(());
        };
        let mut props = chat_props(record);
        props.push(("chatId", record.chat.id.clone()));
        let row = entity(BY_TIME_PK, &rk, &props);
        self.client
            .replace(&self.chats, BY_TIME_PK, &rk, &row, None)
            .await
            .map(|_| ())
    }

    /// Removes a `bytime` row (a missing one is fine).
    async fn unlist(&self, row: Option<String>) -> Result<(), Error> {
        if let Some(rk) = row {
            self.client
                .delete(&self.chats, BY_TIME_PK, &rk, "*")
                .await?;
        }
        Ok(())
    }

    /// After a creation lost to an existing chat of the same id: removes the row just written,
    /// unless it is the existing chat's own (same creation time).
    async fn unlist_unless_stored(&self, record: &ChatRecord) -> Result<(), Error> {
        let stored = self.chat(&record.chat.id).await?;
        let ours = time_row_of(&record.chat);
        if stored.is_some_and(|s| time_row_of(&s.chat) == ours) {
            return Ok(());
        }
        self.unlist(ours).await
    }

    /// Gives every group chat its `bytime` row, once per store (stores made before the index).
    async fn index_group_chats_once(&self) -> Result<(), Error> {
        if self
            .client
            .get(&self.chats, BY_TIME_PK, INDEXED_RK)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let rows = self
            .client
            .query(
                &self.chats,
                &format!("PartitionKey eq {} and kind eq 'group'", literal(CHATS_PK)),
                None,
            )
            .await?;
        for row in &rows {
            self.list_by_time(&chat_from(&text(row, "RowKey"), row)?)
                .await?;
        }
        let marker = entity(BY_TIME_PK, INDEXED_RK, &[]);
        self.client
            .replace(&self.chats, BY_TIME_PK, INDEXED_RK, &marker, None)
            .await
            .map(|_| ())
    }
}
