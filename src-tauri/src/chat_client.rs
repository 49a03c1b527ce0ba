//! The signed-in user's side of the chat: local sign-in (the device grant completed by the app
//! itself, see below), the REST calls, and the realtime session. Plain Rust, tested without a
//! window against the real local backend.
//!
//! Local sign-in: the embedded backend's provider asks for a display name on its verification
//! page. The app shows that question in its own window and submits the page's form itself, so a
//! person signing in on their own machine never needs a browser; the device grant, token polling
//! and exchange are exactly those of the remote providers.

use std::time::Duration;

use chatr_protocol::client_event::ClientEvent;
use chatr_protocol::{ChatView, ErrorCode, Message, Reply, SignIn, User};
use tokio::sync::mpsc;

use crate::auth::device_login::{self, DeviceLogin, Provider};
use crate::realtime::session::{self, Session, SessionEvent};

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

/// A signed-in user with a live session.
#[derive(Debug)]
pub struct SignedIn {
    /// Who is signed in.
    pub user: User,
    base_url: String,
    session_token: String,
    http: reqwest::Client,
    session: Session,
}

/// Signs in to the local provider of the backend at `base_url` as `name`, exchanges the token and
/// starts the realtime session, whose events go to `events`. Returns the refresh token too.
pub async fn sign_in_local(
    base_url: &str,
    name: &str,
    events: mpsc::UnboundedSender<SessionEvent>,
) -> Result<(SignedIn, Option<String>), Error> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()?;
    let login = DeviceLogin::new(Provider::local(base_url))?;
    let (pending, details) = login.start().await?;
    // Answer the verification page as the person would.
    let response = http
        .post(&pending.verification_uri)
        .form(&[
            ("user_code", pending.user_code.as_str()),
            ("name", name),
            ("action", "approve"),
        ])
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(Error::Refused {
            code: ErrorCode::BadRequest,
            message: "please enter a name of up to 64 characters".into(),
        });
    }
    let tokens = login.wait(&details, tokio::time::sleep).await?;
    let signed = exchange(&http, base_url, "local", &tokens.access_token, events).await?;
    Ok((signed, tokens.refresh_token))
}

async fn exchange(
    http: &reqwest::Client,
    base_url: &str,
    provider: &str,
    token: &str,
    events: mpsc::UnboundedSender<SessionEvent>,
) -> Result<SignedIn, Error> {
    let response = http
        .post(format!("{base_url}/api/token"))
        .json(&serde_json::json!({ "provider": provider, "token": token }))
        .send()
        .await?
        .error_for_status()?;
    let sign_in: SignIn = response.json().await?;
    let session = Session::start(sign_in.url, events);
    Ok(SignedIn {
        user: sign_in.user,
        base_url: base_url.trim_end_matches('/').to_owned(),
        session_token: sign_in.session_token,
        http: http.clone(),
        session,
    })
}

impl SignedIn {
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        Ok(self
            .http
            .get(format!("{}{path}", self.base_url))
            .bearer_auth(&self.session_token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// Group chats and the user's private chats.
    pub async fn chats(&self) -> Result<Vec<ChatView>, Error> {
        self.get("/api/chats").await
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

    /// Sends a chat event and waits for the backend's answer.
    pub async fn request(&self, event: ClientEvent) -> Result<Answer, Error> {
        match self.session.request(event).await? {
            Reply::Ok { chat, message, .. } => Ok(Answer { chat, message }),
            Reply::Error { code, message, .. } => Err(Error::Refused { code, message }),
        }
    }
}

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
