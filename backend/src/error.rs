//! How the REST API fails: one error type for every chat route, answered as `{"error": "…"}`
//! with its status, and the one place that turns internal causes into "something went wrong" (the
//! cause is logged, never sent). The OAuth endpoints of the local provider answer in RFC 6749's
//! own shape instead (`api/local_signin.rs`); the webhook answers Web PubSub (`events/`).

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The wire shape of every chat API error (also its OpenAPI schema, named `ApiError` there).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = ApiError)]
pub(crate) struct ErrorBody {
    /// What went wrong, for people.
    pub error: String,
}

/// A REST request that failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// 400: malformed, or a field is invalid.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials (a session token, or the provider's token).
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the caller may not see this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 404: no such thing.
    #[error("{0}")]
    NotFound(&'static str),
    /// 502: a service we depend on (an identity provider) could not be reached.
    #[error("{0}")]
    BadGateway(String),
    /// 503: the backend is not configured for this (no hub).
    #[error("{0}")]
    Unavailable(&'static str),
    /// 500: our fault; the cause is logged, the caller reads a generic sentence.
    #[error("something went wrong")]
    Internal(String),
}

impl ApiError {
    /// An internal failure with its cause (logged when answered).
    pub(crate) fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<crate::store::Error> for ApiError {
    fn from(err: crate::store::Error) -> Self {
        Self::internal(err)
    }
}

impl From<crate::chat_service::Refusal> for ApiError {
    fn from(refusal: crate::chat_service::Refusal) -> Self {
        Self::internal(format!("{refusal:?}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let status = self.status();
        let body = Json(ErrorBody {
            error: self.to_string(),
        });
        if status == StatusCode::UNAUTHORIZED {
            (status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response()
        } else {
            (status, body).into_response()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    async fn answer(err: ApiError) -> (StatusCode, serde_json::Value, Option<String>) {
        let response = err.into_response();
        let status = response.status();
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap(), challenge)
    }

    #[tokio::test]
    async fn internal_causes_are_never_sent() {
        let (status, body, _) = answer(ApiError::internal("disk /var/db full")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body, serde_json::json!({ "error": "something went wrong" }));
    }

    #[tokio::test]
    async fn refusals_say_why_with_their_status() {
        let (status, body, _) = answer(ApiError::Forbidden("not yours")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"], "not yours");
        let (status, _, challenge) = answer(ApiError::Unauthorized("sign in".into())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(challenge.as_deref(), Some("Bearer"));
    }
}
