//! Everything the backend remembers, behind one trait so the same chat server runs on SQLite (the
//! embedded default, and a single server) and, in the cloud, on Azure Table Storage.
//!
//! # What is stored
//! - **Users**: id (provider-prefixed), display name, provider.
//! - **Connections**: which Web PubSub connections each user has open, and whether each reports
//!   idle. A user's presence is derived from them (see `chat::presence`), so any backend instance
//!   can answer "is this the user's last connection?" without memory of its own, and idle state
//!   survives for users who sign in later.
//! - **Chats**: id, name, kind, owner, creation time; private chats also keep their pair of users,
//!   fixed forever. **Members** per chat, indexed both ways (chat → users, user → chats), so a
//!   disconnect or a sign-in costs one lookup, never a scan of every chat.
//! - **Messages**: per chat, numbered 1, 2, 3… by the store as they are appended; the sender's
//!   idempotency key makes a resend return the original message instead of a copy.
//!
//! Implementations must make every method atomic on its own; the chat rules (who may do what) are
//! the caller's, not the store's.

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

    /// Records an open connection; returns the user's connections after.
    async fn add_connection(
        &self,
        user: &str,
        connection: &str,
    ) -> Result<Vec<ConnectionRecord>, Error>;
    /// Forgets a connection; returns the user's connections after.
    async fn remove_connection(
        &self,
        user: &str,
        connection: &str,
    ) -> Result<Vec<ConnectionRecord>, Error>;
    /// Sets a connection's idle flag; returns the user's connections after.
    async fn set_idle(
        &self,
        user: &str,
        connection: &str,
        idle: bool,
    ) -> Result<Vec<ConnectionRecord>, Error>;
    /// A user's open connections.
    async fn connections(&self, user: &str) -> Result<Vec<ConnectionRecord>, Error>;

    /// Creates a chat with its first members; fails with `AlreadyExists` if the id is taken.
    async fn create_chat(&self, chat: &ChatRecord, members: &[String]) -> Result<(), Error>;
    /// A chat by id.
    async fn chat(&self, id: &str) -> Result<Option<ChatRecord>, Error>;
    /// Every group chat.
    async fn group_chats(&self) -> Result<Vec<Chat>, Error>;
    /// Deletes a chat, its members and its messages.
    async fn delete_chat(&self, id: &str) -> Result<(), Error>;
    /// Adds a member; `false` if they already were one.
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
    /// A page of a chat's history, oldest first.
    async fn messages(&self, chat: &str, page: Page, limit: usize) -> Result<Vec<Message>, Error>;
}
