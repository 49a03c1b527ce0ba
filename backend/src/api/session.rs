//! The `Session` extractor: every REST route but health, sign-in and token exchange takes one, so
//! a handler cannot forget to check who is calling. The user comes from a backend session token
//! (`Authorization: Bearer`), never from the request's query or body.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;
use crate::identity::tokens::Kind;

/// The verified caller.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Provider-prefixed user id.
    pub(crate) user_id: String,
}

/// A refused request: [`ApiError::Unauthorized`].
#[derive(Debug)]
pub(crate) struct Unauthorized;

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        ApiError::Unauthorized("sign in first: a valid session token is required".into())
            .into_response()
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Unauthorized;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or(Unauthorized)?;
        let claims = state
            .shared()
            .tokens
            .verify(Kind::Session, token.trim())
            .map_err(|_| Unauthorized)?;
        Ok(Self {
            user_id: claims.sub,
        })
    }
}
