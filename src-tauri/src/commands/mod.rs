//! Thin `#[tauri::command]`s, one module per feature. Each takes its state, calls a plain module
//! and maps errors to [`CommandError`]; logic never lives here.

pub(crate) mod app;

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
