//! The nouns of Chatr as they travel on the wire: users, chats, messages, presence.

use serde::{Deserialize, Serialize};

/// A user id: the identity provider's prefix and that provider's stable id, e.g. `github:12345` or
/// `local:6f1c…`. Always assigned by the backend from a verified token, never chosen by a client.
pub type UserId = String;
/// A chat id, assigned by the backend (group chats: random; private chats: derived from the pair).
pub type ChatId = String;

/// Whether a user is reachable.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Presence {
    /// At least one connection is open and some device had input recently.
    Online,
    /// Connected, but every active device reports no input for the idle threshold.
    Idle,
    /// No open connection.
    Offline,
}

/// A user as others see them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Provider-prefixed id.
    pub id: UserId,
    /// Display name (from the provider, or typed at local sign-in). Plain text, never HTML.
    pub name: String,
    /// The identity provider (`github`, `microsoft`, `oidc`, `local`), for the icon.
    pub provider: String,
    /// Current presence.
    pub presence: Presence,
}

/// Group chat or private (1:1) chat.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChatKind {
    /// Anyone may join; the owner may delete it.
    Group,
    /// Exactly two users, fixed at creation; nobody else can ever join.
    Private,
}

/// A chat as a member (or, for group chats, anyone) sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chat {
    /// Server-assigned id.
    pub id: ChatId,
    /// Display name. For private chats the backend names it after the other user, per viewer.
    pub name: String,
    /// Group or private.
    pub kind: ChatKind,
    /// The user who created it; only they may delete a group chat.
    pub owner: UserId,
    /// Creation time, milliseconds since the Unix epoch (server clock).
    pub created_at: i64,
}

/// A stored chat message.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The chat it belongs to.
    pub chat_id: ChatId,
    /// Position in the chat: strictly increasing, assigned by the store. Clients de-duplicate and
    /// order by it, and page history with it (`before=` / `after=`).
    pub seq: u64,
    /// The sender, stamped by the backend from the verified connection, never from the body.
    pub from: UserId,
    /// The text as typed (Markdown source; the UI renders it sanitised).
    pub text: String,
    /// Server time of storage, milliseconds since the Unix epoch.
    pub sent_at: i64,
    /// The sender's idempotency key: sending the same key twice stores one message.
    pub client_key: String,
}

/// A chat as `GET /api/chats` shows it to the caller.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatView {
    /// The chat (private chats named after the other user).
    #[serde(flatten)]
    pub chat: Chat,
    /// Whether the caller is a member.
    pub member: bool,
}

/// One page of `GET /api/chats`: the chats visible to the caller, ordered by creation time
/// then id (a chat's place never changes, so pages stay stable while chats are created).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatPage {
    /// This page's chats.
    pub chats: Vec<ChatView>,
    /// An opaque cursor: pass it as `cursor` for the next page. `null` on the last page.
    pub next: Option<String>,
}

/// The answer of `POST /api/token`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    /// The signed-in user.
    pub user: User,
    /// The Web PubSub client URL (with its access token).
    pub url: String,
    /// The REST session token.
    pub session_token: String,
    /// Seconds until the session token expires.
    pub expires_in: u64,
}
