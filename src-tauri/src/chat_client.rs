//! The signed-in user's side of the chat: local sign-in (the device grant completed by the app
//! itself, see below), the REST calls, and the realtime session. Plain Rust, tested without a
//! window against the real local backend.
//!
//! Local sign-in: the embedded backend's provider asks for a display name on its verification
//! page. The app shows that question in its own window and submits the page's form itself, so a
//! person signing in on their own machine never needs a browser; the device grant, token polling
//! and exchange are exactly those of the remote providers.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chatr_protocol::client_event::ClientEvent;
use chatr_protocol::{ChatPage, ChatView, ErrorCode, Message, Reply, SignIn, TokenRequest, User};
use tokio::sync::mpsc;

use crate::auth::device_login::{self, DeviceLogin, Provider, Tokens};
use crate::realtime::session::{self, Renew, Session, SessionEvent};

/// Why a chat call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Signing in failed.
    #[error(transparent)]
    SignIn(#[from] device_login::Error),
    /// The backend could not be reached or answered badly.
    #[error("the server could not be reached: {0}")]
    Http(#[from] reqwest::Error),
    /// The backend refused the request.
    #[error("{message}")]
    Refused {
        /// Why, for the UI to branch on.
        code: ErrorCode,
        /// A sentence for people.
        message: String,
    },
    /// The realtime session failed.
    #[error(transparent)]
    Session(#[from] session::Error),
}

/// What a successful request gives back.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// The chat concerned, if any.
    pub chat: Option<chatr_protocol::Chat>,
    /// The stored message, for `sendMessage`.
    pub message: Option<Message>,
}

/// Called with the new refresh token whenever the provider rotates it (save it to the keyring).
pub type OnRefresh = Arc<dyn Fn(&str) + Send + Sync>;

/// What the backend accepts (`GET /api/auth/providers`).
pub async fn providers(base_url: &str) -> Result<Vec<Provider>, Error> {
    Ok(http_client()?
        .get(format!(
            "{}/api/auth/providers",
            base_url.trim_end_matches('/')
        ))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

fn http_client() -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()?)
}

/// Signs in to the local provider of the backend at `base_url` as `name` and starts the realtime
/// session, whose events go to `events`. Rotated refresh tokens are not kept anywhere: the app
/// uses [`sign_in_local_keeping`].
pub async fn sign_in_local(
    base_url: &str,
    name: &str,
    events: mpsc::UnboundedSender<SessionEvent>,
) -> Result<SignedIn, Error> {
    sign_in_local_keeping(base_url, name, None, events).await
}

/// [`sign_in_local`], with `on_refresh` called with each rotated refresh token (the local provider
/// rotates it at every refresh and refuses an old one, so the keyring must follow).
pub async fn sign_in_local_keeping(
    base_url: &str,
    name: &str,
    on_refresh: Option<OnRefresh>,
    events: mpsc::UnboundedSender<SessionEvent>,
) -> Result<SignedIn, Error> {
    let http = http_client()?;
    let provider = Provider::local(base_url);
    let login = DeviceLogin::new(provider.clone())?;
    let (pending, details) = login.start().await?;
    // Answer the verification page as the person would (load it, then submit its form).
    let response = chatr_backend::local_client::approve(
        &http,
        &pending.verification_uri,
        &pending.user_code,
        name,
    )
    .await
    .map_err(|err| match err {
        chatr_backend::local_client::Error::Http(err) => Error::Http(err),
        other => Error::Refused {
            code: ErrorCode::BadRequest,
            message: other.to_string(),
        },
    })?;
    if !response.status().is_success() {
        return Err(Error::Refused {
            code: ErrorCode::BadRequest,
            message: "please enter a name of up to 64 characters".into(),
        });
    }
    let tokens = login.wait(&details, tokio::time::sleep).await?;
    sign_in_with_tokens(base_url, provider, tokens, on_refresh, events).await
}

/// Signs in with a saved refresh token: no question asked. [`Error::SignIn`] with
/// [`device_login::Error::Revoked`] means the token is no longer valid (forget it).
pub async fn sign_in_silently(
    base_url: &str,
    provider: Provider,
    refresh_token: &str,
    on_refresh: Option<OnRefresh>,
    events: mpsc::UnboundedSender<SessionEvent>,
) -> Result<SignedIn, Error> {
    let tokens = DeviceLogin::new(provider.clone())?
        .refresh(refresh_token)
        .await?;
    if let (Some(save), Some(rotated)) = (&on_refresh, &tokens.refresh_token)
        && rotated != refresh_token
    {
        save(rotated);
    }
    sign_in_with_tokens(base_url, provider, tokens, on_refresh, events).await
}

/// Trades the provider's `tokens` for a Chatr session and starts the realtime session.
pub async fn sign_in_with_tokens(
    base_url: &str,
    provider: Provider,
    tokens: Tokens,
    on_refresh: Option<OnRefresh>,
    events: mpsc::UnboundedSender<SessionEvent>,
) -> Result<SignedIn, Error> {
    let inner = Arc::new(Inner {
        base_url: base_url.trim_end_matches('/').to_owned(),
        http: http_client()?,
        login: DeviceLogin::new(provider)?,
        tokens: Mutex::new(tokens),
        session_token: RwLock::new(String::new()),
        on_refresh,
        renewing: tokio::sync::Mutex::new(()),
    });
    let sign_in = inner.exchange().await?;
    let renewer = inner.clone();
    let renew: Renew = Arc::new(move || {
        let inner = renewer.clone();
        Box::pin(async move {
            inner
                .renew()
                .await
                .map(|s| s.url)
                .map_err(|e| e.to_string())
        })
    });
    let session = Session::start_with_renew(sign_in.url, renew, events);
    Ok(SignedIn {
        user: sign_in.user,
        inner,
        session,
    })
}

/// What a signed-in user keeps to call the backend and to sign in again without asking.
struct Inner {
    base_url: String,
    http: reqwest::Client,
    login: DeviceLogin,
    tokens: Mutex<Tokens>,
    session_token: RwLock<String>,
    on_refresh: Option<OnRefresh>,
    /// One renewal at a time (a REST 401 and a reconnect may ask together).
    renewing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("base_url", &self.base_url)
            .field("provider", &self.login.provider().name)
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn lock_tokens(&self) -> std::sync::MutexGuard<'_, Tokens> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn session_token(&self) -> String {
        self.session_token
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// `POST /api/token` with the provider's proof of who we are.
    async fn exchange(&self) -> Result<SignIn, Error> {
        let provider = self.login.provider();
        let proof = self
            .lock_tokens()
            .proof(provider.token_kind)
            .map(str::to_owned)
            .ok_or_else(|| {
                device_login::Error::Provider(format!(
                    "{} sent no {:?}",
                    provider.name, provider.token_kind
                ))
            })?;
        let response = self
            .http
            .post(format!("{}/api/token", self.base_url))
            .json(&TokenRequest {
                provider: provider.name.clone(),
                token: proof,
            })
            .send()
            .await?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            return Err(Error::SignIn(device_login::Error::Revoked));
        }
        let sign_in: SignIn = response.error_for_status()?.json().await?;
        *self
            .session_token
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = sign_in.session_token.clone();
        Ok(sign_in)
    }

    /// Fresh provider tokens (when we hold a refresh token), then a fresh Chatr session.
    async fn renew(&self) -> Result<SignIn, Error> {
        let _one = self.renewing.lock().await;
        let refresh = self.lock_tokens().refresh_token.clone();
        if let Some(refresh) = refresh {
            let fresh = self.login.refresh(&refresh).await?;
            if let (Some(save), Some(rotated)) = (&self.on_refresh, &fresh.refresh_token)
                && *rotated != refresh
            {
                save(rotated);
            }
            *self.lock_tokens() = fresh;
        }
        self.exchange().await
    }
}

/// A signed-in user with a live session.
#[derive(Debug)]
pub struct SignedIn {
    /// Who is signed in.
    pub user: User,
    inner: Arc<Inner>,
    session: Session,
}

impl SignedIn {
    /// The provider signed in with.
    pub fn provider(&self) -> &Provider {
        self.inner.login.provider()
    }

    /// The refresh token to remember for a silent sign-in next time (never write it to a file).
    pub fn refresh_token(&self) -> Option<String> {
        self.inner.lock_tokens().refresh_token.clone()
    }

    /// Signs out: closes the session and, when `revoke`, revokes the refresh token where the
    /// provider allows it (`Ok(true)`). The caller deletes the keyring entry.
    pub async fn sign_out(&self, revoke: bool) -> Result<bool, Error> {
        // A clean close when connected; offline there is nothing to close, so do not wait long.
        let _ = tokio::time::timeout(Duration::from_secs(1), self.session.close()).await;
        let refresh = self.inner.lock_tokens().refresh_token.clone();
        match (revoke, refresh) {
            (true, Some(token)) => Ok(self.inner.login.revoke(&token).await?),
            _ => Ok(false),
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let url = format!("{}{path}", self.inner.base_url);
        let send = || {
            self.inner
                .http
                .get(&url)
                .bearer_auth(self.inner.session_token())
                .send()
        };
        let mut response = send().await?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            // The session token expired: sign in again silently, once.
            self.inner.renew().await?;
            response = send().await?;
        }
        Ok(response.error_for_status()?.json().await?)
    }

    /// Group chats and the user's private chats, oldest first: every page of `GET /api/chats`,
    /// up to [`MAX_CHATS`] (past that the list is cut, with a warning in the log).
    pub async fn chats(&self) -> Result<Vec<ChatView>, Error> {
        let mut all: Vec<ChatView> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => format!("/api/chats?limit={CHAT_PAGE}"),
                Some(next) => format!("/api/chats?limit={CHAT_PAGE}&cursor={}", urlencode(next)),
            };
            let page: ChatPage = self.get(&path).await?;
            all.extend(page.chats);
            match page.next {
                Some(next) if all.len() < MAX_CHATS => cursor = Some(next),
                Some(_) => {
                    tracing::warn!(shown = MAX_CHATS, "more chats than the app lists; cut");
                    break;
                }
                None => break,
            }
        }
        all.truncate(MAX_CHATS);
        Ok(all)
    }

    /// Everyone, with presence.
    pub async fn users(&self) -> Result<Vec<User>, Error> {
        self.get("/api/users").await
    }

    /// A page of a chat's history, oldest first: the latest, or the page before `before`.
    pub async fn history(&self, chat: &str, before: Option<u64>) -> Result<Vec<Message>, Error> {
        let query = before.map_or_else(String::new, |seq| format!("&before={seq}"));
        self.get(&format!(
            "/api/chats/{}/messages?limit=50{query}",
            urlencode(chat)
        ))
        .await
    }

    /// Every message of a chat after `after`, oldest first (the gap after a fresh connection).
    pub async fn history_after(&self, chat: &str, after: u64) -> Result<Vec<Message>, Error> {
        let mut all = Vec::new();
        let mut from = after;
        loop {
            let page: Vec<Message> = self
                .get(&format!(
                    "/api/chats/{}/messages?limit={GAP_PAGE}&after={from}",
                    urlencode(chat)
                ))
                .await?;
            let full = page.len() == GAP_PAGE;
            match page.last() {
                Some(last) => from = last.seq,
                None => break,
            }
            all.extend(page);
            if !full {
                break;
            }
        }
        Ok(all)
    }

    /// Sends a chat event and waits for the backend's answer.
    pub async fn request(&self, event: ClientEvent) -> Result<Answer, Error> {
        match self.session.request(event).await? {
            Reply::Ok { chat, message, .. } => Ok(Answer { chat, message }),
            Reply::Error { code, message, .. } => Err(Error::Refused { code, message }),
        }
    }

    /// Tells the chat's other members that the user is typing (best effort: the backend checks
    /// membership and throttles; its answer is not awaited).
    pub async fn typing(&self, chat: &str) -> Result<(), Error> {
        Ok(self
            .session
            .signal(ClientEvent::Typing {
                chat_id: chat.to_owned(),
            })
            .await?)
    }
}

/// Messages per request when filling a gap (the API's maximum).
const GAP_PAGE: usize = 200;
/// Chats per request when listing them (the API's maximum).
const CHAT_PAGE: usize = 200;
/// The most chats the app lists (25 pages): more than anyone scrolls through, and a bound on what
/// a server with runaway chat creation can make the app load.
pub const MAX_CHATS: usize = 5_000;

fn urlencode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
