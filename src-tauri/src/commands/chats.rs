//! Chat commands: list, create, join, leave, delete, private chats, send, history, typing, and the
//! chat on screen. Each is a thin call into `chat_client` on the active session.

use std::sync::Arc;
use std::time::Duration;

use chatr_protocol::client_event::ClientEvent;
use chatr_protocol::{Chat, ChatView, Message, User};
use tauri::{AppHandle, State};

use super::CommandError;
use crate::chat_client::SignedIn;
use crate::dispatch::SharedInbox;
use crate::notify::alerts::Alerts;
use crate::state::SessionState;

/// How long `send_message` waits (offline included) before it reports `offline`. The message stays
/// queued; a retry with the same client key never duplicates it.
const SEND_PATIENCE: Duration = Duration::from_secs(30);

async fn current(state: &SessionState) -> Result<(Arc<SignedIn>, SharedInbox), CommandError> {
    state
        .active
        .read()
        .await
        .as_ref()
        .map(|a| (a.signed.clone(), a.inbox.clone()))
        .ok_or(CommandError {
            kind: "signedOut",
            message: "sign in first".into(),
        })
}

async fn signed(state: &SessionState) -> Result<Arc<SignedIn>, CommandError> {
    Ok(current(state).await?.0)
}

/// Group chats and the user's private chats.
#[tauri::command]
pub(crate) async fn list_chats(
    session: State<'_, SessionState>,
    alerts: State<'_, Alerts>,
) -> Result<Vec<ChatView>, CommandError> {
    let chats = signed(&session).await?.chats().await?;
    alerts.learn_chats(&chats);
    Ok(chats)
}

/// Everyone, with presence.
#[tauri::command]
pub(crate) async fn list_users(
    session: State<'_, SessionState>,
    alerts: State<'_, Alerts>,
) -> Result<Vec<User>, CommandError> {
    let users = signed(&session).await?.users().await?;
    alerts.learn_users(&users);
    Ok(users)
}

/// Creates a group chat. The request carries a fresh client key, so the session's resends of it
/// (after a cut or a backend restart) can never make two chats.
#[tauri::command]
pub(crate) async fn create_chat(
    session: State<'_, SessionState>,
    name: String,
) -> Result<Option<Chat>, CommandError> {
    let client_key = Some(uuid::Uuid::new_v4().to_string());
    let answer = signed(&session)
        .await?
        .request(ClientEvent::CreateChat { name, client_key })
        .await?;
    Ok(answer.chat)
}

/// Joins a group chat.
#[tauri::command]
pub(crate) async fn join_chat(
    session: State<'_, SessionState>,
    chat_id: String,
) -> Result<Option<Chat>, CommandError> {
    let answer = signed(&session)
        .await?
        .request(ClientEvent::JoinChat { chat_id })
        .await?;
    Ok(answer.chat)
}

/// Leaves a chat.
#[tauri::command]
pub(crate) async fn leave_chat(
    app: AppHandle,
    session: State<'_, SessionState>,
    alerts: State<'_, Alerts>,
    chat_id: String,
) -> Result<(), CommandError> {
    let (signed, inbox) = current(&session).await?;
    signed
        .request(ClientEvent::LeaveChat {
            chat_id: chat_id.clone(),
        })
        .await?;
    inbox
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .forget(&chat_id);
    alerts.forget_chat(&app, &chat_id);
    Ok(())
}

/// Deletes a chat (its owner only).
#[tauri::command]
pub(crate) async fn delete_chat(
    session: State<'_, SessionState>,
    chat_id: String,
) -> Result<(), CommandError> {
    signed(&session)
        .await?
        .request(ClientEvent::DeleteChat { chat_id })
        .await?;
    Ok(())
}

/// Opens (creating on first use) the private chat with `user_id`.
#[tauri::command]
pub(crate) async fn open_private_chat(
    session: State<'_, SessionState>,
    user_id: String,
) -> Result<Chat, CommandError> {
    let answer = signed(&session)
        .await?
        .request(ClientEvent::CreatePrivateChat {
            target_user_id: user_id,
        })
        .await?;
    answer.chat.ok_or(CommandError {
        kind: "internal",
        message: "the server did not say which chat it opened".into(),
    })
}

/// Sends a message; `client_key` makes a retry safe (the UI keeps it per pending message).
#[tauri::command]
pub(crate) async fn send_message(
    session: State<'_, SessionState>,
    chat_id: String,
    client_key: String,
    text: String,
) -> Result<Message, CommandError> {
    let signed = signed(&session).await?;
    let event = ClientEvent::SendMessage {
        chat_id,
        client_key,
        text,
    };
    let answer = tokio::time::timeout(SEND_PATIENCE, signed.request(event))
        .await
        .map_err(|_| CommandError {
            kind: "offline",
            message: "not sent yet: the server cannot be reached".into(),
        })??;
    answer.message.ok_or(CommandError {
        kind: "internal",
        message: "the server did not return the stored message".into(),
    })
}

/// A page of history: the latest, or the page before `before`. What it returns counts as seen.
#[tauri::command]
pub(crate) async fn load_history(
    session: State<'_, SessionState>,
    chat_id: String,
    before: Option<u64>,
) -> Result<Vec<Message>, CommandError> {
    let (signed, inbox) = current(&session).await?;
    let page = signed.history(&chat_id, before).await?;
    let seqs: Vec<u64> = page.iter().map(|m| m.seq).collect();
    inbox
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .loaded(&chat_id, &seqs);
    Ok(page)
}

/// Tells the chat's other members that the user is typing (best effort).
#[tauri::command]
pub(crate) async fn send_typing(
    session: State<'_, SessionState>,
    chat_id: String,
) -> Result<(), CommandError> {
    Ok(signed(&session).await?.typing(&chat_id).await?)
}

/// The chat on screen (`None`: none), for unread counts and notifications.
#[tauri::command]
pub(crate) fn set_active_chat(
    app: AppHandle,
    session: State<'_, SessionState>,
    alerts: State<'_, Alerts>,
    chat_id: Option<String>,
) {
    session.set_view(|view| view.active_chat = chat_id);
    alerts.on_view(&app);
}
