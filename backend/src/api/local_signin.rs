//! The local sign-in provider's endpoints (RFC 8628), on only in local mode:
//! - `POST /api/auth/local/device`: a desktop app starts a device grant;
//! - `GET|POST /api/auth/local/verify`: the page where a person types the code and a display name;
//! - `POST /api/auth/local/token`: the app polls (device code) or refreshes (refresh token).
//!
//! The tokens it hands out are exchanged at `POST /api/token` like any provider's. Grant logic lives
//! in `identity::device_grant`; this file only speaks HTTP. User text is escaped before it reaches
//! the page.

use std::time::{Instant, SystemTime};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::extract::{FormBody, OAuthForm, QueryParams};
use crate::AppState;
use crate::identity::device_grant::{ApproveError, DeviceGrants, Poll, StartError};
use crate::identity::tokens::Kind;

/// The only client the local provider serves.
pub(crate) const CLIENT_ID: &str = chatr_protocol::auth::LOCAL_CLIENT_ID;
/// The device-code grant type (RFC 8628 §3.4).
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The provider name in user records and tokens.
const PROVIDER: &str = "local";

/// A device authorization request (RFC 8628 §3.1).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = LocalDeviceRequest)]
pub(crate) struct DeviceRequest {
    client_id: String,
}

/// A device authorization response (RFC 8628 §3.2).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LocalDeviceResponse)]
pub(crate) struct DeviceResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: u64,
    interval: u64,
}

/// A token request: the device code grant (RFC 8628 §3.4) or a refresh (RFC 6749 §6).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = LocalTokenRequest)]
pub(crate) struct TokenRequest {
    grant_type: String,
    client_id: Option<String>,
    device_code: Option<String>,
    refresh_token: Option<String>,
}

/// A token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LocalTokenResponse)]
pub(crate) struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: String,
}

/// An OAuth error response (RFC 6749 §5.2 / RFC 8628 §3.5).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OAuthError {
    error: &'static str,
    error_description: &'static str,
}

fn oauth_error(status: StatusCode, error: &'static str, description: &'static str) -> Response {
    (
        status,
        Json(OAuthError {
            error,
            error_description: description,
        }),
    )
        .into_response()
}

fn grants(state: &AppState) -> Option<&std::sync::Mutex<DeviceGrants>> {
    state.shared().local_grants.as_ref()
}

fn with_grants<T>(state: &AppState, f: impl FnOnce(&mut DeviceGrants) -> T) -> Option<T> {
    let mutex = grants(state)?;
    // A panic while holding the lock cannot leave grants half-changed in a harmful way: recover.
    let mut guard = mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Some(f(&mut guard))
}

/// `POST /api/auth/local/device`
#[utoipa::path(post, path = "/api/auth/local/device", tag = "local sign-in",
    request_body(content = DeviceRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A device code and the code to show", body = DeviceResponse),
        (status = 400, description = "A malformed request", body = OAuthError),
        (status = 401, description = "Unknown client", body = OAuthError),
        (status = 404, description = "Local sign-in is off"),
    ))]
pub(crate) async fn start_device_grant(
    State(state): State<AppState>,
    OAuthForm(request): OAuthForm<DeviceRequest>,
) -> Response {
    if request.client_id != CLIENT_ID {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client_id",
        );
    }
    let started = with_grants(&state, |grants| {
        let timing = grants.timing();
        grants
            .start(Instant::now(), &mut rand::rng())
            .map(|grant| (grant, timing))
    });
    match started {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Err(StartError::Busy)) => oauth_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "too many sign-ins are waiting",
        ),
        Some(Ok((grant, timing))) => {
            let verification_uri = format!("{}/api/auth/local/verify", state.shared().public_url);
            Json(DeviceResponse {
                verification_uri_complete: format!(
                    "{verification_uri}?user_code={}",
                    grant.user_code
                ),
                verification_uri,
                device_code: grant.device_code,
                user_code: grant.user_code,
                expires_in: timing.expires_in.as_secs(),
                interval: timing.interval.as_secs(),
            })
            .into_response()
        }
    }
}

/// `POST /api/auth/local/token`
#[utoipa::path(post, path = "/api/auth/local/token", tag = "local sign-in",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens", body = TokenResponse),
        (status = 400, description = "authorization_pending, slow_down, expired_token, access_denied, invalid_grant…", body = OAuthError),
        (status = 401, description = "Unknown client", body = OAuthError),
        (status = 404, description = "Local sign-in is off"),
    ))]
pub(crate) async fn token(
    State(state): State<AppState>,
    OAuthForm(request): OAuthForm<TokenRequest>,
) -> Response {
    if grants(&state).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if request.client_id.as_deref() != Some(CLIENT_ID) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client_id",
        );
    }
    let tokens = &state.shared().tokens;
    let (user_id, name) = match request.grant_type.as_str() {
        DEVICE_CODE_GRANT => {
            let Some(device_code) = request.device_code else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "device_code is missing",
                );
            };
            let poll = with_grants(&state, |grants| grants.poll(&device_code, Instant::now()));
            match poll {
                Some(Poll::Approved(user)) => (user.id, user.name),
                Some(Poll::Pending) => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "authorization_pending",
                        "waiting for approval",
                    );
                }
                Some(Poll::SlowDown) => {
                    return oauth_error(StatusCode::BAD_REQUEST, "slow_down", "polling too fast");
                }
                Some(Poll::Denied) => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "access_denied",
                        "the sign-in was refused",
                    );
                }
                Some(Poll::Expired) | None => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "expired_token",
                        "the code has expired",
                    );
                }
            }
        }
        "refresh_token" => {
            let Some(refresh) = request.refresh_token else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "refresh_token is missing",
                );
            };
            match tokens.verify(Kind::LocalRefresh, &refresh) {
                Ok(claims) => (claims.sub, claims.name),
                Err(_) => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "the refresh token is invalid or expired",
                    );
                }
            }
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "use the device code or refresh token grant",
            );
        }
    };
    let now = SystemTime::now();
    let issued = tokens
        .issue(Kind::LocalAccess, &user_id, &name, PROVIDER, now)
        .and_then(|access| {
            tokens
                .issue(Kind::LocalRefresh, &user_id, &name, PROVIDER, now)
                .map(|refresh| (access, refresh))
        });
    match issued {
        Ok((access_token, refresh_token)) => Json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: Kind::LocalAccess.lifetime().as_secs(),
            refresh_token,
        })
        .into_response(),
        Err(err) => {
            tracing::error!(cause = %err, "cannot sign local tokens");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "cannot issue tokens",
            )
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct VerifyQuery {
    /// The code to fill in.
    user_code: Option<String>,
}

/// The verification page's form: the code, the display name, and `approve` or `deny`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct VerifyForm {
    user_code: String,
    name: String,
    action: String,
}

/// `GET /api/auth/local/verify`: the form.
#[utoipa::path(get, path = "/api/auth/local/verify", tag = "local sign-in", params(VerifyQuery),
    responses(
        (status = 200, description = "The verification page", content_type = "text/html", body = String),
        (status = 400, description = "A malformed query", body = crate::error::ErrorBody),
        (status = 404, description = "Local sign-in is off"),
    ))]
pub(crate) async fn verify_page(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<VerifyQuery>,
) -> Response {
    if grants(&state).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    page(
        StatusCode::OK,
        None,
        query.user_code.as_deref().unwrap_or(""),
    )
}

/// `POST /api/auth/local/verify`: approve or deny.
#[utoipa::path(post, path = "/api/auth/local/verify", tag = "local sign-in",
    request_body(content = VerifyForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Approved or refused", content_type = "text/html", body = String),
        (status = 400, description = "Unknown code or unusable name: the form again; a malformed form: a JSON error",
            content((String = "text/html"), (crate::error::ErrorBody = "application/json"))),
        (status = 404, description = "Local sign-in is off"),
    ))]
pub(crate) async fn verify_submit(
    State(state): State<AppState>,
    FormBody(form): FormBody<VerifyForm>,
) -> Response {
    let now = Instant::now();
    let outcome = with_grants(&state, |grants| match form.action.as_str() {
        "deny" => grants.deny(&form.user_code, now).map(|()| None),
        _ => grants
            .approve(&form.user_code, &form.name, now, &mut rand::rng())
            .map(|user| Some(user.name)),
    });
    match outcome {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Ok(Some(name))) => done_page(&format!(
            "Signed in as {}. You can close this page and go back to Chatr.",
            html_escape::encode_text(&name)
        )),
        Some(Ok(None)) => done_page("Sign-in refused. You can close this page."),
        Some(Err(err @ (ApproveError::UnknownCode | ApproveError::BadName(_)))) => page(
            StatusCode::BAD_REQUEST,
            Some(&err.to_string()),
            &form.user_code,
        ),
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.6rem}label{display:block;margin:1rem 0 .3rem;font-weight:600}\
input{width:100%;padding:.5rem;font-size:1.1rem;box-sizing:border-box}\
button{margin:1.2rem .5rem 0 0;padding:.5rem 1.2rem;font-size:1rem}\
.error{color:#b00020}";

fn page(status: StatusCode, error: Option<&str>, user_code: &str) -> Response {
    let error = error
        .map(|e| {
            format!(
                "<p class=\"error\" role=\"alert\">{}</p>",
                html_escape::encode_text(e)
            )
        })
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in to Chatr</title>\
         <style>{STYLE}</style></head><body><h1>Sign in to Chatr</h1>\
         <p>Enter the code shown in the Chatr app and the name others will see.</p>{error}\
         <form method=\"post\"><label for=\"user_code\">Code</label>\
         <input id=\"user_code\" name=\"user_code\" required autocomplete=\"off\" value=\"{code}\">\
         <label for=\"name\">Your name</label>\
         <input id=\"name\" name=\"name\" maxlength=\"64\" placeholder=\"John Smith\" autofocus>\
         <button name=\"action\" value=\"approve\" type=\"submit\">Sign in</button>\
         <button name=\"action\" value=\"deny\" type=\"submit\">Cancel</button></form></body></html>",
        code = html_escape::encode_double_quoted_attribute(user_code),
    );
    (status, Html(html)).into_response()
}

fn done_page(message: &str) -> Response {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Chatr</title>\
         <style>{STYLE}</style></head><body><h1>Chatr</h1><p>{message}</p></body></html>"
    ))
    .into_response()
}
