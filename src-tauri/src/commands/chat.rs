//! Chat commands: sign in, list, create, join, send, history. Each is a thin call into
//! `chat_client`; the signed-in session lives in [`ChatState`].

use std::sync::Arc;

use chatr_protocol::client_event::ClientEvent;
use chatr_protocol::{Chat, ChatView, Message, User};
use tauri::{AppHandle, State};
use tokio::sync::{RwLock, mpsc};

use super::CommandError;
use crate::backend::Backend;
use crate::chat_client::{self, SignedIn};
use crate::ui_event::{self, UiEvent};

/// The signed-in user's session, if any. Managed as Tauri state.
#[derive(Debug, Default)]
pub struct ChatState {
    signed_in: RwLock<Option<Arc<SignedIn>>>,
}

async fn current(state: &ChatState) -> Result<Arc<SignedIn>, CommandError> {
    state.signed_in.read().await.clone().ok_or(CommandError {
        kind: "signedOut",
        message: "sign in first".into(),
    })
}

/// Signs in to the local (embedded) backend as `name`.
#[tauri::command]
pub(crate) async fn sign_in_local(
    app: AppHandle,
    backend: State<'_, Backend>,
    chat: State<'_, ChatState>,
    options: State<'_, crate::launch::LaunchOptions>,
    name: String,
) -> Result<User, CommandError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (signed, refresh) = chat_client::sign_in_local(backend.base_url(), &name, tx).await?;
    save_refresh_token(backend.base_url(), &signed.user.id, refresh);
    let user = signed.user.clone();
    let signed = Arc::new(signed);
    *chat.signed_in.write().await = Some(signed.clone());
    watch_idle(
        signed,
        options
            .idle_threshold
            .unwrap_or(crate::idle::DEFAULT_THRESHOLD),
    );
    tauri::async_runtime::spawn(async move {
        while let Some(event) = rx.recv().await {
            ui_event::emit(&app, UiEvent::from(event));
        }
    });
    Ok(user)
}

/// Tells the backend when the OS reports the user idle or back, for as long as the session lives.
fn watch_idle(signed: Arc<SignedIn>, threshold: std::time::Duration) {
    tauri::async_runtime::spawn(async move {
        let source = match crate::idle::PlatformSource::connect().await {
            Ok(source) => source,
            Err(err) => {
                tracing::info!(cause = %err, "no idle detection on this system");
                return;
            }
        };
        let policy = crate::idle::IdlePolicy::new(threshold);
        tracing::info!(source = source.name(), threshold = ?policy.threshold(), "watching idle time");
        crate::idle::watcher::watch(source, policy, move |transition| {
            let signed = signed.clone();
            async move {
                tracing::info!(?transition, "idle state changed");
                let event = match transition {
                    crate::idle::Transition::EnterIdle => ClientEvent::UserEnterIdle {},
                    crate::idle::Transition::ExitIdle => ClientEvent::UserExitIdle {},
                };
                // A closed session ends the watch; a refused request does not.
                !matches!(
                    signed.request(event).await,
                    Err(crate::chat_client::Error::Session(_))
                )
            }
        })
        .await;
    });
}

/// Keeps the refresh token in the OS keyring; a machine without one only loses silent sign-in.
/// A plain thread, not the blocking pool: a keyring that waits on an unlock prompt must never hold
/// up anything else, nor the app's exit.
fn save_refresh_token(base_url: &str, user_id: &str, token: Option<String>) {
    let Some(token) = token else { return };
    let account = crate::auth::secrets::account_key(base_url, "local", user_id);
    let spawned = std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            if let Err(err) = crate::auth::secrets::Secrets::default().save(&account, &token) {
                tracing::warn!(cause = %err, "sign-in not remembered");
            }
        });
    if let Err(err) = spawned {
        tracing::warn!(cause = %err, "sign-in not remembered");
    }
}

/// Group chats and the user's private chats.
#[tauri::command]
pub(crate) async fn list_chats(chat: State<'_, ChatState>) -> Result<Vec<ChatView>, CommandError> {
    Ok(current(&chat).await?.chats().await?)
}

/// Everyone, with presence.
#[tauri::command]
pub(crate) async fn list_users(chat: State<'_, ChatState>) -> Result<Vec<User>, CommandError> {
    Ok(current(&chat).await?.users().await?)
}

/// Creates a group chat.
#[tauri::command]
pub(crate) async fn create_chat(
    chat: State<'_, ChatState>,
    name: String,
) -> Result<Option<Chat>, CommandError> {
    Ok(current(&chat)
        .await?
        .request(ClientEvent::CreateChat { name })
        .await?
        .chat)
}

/// Joins a group chat.
#[tauri::command]
pub(crate) async fn join_chat(
    chat: State<'_, ChatState>,
    chat_id: String,
) -> Result<Option<Chat>, CommandError> {
    Ok(current(&chat)
        .await?
        .request(ClientEvent::JoinChat { chat_id })
        .await?
        .chat)
}

/// Sends a message; `client_key` makes a retry safe (the UI keeps it per pending message).
#[tauri::command]
pub(crate) async fn send_message(
    chat: State<'_, ChatState>,
    chat_id: String,
    client_key: String,
    text: String,
) -> Result<Option<Message>, CommandError> {
    let event = ClientEvent::SendMessage {
        chat_id,
        client_key,
        text,
    };
    Ok(current(&chat).await?.request(event).await?.message)
}

/// A page of history: the latest, or the page before `before`.
#[tauri::command]
pub(crate) async fn load_history(
    chat: State<'_, ChatState>,
    chat_id: String,
    before: Option<u64>,
) -> Result<Vec<Message>, CommandError> {
    Ok(current(&chat).await?.history(&chat_id, before).await?)
}
