//! Request extractors whose rejections are answers the API documents: a malformed JSON body,
//! query or form gets `400` with `{"error": "…"}` (OAuth endpoints: `{"error": "invalid_request",
//! "error_description": "…"}`, RFC 6749 §5.2) instead of axum's plain-text 415/422. Also the
//! caller's address ([`ClientIp`]), for per-client limits.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Json;
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// A malformed request to the chat API: [`ApiError::BadRequest`] with axum's explanation.
#[derive(Debug)]
pub(crate) struct BadRequest(String);

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        ApiError::BadRequest(self.0).into_response()
    }
}

impl From<JsonRejection> for BadRequest {
    fn from(rejection: JsonRejection) -> Self {
        Self(rejection.body_text())
    }
}

impl From<QueryRejection> for BadRequest {
    fn from(rejection: QueryRejection) -> Self {
        Self(rejection.body_text())
    }
}

impl From<FormRejection> for BadRequest {
    fn from(rejection: FormRejection) -> Self {
        Self(rejection.body_text())
    }
}

/// A bad request to an OAuth endpoint.
#[derive(Debug)]
pub(crate) struct InvalidRequest(String);

impl IntoResponse for InvalidRequest {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({
                "error": "invalid_request",
                "error_description": self.0,
            })),
        )
            .into_response()
    }
}

impl From<FormRejection> for InvalidRequest {
    fn from(rejection: FormRejection) -> Self {
        Self(rejection.body_text())
    }
}

/// A JSON body, or 400.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(BadRequest))]
pub(crate) struct JsonBody<T>(pub T);

/// A query string, or 400.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(BadRequest))]
pub(crate) struct QueryParams<T>(pub T);

/// A form body, or 400.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Form), rejection(BadRequest))]
pub(crate) struct FormBody<T>(pub T);

/// A form body of an OAuth endpoint, or 400 `invalid_request`.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Form), rejection(InvalidRequest))]
pub(crate) struct OAuthForm<T>(pub T);

/// The peer's IP address (limits are kept per client). `0.0.0.0` when the app is driven without
/// connection info (in-process tests): every such request then counts as one client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip()),
        ))
    }
}
