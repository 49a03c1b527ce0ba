//! Sign-in commands: providers, local sign-in, the device code flow, remembered accounts, silent
//! sign-in and sign-out. Each is a thin call into `chat_client` / `auth`; [`activate`] wires a new
//! session to the app (event loop, idle watch, keyring, accounts list).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chatr_protocol::client_event::ClientEvent;
use chatr_protocol::{AuthProvider, User};
use serde::Serialize;
use tauri::{AppHandle, Manager, State};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::CommandError;
use crate::accounts::Account;
use crate::auth::device_login::{self, DeviceLogin};
use crate::auth::secrets::{self, Secrets};
use crate::backend::Backend;
use crate::chat_client::{self, OnRefresh, SignedIn};
use crate::delivery::AppOutlet;
use crate::inbox::Inbox;
use crate::realtime::session::SessionEvent;
use crate::state::session::{Active, PendingLogin};
use crate::state::{Profile, SessionState};

/// A provider as the sign-in view shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProviderInfo {
    /// What to pass to `start_device_login`.
    name: String,
    /// `local`, `github`, `microsoft` or `oidc` (for the icon).
    kind: &'static str,
    /// The button's label.
    label: String,
}

fn describe(provider: &AuthProvider) -> ProviderInfo {
    let (kind, label) = match provider.name.as_str() {
        "local" => ("local", "This computer".to_owned()),
        "github" => ("github", "GitHub".to_owned()),
        "microsoft" => ("microsoft", "Microsoft".to_owned()),
        other => {
            let mut label = other.to_owned();
            if let Some(first) = label.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            ("oidc", label)
        }
    };
    ProviderInfo {
        name: provider.name.clone(),
        kind,
        label,
    }
}

/// What the device code view shows.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeviceCode {
    provider: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    /// Ms since the epoch.
    expires_at: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The providers the backend accepts.
#[tauri::command]
pub(crate) async fn list_providers(
    backend: State<'_, Backend>,
) -> Result<Vec<ProviderInfo>, CommandError> {
    let providers = chat_client::providers(backend.base_url()).await?;
    Ok(providers.iter().map(describe).collect())
}

/// Signs in to the local (embedded) backend as `name`.
#[tauri::command]
pub(crate) async fn sign_in_local(
    app: AppHandle,
    backend: State<'_, Backend>,
    name: String,
) -> Result<User, CommandError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let slot = AccountSlot::default();
    let on_refresh = keyring_saver(slot.clone());
    let signed =
        chat_client::sign_in_local_keeping(backend.base_url(), &name, on_refresh, tx).await?;
    Ok(activate(&app, signed, rx, slot).await)
}

/// Starts a device sign-in with `provider`: the code to show and where to enter it.
#[tauri::command]
pub(crate) async fn start_device_login(
    backend: State<'_, Backend>,
    session: State<'_, SessionState>,
    provider: String,
) -> Result<DeviceCode, CommandError> {
    let providers = chat_client::providers(backend.base_url()).await?;
    let Some(chosen) = providers.into_iter().find(|p| p.name == provider) else {
        return Err(CommandError {
            kind: "badRequest",
            message: format!("this server does not offer sign-in with “{provider}”"),
        });
    };
    let login = DeviceLogin::new(chosen.clone()).map_err(chat_client::Error::from)?;
    let (pending, details) = login.start().await.map_err(chat_client::Error::from)?;
    let code = DeviceCode {
        provider: chosen.name.clone(),
        user_code: pending.user_code,
        verification_uri: pending.verification_uri,
        verification_uri_complete: pending.verification_uri_complete,
        expires_at: now_ms() + pending.expires_in.as_millis() as u64,
    };
    let previous = session
        .pending_login
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .replace(PendingLogin {
            provider: chosen,
            login,
            details,
            cancel: CancellationToken::new(),
        });
    if let Some(previous) = previous {
        previous.cancel.cancel();
    }
    Ok(code)
}

/// Waits until the device sign-in started last is approved, refused, expires or is cancelled.
#[tauri::command]
pub(crate) async fn finish_device_login(
    app: AppHandle,
    backend: State<'_, Backend>,
    session: State<'_, SessionState>,
) -> Result<User, CommandError> {
    let Some(pending) = session.take_pending() else {
        return Err(CommandError {
            kind: "badRequest",
            message: "no sign-in is waiting; start one first".into(),
        });
    };
    let tokens = tokio::select! {
        tokens = pending.login.wait(&pending.details, tokio::time::sleep) => {
            tokens.map_err(chat_client::Error::from)?
        }
        () = pending.cancel.cancelled() => {
            return Err(CommandError { kind: "cancelled", message: "sign-in cancelled".into() });
        }
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let slot = AccountSlot::default();
    let on_refresh = keyring_saver(slot.clone());
    let signed = chat_client::sign_in_with_tokens(
        backend.base_url(),
        pending.provider,
        tokens,
        on_refresh,
        tx,
    )
    .await?;
    Ok(activate(&app, signed, rx, slot).await)
}

/// Cancels the device sign-in in progress, if any.
#[tauri::command]
pub(crate) fn cancel_device_login(session: State<'_, SessionState>) {
    if let Some(pending) = session
        .pending_login
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
    {
        pending.cancel.cancel();
    }
}

/// Remembered accounts on the server this run uses, most recent first.
#[tauri::command]
pub(crate) fn list_accounts(
    backend: State<'_, Backend>,
    profile: State<'_, Profile>,
) -> Vec<Account> {
    profile
        .accounts()
        .0
        .into_iter()
        .filter(|a| a.server == backend.account_server())
        .collect()
}

/// Signs in silently as a remembered account.
#[tauri::command]
pub(crate) async fn sign_in_account(
    app: AppHandle,
    backend: State<'_, Backend>,
    profile: State<'_, Profile>,
    account_id: String,
) -> Result<User, CommandError> {
    let Some(account) = profile.accounts().get(&account_id).cloned() else {
        return Err(CommandError {
            kind: "notFound",
            message: "this account is not remembered any more".into(),
        });
    };
    silent(&app, &backend, &profile, &account).await
}

/// At start: signs in silently as the last account on this server, if there is one.
#[tauri::command]
pub(crate) async fn restore_session(
    app: AppHandle,
    backend: State<'_, Backend>,
    profile: State<'_, Profile>,
    session: State<'_, SessionState>,
) -> Result<Option<User>, CommandError> {
    if let Some(active) = session.active.read().await.as_ref() {
        return Ok(Some(active.signed.user.clone()));
    }
    let Some(account) = profile
        .accounts()
        .last_on(backend.account_server())
        .cloned()
    else {
        return Ok(None);
    };
    match silent(&app, &backend, &profile, &account).await {
        Ok(user) => Ok(Some(user)),
        // Offline or the token is gone: the sign-in view explains and offers the account again.
        Err(err) => {
            tracing::info!(kind = err.kind, "no silent sign-in");
            Ok(None)
        }
    }
}

async fn silent(
    app: &AppHandle,
    backend: &Backend,
    profile: &Profile,
    account: &Account,
) -> Result<User, CommandError> {
    let token = keyring(Keyring::Load(account.id.clone())).await?;
    let Some(token) = token else {
        profile.update_accounts(|a| {
            a.forget(&account.id);
        });
        return Err(CommandError {
            kind: "signIn",
            message: "this account's sign-in was not kept; sign in again".into(),
        });
    };
    let providers = chat_client::providers(backend.base_url()).await?;
    let Some(provider) = providers.into_iter().find(|p| p.name == account.provider) else {
        return Err(CommandError {
            kind: "signIn",
            message: format!(
                "this server no longer offers sign-in with {}",
                account.provider
            ),
        });
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let slot = AccountSlot::new(Some(account.id.clone()));
    let on_refresh = keyring_saver(slot.clone());
    match chat_client::sign_in_silently(backend.base_url(), provider, &token, on_refresh, tx).await
    {
        Ok(signed) => Ok(activate(app, signed, rx, slot).await),
        Err(err) => {
            if matches!(
                err,
                chat_client::Error::SignIn(device_login::Error::Revoked)
            ) {
                // The provider refused the token: forget it, so we do not try again.
                let _ = keyring(Keyring::Delete(account.id.clone())).await;
                profile.update_accounts(|a| {
                    a.forget(&account.id);
                });
            }
            Err(err.into())
        }
    }
}

/// Signs out; `forget` also revokes the refresh token (where the provider can) and deletes it and
/// the account from this machine.
#[tauri::command]
pub(crate) async fn sign_out(
    app: AppHandle,
    profile: State<'_, Profile>,
    session: State<'_, SessionState>,
    forget: bool,
) -> Result<(), CommandError> {
    end_session(&app, &profile, &session, forget).await;
    Ok(())
}

/// Ends the active session (the command, and the tray's "Sign out").
pub(crate) async fn end_session(
    app: &AppHandle,
    profile: &Profile,
    session: &SessionState,
    forget: bool,
) {
    let Some(active) = session.active.write().await.take() else {
        return;
    };
    active.stop.cancel();
    session.set_view(|v| v.active_chat = None);
    if let Some(alerts) = app.try_state::<crate::notify::alerts::Alerts>() {
        alerts.signed_out(app);
    }
    let account_id = active.account_id.clone();
    match active.signed.sign_out(forget).await {
        Ok(true) => tracing::info!("refresh token revoked"),
        Ok(false) => {}
        Err(err) => tracing::warn!(cause = %err, "cannot revoke the refresh token"),
    }
    if forget {
        if let Err(err) = keyring(Keyring::Delete(account_id.clone())).await {
            tracing::warn!(kind = err.kind, "cannot delete the saved sign-in");
        }
        profile.update_accounts(|a| {
            a.forget(&account_id);
        });
    }
}

/// Wires a new session to the app: replaces any previous one, remembers the account (keyring +
/// list), starts its event loop and idle watch.
async fn activate(
    app: &AppHandle,
    signed: SignedIn,
    events: mpsc::UnboundedReceiver<SessionEvent>,
    slot: AccountSlot,
) -> User {
    let backend = app.state::<Backend>();
    let profile = app.state::<Profile>();
    let session = app.state::<SessionState>();
    end_session(app, &profile, &session, false).await;

    let user = signed.user.clone();
    let provider = signed.provider().name.clone();
    let account_id = secrets::account_key(backend.account_server(), &provider, &user.id);
    slot.fill(&account_id);
    if let Some(token) = signed.refresh_token() {
        save_in_keyring(account_id.clone(), token);
        profile.remember(Account {
            id: account_id.clone(),
            user_id: user.id.clone(),
            name: user.name.clone(),
            provider,
            server: backend.account_server().to_owned(),
            last_used: now_ms() as i64,
        });
    }

    let signed = Arc::new(signed);
    let inbox = Arc::new(std::sync::Mutex::new(Inbox::default()));
    let stop = CancellationToken::new();
    let idle = Arc::new(AtomicBool::new(false));
    let outlet = Arc::new(AppOutlet {
        app: app.clone(),
        signed: signed.clone(),
        idle: idle.clone(),
    });
    let run = crate::dispatch::run(signed.clone(), events, inbox.clone(), outlet);
    let until = stop.clone();
    tauri::async_runtime::spawn(async move {
        tokio::select! {
            () = run => {}
            () = until.cancelled() => {}
        }
    });
    let threshold = app
        .state::<crate::launch::LaunchOptions>()
        .idle_threshold
        .unwrap_or_else(|| Duration::from_secs(profile.settings().idle_threshold_secs));
    watch_idle(app.clone(), signed.clone(), threshold, idle, stop.clone());
    *session.active.write().await = Some(Active {
        signed,
        inbox,
        account_id,
        stop,
    });
    user
}

/// Tells the backend when the OS reports the user idle or back, for as long as the session lives.
fn watch_idle(
    app: AppHandle,
    signed: Arc<SignedIn>,
    threshold: Duration,
    idle: Arc<AtomicBool>,
    stop: CancellationToken,
) {
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
        let watch = crate::idle::watcher::watch(source, policy, move |transition| {
            let signed = signed.clone();
            let idle = idle.clone();
            let app = app.clone();
            async move {
                tracing::info!(?transition, "idle state changed");
                let (event, now_idle) = match transition {
                    crate::idle::Transition::EnterIdle => (ClientEvent::UserEnterIdle {}, true),
                    crate::idle::Transition::ExitIdle => (ClientEvent::UserExitIdle {}, false),
                };
                idle.store(now_idle, Ordering::SeqCst);
                if let Some(alerts) = app.try_state::<crate::notify::alerts::Alerts>() {
                    alerts.on_idle(&app, now_idle);
                }
                // A closed session ends the watch; a refused request does not.
                !matches!(
                    signed.request(event).await,
                    Err(chat_client::Error::Session(_))
                )
            }
        });
        tokio::select! {
            () = watch => {}
            () = stop.cancelled() => {}
        }
    });
}

/// The keyring entry of a session's account, known once the backend said who signed in.
#[derive(Debug, Clone, Default)]
struct AccountSlot(Arc<std::sync::Mutex<Option<String>>>);

impl AccountSlot {
    fn new(account: Option<String>) -> Self {
        Self(Arc::new(std::sync::Mutex::new(account)))
    }

    fn fill(&self, account: &str) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(account.to_owned());
    }

    fn get(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// A rotated refresh token goes to the keyring under the account's entry (before the account is
/// known, `activate` saves the latest token itself).
fn keyring_saver(slot: AccountSlot) -> Option<OnRefresh> {
    Some(Arc::new(move |token: &str| {
        if let Some(account) = slot.get() {
            save_in_keyring(account, token.to_owned());
        }
    }))
}

fn save_in_keyring(account: String, token: String) {
    tauri::async_runtime::spawn(async move {
        if let Err(err) = keyring(Keyring::Save(account, token)).await {
            tracing::warn!(kind = err.kind, "sign-in not remembered");
        }
    });
}

/// A keyring call (they block on D-Bus).
enum Keyring {
    Save(String, String),
    Load(String),
    Delete(String),
}

/// Runs a keyring call on a plain thread, not the blocking pool: a keyring that waits on an
/// unlock prompt must never hold up anything else, nor the app's exit. Gives up after 20 s.
async fn keyring(call: Keyring) -> Result<Option<String>, CommandError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let secrets = Secrets::default();
            let result = match call {
                Keyring::Save(account, token) => secrets.save(&account, &token).map(|()| None),
                Keyring::Load(account) => secrets.load(&account),
                Keyring::Delete(account) => secrets.delete(&account).map(|()| None),
            };
            let _ = tx.send(result);
        });
    let unavailable = |message: String| CommandError {
        kind: "keyring",
        message,
    };
    spawned.map_err(|e| unavailable(e.to_string()))?;
    match tokio::time::timeout(Duration::from_secs(20), rx).await {
        Ok(Ok(result)) => result.map_err(|e| unavailable(e.to_string())),
        Ok(Err(_)) => Err(unavailable("the keyring call failed".into())),
        Err(_) => Err(unavailable("the system keyring did not answer".into())),
    }
}
