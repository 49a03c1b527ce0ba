//! Thin `#[tauri::command]`s, one module per feature. Each takes its state, calls a plain module
//! and maps errors to [`CommandError`]; logic never lives here.

pub(crate) mod app;
pub(crate) mod chat;

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
            Error::SignIn(_) => "signIn",
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
