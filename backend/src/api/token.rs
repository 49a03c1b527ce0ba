//! `POST /api/token`: exchanges a provider's token for what the app needs to chat — the Web PubSub
//! client URL (a token whose `sub` is the verified user id, with no hub-wide roles) and a short
//! session token for this REST API. The user id comes only from the verified provider token.

use std::time::{Duration, SystemTime};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chatr_protocol::TokenRequest;

use super::extract::JsonBody;
use crate::AppState;
use crate::identity::VerifiedUser;
use crate::identity::providers::Refused;
use crate::identity::tokens::Kind;
use crate::store::UserRecord;

/// How long a Web PubSub client URL is valid for connecting (an open connection outlives it).
const CLIENT_URL_TTL: Duration = Duration::from_secs(3600);

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// `POST /api/token`
#[utoipa::path(post, path = "/api/token", tag = "sign-in", request_body = TokenRequest,
    responses(
        (status = 200, description = "Signed in: the Web PubSub client URL and a session token", body = chatr_protocol::SignIn),
        (status = 400, description = "A malformed request, or an unknown or disabled provider", body = super::openapi::ApiError),
        (status = 401, description = "The provider token is invalid or expired", body = super::openapi::ApiError),
        (status = 502, description = "The provider could not be reached", body = super::openapi::ApiError),
        (status = 503, description = "No Web PubSub hub is configured", body = super::openapi::ApiError),
    ))]
pub(crate) async fn exchange(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<TokenRequest>,
) -> Response {
    let shared = state.shared();
    let verified = match request.provider.as_str() {
        "local" if shared.local_grants.is_some() => shared
            .tokens
            .verify(Kind::LocalAccess, &request.token)
            .map(|claims| VerifiedUser {
                id: claims.sub,
                name: claims.name,
                provider: claims.provider,
            })
            .map_err(|_| Refused::Invalid),
        "local" => Err(Refused::Unknown),
        name => shared.providers.verify(name, &request.token).await,
    };
    let claims = match verified {
        Ok(user) => user,
        Err(refused) => {
            let status = match refused {
                Refused::Unknown => StatusCode::BAD_REQUEST,
                Refused::Invalid => StatusCode::UNAUTHORIZED,
                Refused::Unreachable => StatusCode::BAD_GATEWAY,
            };
            return refuse(status, &refused.to_string());
        }
    };
    let Some(hub) = &shared.hub else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "no Web PubSub hub is configured",
        );
    };
    let record = UserRecord {
        id: claims.id.clone(),
        name: claims.name.clone(),
        provider: claims.provider.clone(),
    };
    if let Err(err) = shared.store.upsert_user(&record).await {
        tracing::error!(cause = %err, "cannot store the user");
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot sign in right now",
        );
    }
    let profile = [
        ("name", claims.name.as_str()),
        ("provider", claims.provider.as_str()),
    ];
    let url = match hub
        .client_url(&claims.id, &[], &profile, CLIENT_URL_TTL)
        .await
    {
        Ok(url) => url,
        Err(err) => {
            tracing::error!(cause = %err, "cannot mint a client URL");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot sign in right now",
            );
        }
    };
    let session = shared.tokens.issue(
        Kind::Session,
        &claims.id,
        &claims.name,
        &claims.provider,
        SystemTime::now(),
    );
    let Ok(session_token) = session else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot sign in right now",
        );
    };
    let user = match crate::chat_service::user_view(shared, &claims.id).await {
        Ok(user) => user,
        Err(_) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot sign in right now",
            );
        }
    };
    Json(chatr_protocol::SignIn {
        user,
        url: url.to_string(),
        session_token,
        expires_in: Kind::Session.lifetime().as_secs(),
    })
    .into_response()
}
