//! The local sign-in provider's endpoints (RFC 8628), on only in local mode:
//! - `POST /api/auth/local/device`: a desktop app starts a device grant;
//! - `GET|POST /api/auth/local/verify`: the page where a person types the code and a display name;
//! - `POST /api/auth/local/token`: the app polls (device code) or refreshes (refresh token);
//! - `POST /api/auth/local/revoke`: sign-out revokes the refresh token (RFC 7009).
//!
//! The tokens it hands out are exchanged at `POST /api/token` like any provider's. Grant logic lives
//! in `identity::device_grant`, limits in `identity::throttle`, refresh-token rotation in
//! `identity::refresh`; this file only speaks HTTP. User text is escaped before it reaches the page.
//!
//! Hardening: the forms refuse requests a browser marks as coming from another origin's page
//! (`host_check::from_foreign_page`); the verification page cannot be framed, loads nothing, posts
//! only to itself, and its form carries an anti-forgery token (an HMAC of a random nonce kept in a
//! `SameSite=Strict` cookie, checked on POST; stateless). Refresh tokens rotate at every use and a
//! reused one revokes its whole sign-in. Tokens are never logged.

use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::extract::{ClientIp, FormBody, OAuthForm, QueryParams};
use super::host_check::from_foreign_page;
use crate::AppState;
use crate::identity::device_grant::{ApproveError, DeviceGrants, Poll, StartError};
use crate::identity::refresh::{self, Decision};
use crate::identity::throttle::client_of;
use crate::identity::tokens::Kind;
use crate::store::{self, RefreshFamily};

/// The only client the local provider serves.
pub(crate) const CLIENT_ID: &str = chatr_protocol::auth::LOCAL_CLIENT_ID;
/// The device-code grant type (RFC 8628 §3.4).
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The provider name in user records and tokens.
const PROVIDER: &str = "local";
/// The cookie that carries the verification page's nonce.
const FORM_COOKIE: &str = "chatr_verify";
/// The path of the verification page (the cookie's scope).
const VERIFY_PATH: &str = "/api/auth/local/verify";

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

fn oauth_error_after(
    status: StatusCode,
    error: &'static str,
    description: &'static str,
    retry_after: Duration,
) -> Response {
    let mut response = oauth_error(status, error, description);
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after.as_secs().max(1)),
    );
    response
}

/// The answer to a form post that a browser says came from another site's page.
fn foreign_page() -> Response {
    oauth_error(
        StatusCode::FORBIDDEN,
        "access_denied",
        "requests from pages of other sites are refused",
    )
}

fn server_error(cause: &dyn std::fmt::Display) -> Response {
    tracing::error!(%cause, "local sign-in failed");
    oauth_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "cannot issue tokens",
    )
}

fn invalid_grant() -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the refresh token is invalid, expired or revoked",
    )
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
        (status = 403, description = "Sent by a page of another site", body = OAuthError),
        (status = 404, description = "Local sign-in is off"),
        (status = 429, description = "This address has too many sign-ins waiting", body = OAuthError),
        (status = 503, description = "Too many sign-ins are waiting overall", body = OAuthError),
    ))]
pub(crate) async fn start_device_grant(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    OAuthForm(request): OAuthForm<DeviceRequest>,
) -> Response {
    if grants(&state).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if from_foreign_page(&headers) {
        return foreign_page();
    }
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
            .start(client_of(ip), Instant::now(), &mut rand::rng())
            .map(|grant| (grant, timing))
    });
    match started {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Err(StartError::TooManyFromClient)) => oauth_error_after(
            StatusCode::TOO_MANY_REQUESTS,
            "slow_down",
            "too many sign-ins from this address are waiting; finish one or wait",
            Duration::from_secs(10),
        ),
        Some(Err(StartError::Busy)) => oauth_error_after(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "too many sign-ins are waiting",
            Duration::from_secs(60),
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
/// The checks every endpoint the app posts to makes first: local sign-in is on (else 404), the
/// request is not from a page of another site (403), and it names our one client (401).
fn refuse_client(
    state: &AppState,
    headers: &HeaderMap,
    client_id: Option<&str>,
) -> Option<Response> {
    if grants(state).is_none() {
        return Some(StatusCode::NOT_FOUND.into_response());
    }
    if from_foreign_page(headers) {
        return Some(foreign_page());
    }
    if client_id != Some(CLIENT_ID) {
        return Some(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client_id",
        ));
    }
    None
}

#[utoipa::path(post, path = "/api/auth/local/token", tag = "local sign-in",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens", body = TokenResponse),
        (status = 400, description = "authorization_pending, slow_down, expired_token, access_denied, invalid_grant…", body = OAuthError),
        (status = 401, description = "Unknown client", body = OAuthError),
        (status = 403, description = "Sent by a page of another site", body = OAuthError),
        (status = 404, description = "Local sign-in is off"),
    ))]
pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    OAuthForm(request): OAuthForm<TokenRequest>,
) -> Response {
    if let Some(refused) = refuse_client(&state, &headers, request.client_id.as_deref()) {
        return refused;
    }
    let family = match request.grant_type.as_str() {
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
                Some(Poll::Approved(user)) => match new_family(&state, user.id, user.name).await {
                    Ok(family) => family,
                    Err(err) => return server_error(&err),
                },
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
            match redeem(&state, &refresh).await {
                Ok(Some(family)) => family,
                Ok(None) => return invalid_grant(),
                Err(err) => return server_error(&err),
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
    let tokens = &state.shared().tokens;
    let access = tokens.issue(
        Kind::LocalAccess,
        &family.user_id,
        &family.name,
        PROVIDER,
        SystemTime::now(),
    );
    match access {
        Ok(access_token) => Json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: Kind::LocalAccess.lifetime().as_secs(),
            refresh_token: tokens.refresh_key().mint(&family.id, family.generation),
        })
        .into_response(),
        Err(err) => server_error(&err),
    }
}

/// Starts the refresh-token family of a sign-in just approved.
async fn new_family(
    state: &AppState,
    user_id: String,
    name: String,
) -> Result<RefreshFamily, store::Error> {
    let family = RefreshFamily {
        id: refresh::new_family_id(&mut rand::rng()),
        user_id,
        name,
        provider: PROVIDER.to_owned(),
        generation: 1,
        expires_at: refresh::expiry_from(store::now_ms()),
        revoked: false,
    };
    state.shared().store.create_refresh_family(&family).await?;
    Ok(family)
}

/// Redeems a refresh token: the family moved to its next generation (whose token to hand out),
/// or `None` to refuse. A reused token revokes its family.
async fn redeem(state: &AppState, token: &str) -> Result<Option<RefreshFamily>, store::Error> {
    let shared = state.shared();
    let store = &shared.store;
    let now = store::now_ms();
    let Some(presented) = shared.tokens.refresh_key().open(token) else {
        return redeem_legacy(state, token).await;
    };
    let family = store.refresh_family(&presented.family).await?;
    match refresh::decide(family.as_ref(), &presented, now) {
        Decision::Rotate { from } => {
            let expires_at = refresh::expiry_from(now);
            if store
                .advance_refresh_family(&presented.family, from, expires_at)
                .await?
            {
                Ok(family.map(|f| RefreshFamily {
                    generation: from + 1,
                    expires_at,
                    ..f
                }))
            } else {
                // Another request redeemed the same token at the same moment: one of the two
                // is a copy.
                reuse_detected(state, family.as_ref()).await?;
                Ok(None)
            }
        }
        // The answer to the replaced token was lost: the current token again, nothing changes.
        Decision::Repeat => Ok(family),
        Decision::Reuse => {
            reuse_detected(state, family.as_ref()).await?;
            Ok(None)
        }
        Decision::Refuse => Ok(None),
    }
}

async fn reuse_detected(
    state: &AppState,
    family: Option<&RefreshFamily>,
) -> Result<(), store::Error> {
    if let Some(family) = family {
        tracing::warn!(
            user_id = %family.user_id,
            "a refresh token was used twice: the sign-in is revoked"
        );
        state
            .shared()
            .store
            .revoke_refresh_family(&family.id)
            .await?;
    }
    Ok(())
}

/// A refresh token of the previous, stateless format (a JWT): accepted once, into a family derived
/// from the token, so using the same old token again is reuse.
async fn redeem_legacy(
    state: &AppState,
    token: &str,
) -> Result<Option<RefreshFamily>, store::Error> {
    let shared = state.shared();
    let Ok(claims) = shared.tokens.verify(Kind::LocalRefresh, token) else {
        return Ok(None);
    };
    let family = RefreshFamily {
        id: refresh::legacy_family_id(token),
        name: crate::identity::names::stored_name(&claims.name, &claims.sub),
        user_id: claims.sub,
        provider: PROVIDER.to_owned(),
        generation: 1,
        expires_at: refresh::expiry_from(store::now_ms()),
        revoked: false,
    };
    match shared.store.create_refresh_family(&family).await {
        Ok(()) => Ok(Some(family)),
        Err(store::Error::AlreadyExists(_)) => {
            let existing = shared.store.refresh_family(&family.id).await?;
            reuse_detected(state, existing.as_ref()).await?;
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// A token revocation request (RFC 7009 §2.1).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = LocalRevokeRequest)]
pub(crate) struct RevokeRequest {
    token: String,
    #[allow(dead_code)] // read by serde; every token is tried as a refresh token first anyway
    token_type_hint: Option<String>,
    client_id: Option<String>,
}

/// `POST /api/auth/local/revoke`: ends the sign-in a refresh token belongs to (RFC 7009).
#[utoipa::path(post, path = "/api/auth/local/revoke", tag = "local sign-in",
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or the token was not valid anyway (RFC 7009 §2.2)"),
        (status = 400, description = "A malformed request, or an access token (short-lived; cannot be revoked: unsupported_token_type)", body = OAuthError),
        (status = 401, description = "Unknown client", body = OAuthError),
        (status = 403, description = "Sent by a page of another site", body = OAuthError),
        (status = 404, description = "Local sign-in is off"),
    ))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    OAuthForm(request): OAuthForm<RevokeRequest>,
) -> Response {
    if let Some(refused) = refuse_client(&state, &headers, request.client_id.as_deref()) {
        return refused;
    }
    let shared = state.shared();
    let store = &shared.store;
    let outcome = if let Some(presented) = shared.tokens.refresh_key().open(&request.token) {
        store
            .revoke_refresh_family(&presented.family)
            .await
            .map(|_| ())
    } else if let Ok(claims) = shared.tokens.verify(Kind::LocalRefresh, &request.token) {
        // An old-format token: leave a revoked family in its place, so it cannot be redeemed.
        let tombstone = RefreshFamily {
            id: refresh::legacy_family_id(&request.token),
            user_id: claims.sub,
            name: String::new(),
            provider: PROVIDER.to_owned(),
            generation: 1,
            expires_at: refresh::expiry_from(store::now_ms()),
            revoked: true,
        };
        match store.create_refresh_family(&tombstone).await {
            Err(store::Error::AlreadyExists(_)) => {
                store.revoke_refresh_family(&tombstone.id).await.map(|_| ())
            }
            other => other,
        }
    } else if shared
        .tokens
        .verify(Kind::LocalAccess, &request.token)
        .is_ok()
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_token_type",
            "access tokens live one hour and cannot be revoked; revoke the refresh token",
        );
    } else {
        Ok(())
    };
    match outcome {
        Ok(()) => StatusCode::OK.into_response(),
        Err(err) => {
            tracing::error!(cause = %err, "cannot revoke a refresh token");
            oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "cannot revoke now; try again",
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

/// The verification page's form: the code, the display name, `approve` or `deny`, and the page's
/// anti-forgery token (it must match the nonce in the page's cookie).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct VerifyForm {
    user_code: String,
    name: String,
    action: String,
    csrf: Option<String>,
}

/// `GET /api/auth/local/verify`: the form.
#[utoipa::path(get, path = "/api/auth/local/verify", tag = "local sign-in", params(VerifyQuery),
    responses(
        (status = 200, description = "The verification page (sets the cookie its form needs)", content_type = "text/html", body = String),
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
        &state,
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
        (status = 403, description = "No or a wrong anti-forgery token (the form again), or sent by a page of another site",
            content((String = "text/html"), (OAuthError = "application/json"))),
        (status = 404, description = "Local sign-in is off"),
        (status = 429, description = "Too many wrong codes lately: the form again, with how long to wait", content_type = "text/html", body = String),
    ))]
pub(crate) async fn verify_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    FormBody(form): FormBody<VerifyForm>,
) -> Response {
    if grants(&state).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if from_foreign_page(&headers) {
        return with_page_headers(foreign_page());
    }
    let authentic = form_nonce(&headers).is_some_and(|nonce| {
        form.csrf
            .as_deref()
            .is_some_and(|token| state.shared().tokens.form_token_matches(&nonce, token))
    });
    if !authentic {
        return page(
            &state,
            StatusCode::FORBIDDEN,
            Some("this form has expired; please check the code and try again"),
            &form.user_code,
        );
    }
    let now = Instant::now();
    let client = client_of(ip);
    let outcome = with_grants(&state, |grants| match form.action.as_str() {
        "deny" => grants.deny(&form.user_code, client, now).map(|()| None),
        _ => grants
            .approve(&form.user_code, &form.name, client, now, &mut rand::rng())
            .map(|user| Some(user.name)),
    });
    match outcome {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Ok(Some(name))) => done_page(&format!(
            "Signed in as {}. You can close this page and go back to Chatr.",
            html_escape::encode_text(&name)
        )),
        Some(Ok(None)) => done_page("Sign-in refused. You can close this page."),
        Some(Err(err @ ApproveError::TooManyAttempts(throttled))) => {
            let mut response = page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                Some(&err.to_string()),
                &form.user_code,
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(throttled.retry_after.as_secs().max(1)),
            );
            response
        }
        Some(Err(err @ (ApproveError::UnknownCode | ApproveError::BadName(_)))) => page(
            &state,
            StatusCode::BAD_REQUEST,
            Some(&err.to_string()),
            &form.user_code,
        ),
    }
}

/// The nonce in the verification page's cookie.
fn form_nonce(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == FORM_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The verification page's `Content-Security-Policy`: nothing may load, only its own style (by
/// hash) applies, the form posts only here, and no page may frame it.
static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
});

/// Headers every answer of the verification page carries (no framing, no leaks, no caching).
fn with_page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if let Ok(csp) = HeaderValue::from_str(&CSP) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.6rem}label{display:block;margin:1rem 0 .3rem;font-weight:600}\
input{width:100%;padding:.5rem;font-size:1.1rem;box-sizing:border-box}\
button{margin:1.2rem .5rem 0 0;padding:.5rem 1.2rem;font-size:1rem}\
.error{color:#b00020}";

/// The form, with a fresh anti-forgery token and the cookie holding its nonce.
fn page(state: &AppState, status: StatusCode, error: Option<&str>, user_code: &str) -> Response {
    let shared = state.shared();
    let nonce = refresh::new_family_id(&mut rand::rng());
    let csrf = shared.tokens.form_token(&nonce);
    let secure = if shared.public_url.starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{FORM_COOKIE}={nonce}; Path={VERIFY_PATH}; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
    );
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
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button name=\"action\" value=\"approve\" type=\"submit\">Sign in</button>\
         <button name=\"action\" value=\"deny\" type=\"submit\">Cancel</button></form></body></html>",
        code = html_escape::encode_double_quoted_attribute(user_code),
    );
    let mut response = (status, Html(html)).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    with_page_headers(response)
}

fn done_page(message: &str) -> Response {
    with_page_headers(
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Chatr</title>\
             <style>{STYLE}</style></head><body><h1>Chatr</h1><p>{message}</p></body></html>"
        ))
        .into_response(),
    )
}
