//! `POST /api/token`: exchanges a provider's token for what the app needs to chat — the Web PubSub
//! client URL (a token whose `sub` is the verified user id, with no hub-wide roles) and a short
//! session token for this REST API. The user id comes only from the verified provider token.

use std::time::{Duration, SystemTime};

use axum::Json;
use axum::extract::State;
use chatr_protocol::TokenRequest;

use super::extract::JsonBody;
use crate::AppState;
use crate::error::ApiError;
use crate::identity::VerifiedUser;
use crate::identity::providers::Refused;
use crate::identity::tokens::Kind;
use crate::store::UserRecord;

/// How long a Web PubSub client URL is valid for connecting (an open connection outlives it).
const CLIENT_URL_TTL: Duration = Duration::from_secs(3600);

/// `POST /api/token`
#[utoipa::path(post, path = "/api/token", tag = "sign-in", request_body = TokenRequest,
    responses(
        (status = 200, description = "Signed in: the Web PubSub client URL and a session token", body = chatr_protocol::SignIn),
        (status = 400, description = "A malformed request, or an unknown or disabled provider", body = crate::error::ErrorBody),
        (status = 401, description = "The provider token is invalid or expired", body = crate::error::ErrorBody),
        (status = 502, description = "The provider could not be reached", body = crate::error::ErrorBody),
        (status = 503, description = "No Web PubSub hub is configured", body = crate::error::ErrorBody),
    ))]
pub(crate) async fn exchange(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<TokenRequest>,
) -> Result<Json<chatr_protocol::SignIn>, ApiError> {
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
    let claims = verified.map_err(|refused| match refused {
        Refused::Unknown => ApiError::BadRequest(refused.to_string()),
        Refused::Invalid => ApiError::Unauthorized(refused.to_string()),
        Refused::Unreachable => ApiError::BadGateway(refused.to_string()),
    })?;
    let hub = shared
        .hub
        .as_ref()
        .ok_or(ApiError::Unavailable("no Web PubSub hub is configured"))?;
    let record = UserRecord {
        id: claims.id.clone(),
        name: claims.name.clone(),
        provider: claims.provider.clone(),
    };
    shared.store.upsert_user(&record).await?;
    let profile = [
        ("name", claims.name.as_str()),
        ("provider", claims.provider.as_str()),
    ];
    let url = hub
        .client_url(&claims.id, &[], &profile, CLIENT_URL_TTL)
        .await
        .map_err(ApiError::internal)?;
    let session_token = shared
        .tokens
        .issue(
            Kind::Session,
            &claims.id,
            &claims.name,
            &claims.provider,
            SystemTime::now(),
        )
        .map_err(ApiError::internal)?;
    let user = crate::chat_service::user_view(shared, &claims.id).await?;
    Ok(Json(chatr_protocol::SignIn {
        user,
        url: url.to_string(),
        session_token,
        expires_in: Kind::Session.lifetime().as_secs(),
    }))
}
