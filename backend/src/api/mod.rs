//! The REST API under `/api`: one module per resource, assembled into one router here.

mod chats;
mod extract;
mod health;
pub(crate) mod host_check;
mod local_signin;
mod openapi;
mod providers;
mod session;
mod token;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

/// All REST routes, still waiting for their state.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health::get_health))
        .route("/api/openapi.json", get(openapi::get_document))
        .route(
            chatr_protocol::webhook::EVENT_HANDLER_PATH,
            post(crate::events::handler::event_handler)
                .options(crate::events::handler::event_handler),
        )
        .route("/api/token", post(token::exchange))
        .route("/api/me", get(chats::me))
        .route("/api/users", get(chats::users))
        .route("/api/chats", get(chats::chats))
        .route("/api/chats/{id}/members", get(chats::members))
        .route("/api/chats/{id}/messages", get(chats::messages))
        .route("/api/auth/providers", get(providers::list))
        .route(
            "/api/auth/local/device",
            post(local_signin::start_device_grant),
        )
        .route("/api/auth/local/token", post(local_signin::token))
        .route("/api/auth/local/revoke", post(local_signin::revoke))
        .route(
            "/api/auth/local/verify",
            get(local_signin::verify_page).post(local_signin::verify_submit),
        )
}
