//! Everything the backend remembers, behind one trait so the same chat server runs on SQLite (the
//! embedded default, and a single server) and, in the cloud, on Azure Table Storage. It owns
//! persistence and atomicity; it must never decide who may do what (that is `chat`'s job) and
//! never keep state that matters in memory: any number of backend instances share one store.
//!
//! # What is stored
//! - **Users**: id (provider-prefixed: `github:12345`, `local:<random>`), display name, provider.
//! - **Connections** (presence) and **last seen** (when the last connection closed): which Web PubSub connections each user has open, with an idle
//!   flag per connection. `add_connection` / `remove_connection` answer the user's connections
//!   *after* the change, atomically, so "this was the first connection" (one left after an add)
//!   and "that was the last" (none left after a remove) are decided by the store, not by the
//!   memory of one instance; `chat::presence::of_connections` turns the flags into
//!   online/idle/offline. Idle is persisted per connection, so a user who signs in later sees it,
//!   and a user is idle only when every device is. A disconnect touches one user's record: never
//!   any per-chat work.
//! - **Chats**: id (server-generated; private chats: derived from the pair by the caller), name,
//!   kind, owner, creation time; private chats also keep their pair of users, fixed forever.
//!   `create_chat` never overwrites: an existing id is `AlreadyExists` (the seed's bug 8), which
//!   also makes private chats get-or-create (`create_chat`, then `chat` on `AlreadyExists`).
//!   **Members** are indexed both ways (chat → users, user → chats), so "which chats is this user
//!   in" is one lookup. Concurrent joins never lose one another (SQLite: one writer; Table
//!   Storage: ETag `If-Match` with retry). `delete_chat` removes the chat, its memberships and
//!   its history together (the owner check is the caller's).
//! - **Refresh-token families** of the local sign-in provider: one per sign-in, with the
//!   generation of its one valid refresh token, its expiry and a revoked flag; advanced only by
//!   compare-and-swap, so a token is redeemed at most once (`identity::refresh`).
//! - **Messages**: per chat, numbered 1, 2, 3… by the store as they are appended (`seq`,
//!   strictly increasing per chat, never reused); a repeat of `(chat, sender, client key)` returns
//!   the original message and stores nothing. History pages are always returned **oldest first**;
//!   [`Page`] says which slice: the newest `limit`, the `limit` just before a `seq` (scrolling
//!   back, walking newest → oldest page by page) or the `limit` just after one (catching up,
//!   walking oldest → newest). `limit` is 1..=[`MAX_PAGE`].
//!
//! The domain types are the wire types of `chatr-protocol` (`Chat`, `Message`) plus the few
//! records only the store needs ([`UserRecord`], [`ChatRecord`], [`ConnectionRecord`]); all are
//! plain data without I/O.
//!
//! # Keys
//! Every id is checked by [`key::check`] in both stores: no `/ \ # ?`, no control characters,
//! not empty, at most [`key::MAX_KEY_BYTES`] (they become Table Storage keys; the seed crashed on
//! such chat ids, its bug 14). A bad id is `Invalid` and nothing is stored.
//!
//! # Implementations
//! - [`sqlite::SqliteStore`]: one WAL file (or memory), numbered migrations.
//! - [`table::TableStore`]: Azure Table Storage (or Azurite) over REST; its module doc has the
//!   table and key layout.
//! - [`contract`]: the rules above as one test suite that both run (`tests/store_*.rs`).
//!
//! Implementations must make every method atomic on its own.

pub mod contract;
pub mod key;
pub mod sqlite;
pub mod table;

use async_trait::async_trait;
use chatr_protocol::{Chat, Message};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A chat with this id already exists (creation never overwrites).
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The chat does not exist.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The request cannot be stored (bad key, bad paging).
    #[error("invalid: {0}")]
    Invalid(String),
    /// A read-modify-write kept losing to concurrent writers (ETag precondition failed on every
    /// retry); the caller may try again later.
    #[error("{0} changed concurrently too often; try again")]
    Conflict(String),
    /// The storage itself failed.
    #[error("storage failed: {0}")]
    Backend(String),
}

/// A user record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Provider-prefixed id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Provider.
    pub provider: String,
}

/// A chat with what only the store knows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRecord {
    /// The chat.
    pub chat: Chat,
    /// For private chats: the two users it was made for.
    pub pair: Option<(String, String)>,
}

/// One open connection of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    /// The Web PubSub connection id.
    pub connection_id: String,
    /// Whether this device reports idle.
    pub idle: bool,
}

/// One sign-in with the local provider: the refresh tokens it handed out, of which only the one of
/// `generation` is valid (see `identity::refresh`). Holds no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshFamily {
    /// Random id (32 hex digits).
    pub id: String,
    /// Who signed in.
    pub user_id: String,
    /// Their display name at sign-in.
    pub name: String,
    /// The provider (`local`).
    pub provider: String,
    /// The generation of the one valid refresh token.
    pub generation: u64,
    /// When it expires unless refreshed (ms since the Unix epoch).
    pub expires_at: i64,
    /// Revoked (sign-out, or reuse detected): no token of it is accepted any more.
    pub revoked: bool,
}

/// Which page of history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The newest `limit` messages.
    Latest,
    /// The `limit` messages just before `seq` (older history, scrolling up).
    Before(u64),
    /// The `limit` messages just after `seq` (catching up after a drop).
    After(u64),
}

/// The store's clock: milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The most messages one page may hold.
pub const MAX_PAGE: usize = 200;

/// The backend's state.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Creates or updates a user (name and provider as the provider says now).
    async fn upsert_user(&self, user: &UserRecord) -> Result<(), Error>;
    /// A user by id.
    async fn user(&self, id: &str) -> Result<Option<UserRecord>, Error>;
    /// Every user.
    async fn users(&self) -> Result<Vec<UserRecord>, Error>;

    /// Records an open connection (not idle); returns the user's connections after, atomically:
    /// exactly one entry means this is the user's first connection. Adding a known connection
    /// changes nothing; a connection recorded for another user is `AlreadyExists` and changes
    /// nothing (a connection belongs to one user for its whole life).
    async fn add_connection(
        &self,
        user: &str,
        connection: &str,
    ) -> Result<Vec<ConnectionRecord>, Error>;
    /// Forgets a connection; returns the user's connections after, atomically: none left means
    /// that was the user's last connection. Forgetting an unknown connection changes nothing.
    async fn remove_connection(
        &self,
        user: &str,
        connection: &str,
    ) -> Result<Vec<ConnectionRecord>, Error>;
    /// Sets (and persists) a connection's idle flag; returns the user's connections after. An
    /// unknown connection is not created.
    async fn set_idle(
        &self,
        user: &str,
        connection: &str,
        idle: bool,
    ) -> Result<Vec<ConnectionRecord>, Error>;
    /// A user's open connections.
    async fn connections(&self, user: &str) -> Result<Vec<ConnectionRecord>, Error>;
    /// The user a connection is recorded for, if it is recorded (looked up by connection id alone,
    /// so a request naming another user for it can be told apart from one that came too early).
    async fn connection_owner(&self, connection: &str) -> Result<Option<String>, Error>;
    /// Every recorded connection as `(user, connection)`, for reconciling with the hub after a
    /// restart or a hub crash (records whose `disconnected` never arrived).
    async fn all_connections(&self) -> Result<Vec<(String, ConnectionRecord)>, Error>;
    /// When the user's last connection closed (ms since the Unix epoch, the store's clock), kept
    /// across restarts; `None` if that never happened. Written by `remove_connection` in the same
    /// atomic step that removes the last connection, never for unknown users' stray events.
    async fn last_seen(&self, user: &str) -> Result<Option<i64>, Error>;

    /// Creates a chat with its first members; fails with `AlreadyExists` if the id is taken.
    async fn create_chat(&self, chat: &ChatRecord, members: &[String]) -> Result<(), Error>;
    /// A chat by id.
    async fn chat(&self, id: &str) -> Result<Option<ChatRecord>, Error>;
    /// Every group chat.
    async fn group_chats(&self) -> Result<Vec<Chat>, Error>;
    /// Deletes a chat, its members (both index directions) and its messages; `NotFound` if it
    /// does not exist. The caller checks ownership first.
    async fn delete_chat(&self, id: &str) -> Result<(), Error>;
    /// Adds a member; `false` if they already were one; `NotFound` if the chat does not exist.
    /// Concurrent adds never lose one another.
    async fn add_member(&self, chat: &str, user: &str) -> Result<bool, Error>;
    /// Removes a member; `false` if they were not one.
    async fn remove_member(&self, chat: &str, user: &str) -> Result<bool, Error>;
    /// Whether `user` is a member of `chat`.
    async fn is_member(&self, chat: &str, user: &str) -> Result<bool, Error>;
    /// The members of a chat.
    async fn members(&self, chat: &str) -> Result<Vec<String>, Error>;
    /// The chats a user is a member of.
    async fn chats_of(&self, user: &str) -> Result<Vec<ChatRecord>, Error>;

    /// Appends a message, numbering it; a repeat of `(chat, from, client_key)` returns the original.
    async fn append_message(
        &self,
        chat: &str,
        from: &str,
        text: &str,
        client_key: &str,
        sent_at: i64,
    ) -> Result<Message, Error>;
    /// The message `from` sent to `chat` with `client_key`, if it was stored (a retry of a send
    /// is answered from it before any rate limit is taken).
    async fn find_message(
        &self,
        chat: &str,
        from: &str,
        client_key: &str,
    ) -> Result<Option<Message>, Error>;
    /// A page of a chat's history, oldest first.
    async fn messages(&self, chat: &str, page: Page, limit: usize) -> Result<Vec<Message>, Error>;

    // --- Refresh-token families of the local sign-in provider (`identity::refresh`) ---

    /// Stores a new family; `AlreadyExists` if its id is taken (nothing is overwritten).
    async fn create_refresh_family(&self, family: &RefreshFamily) -> Result<(), Error>;
    /// A family by id.
    async fn refresh_family(&self, id: &str) -> Result<Option<RefreshFamily>, Error>;
    /// Compare-and-swap: if the family is at `generation` and not revoked, moves it to
    /// `generation + 1` with `expires_at` and answers `true`; otherwise changes nothing and answers
    /// `false` (of two concurrent calls with the same generation exactly one wins).
    async fn advance_refresh_family(
        &self,
        id: &str,
        generation: u64,
        expires_at: i64,
    ) -> Result<bool, Error>;
    /// Marks a family revoked (for good: it is kept, so its old tokens stay recognisable);
    /// `false` if it does not exist.
    async fn revoke_refresh_family(&self, id: &str) -> Result<bool, Error>;

    // --- Paged listing of group chats (`GET /api/chats`) ---

    /// Up to `limit` (1..=[`MAX_CHATS_PAGE`]) group chats strictly after `after`, in
    /// [`ChatCursor`] order (creation time, then id), from the start when `after` is `None`. The
    /// order is total and a chat's position never changes, so walking pages by the last chat's
    /// cursor lists every chat that existed throughout exactly once, whatever is created or
    /// deleted meanwhile. Cost is one bounded, indexed range read: never a scan of every chat.
    async fn group_chats_page(
        &self,
        after: Option<&ChatCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, Error>;
}

/// The most group chats one [`Store::group_chats_page`] call may return.
pub const MAX_CHATS_PAGE: usize = 500;

/// A position in the list of chats: chats are ordered by creation time, then id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChatCursor {
    /// The chat's creation time (ms since the Unix epoch).
    pub created_at: i64,
    /// The chat's id.
    pub id: String,
}

impl ChatCursor {
    /// The position of `chat`.
    pub fn of(chat: &Chat) -> Self {
        Self {
            created_at: chat.created_at,
            id: chat.id.clone(),
        }
    }
}
