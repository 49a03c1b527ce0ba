//! `GET /api/auth/providers`: the identity providers the app may offer on its sign-in screen,
//! with what it needs to run the device flow against each. Public: it reveals no secret, only
//! endpoints and public client ids.

use axum::Json;
use axum::extract::State;
use chatr_protocol::AuthProvider;

use crate::AppState;

/// `GET /api/auth/providers`
#[utoipa::path(get, path = "/api/auth/providers", tag = "sign-in",
    responses((status = 200, description = "The providers the app may offer", body = Vec<AuthProvider>)))]
pub(crate) async fn list(State(state): State<AppState>) -> Json<Vec<AuthProvider>> {
    let shared = state.shared();
    let local = shared
        .local_grants
        .as_ref()
        .map(|_| AuthProvider::local(&shared.public_url));
    Json(local.into_iter().chain(shared.providers.list()).collect())
}
