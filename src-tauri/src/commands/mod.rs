//! Thin `#[tauri::command]`s, one module per feature. Each takes its state, calls a plain module
//! and maps errors to [`CommandError`]; logic never lives here.

//!
//! The full list, with arguments, answers and error kinds, is `src-tauri/CONTRACT.md`.

pub(crate) mod app;
pub(crate) mod auth;
pub(crate) mod chats;
pub(crate) mod settings;

use serde::Serialize;

/// The error every command returns, serialised for the UI as `{ kind, message }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CommandError {
    /// A stable, machine-readable kind the UI can branch on (`backendUnreachable`, …).
    pub kind: &'static str,
    /// A sentence for people.
    pub message: String,
}

impl From<crate::backend::Error> for CommandError {
    fn from(err: crate::backend::Error) -> Self {
        use crate::backend::Error;
        let kind = match &err {
            Error::BadServerUrl(_) => "badServerUrl",
            Error::Start(_) => "backendStart",
            Error::Unreachable { .. } => "backendUnreachable",
        };
        Self {
            kind,
            message: err.to_string(),
        }
    }
}

impl From<crate::chat_client::Error> for CommandError {
    fn from(err: crate::chat_client::Error) -> Self {
        use crate::chat_client::Error;
        let kind = match &err {
            Error::SignIn(err) => {
                use crate::auth::device_login::Error as Login;
                match err {
                    Login::Expired => "expired",
                    Login::Denied => "denied",
                    Login::Offline(_) => "offline",
                    Login::Config(_) | Login::Revoked | Login::Provider(_) => "signIn",
                }
            }
            Error::Http(_) => "offline",
            Error::Refused { code, .. } => match code {
                chatr_protocol::ErrorCode::BadRequest => "badRequest",
                chatr_protocol::ErrorCode::NotFound => "notFound",
                chatr_protocol::ErrorCode::Forbidden => "forbidden",
                chatr_protocol::ErrorCode::TooLarge => "tooLarge",
                chatr_protocol::ErrorCode::RateLimited => "rateLimited",
                chatr_protocol::ErrorCode::Internal => "internal",
            },
            Error::Session(_) => "session",
        };
        Self {
            kind,
            message: err.to_string(),
        }
    }
}
