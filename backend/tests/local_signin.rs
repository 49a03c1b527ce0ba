//! The local sign-in provider end to end over HTTP (in-process): a device grant started, approved on
//! the verification page, redeemed and refreshed, with the RFC 8628 errors along the way.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use chatr_backend::{AppState, Config, app};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use chatr_backend::local_client::DEVICE_GRANT;

fn state() -> AppState {
    let mut config = Config::local("http://127.0.0.1:7071");
    // Let the test poll back to back without `slow_down`.
    config.grant_timing.interval = Duration::ZERO;
    AppState::new(config).unwrap()
}

async fn post_form(state: &AppState, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let body = serde_urlencoded::to_string(form).unwrap();
    let response = app(state.clone())
        .oneshot(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn get(state: &AppState, path: &str) -> (StatusCode, String) {
    let response = app(state.clone())
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

/// The claims of a JWT, read without checking it (the backend checks; the test only looks).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn start(state: &AppState) -> Value {
    let (status, body) = post_form(
        state,
        "/api/auth/local/device",
        &[("client_id", "chatr-desktop")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    json(&body)
}

#[tokio::test]
async fn a_device_grant_is_approved_on_the_page_and_redeemed() {
    let state = state();
    let grant = start(&state).await;
    assert_eq!(
        grant["verification_uri"],
        "http://127.0.0.1:7071/api/auth/local/verify"
    );
    let device_code = grant["device_code"].as_str().unwrap();
    let user_code = grant["user_code"].as_str().unwrap();

    let poll = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", device_code),
        ("client_id", "chatr-desktop"),
    ];
    let (status, body) = post_form(&state, "/api/auth/local/token", &poll).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&body)["error"], "authorization_pending");

    let (status, page) = get(
        &state,
        &format!("/api/auth/local/verify?user_code={user_code}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("value=\"{user_code}\"")));

    let (status, done) = post_form(
        &state,
        "/api/auth/local/verify",
        &[
            ("user_code", user_code),
            ("name", "<script>alert(1)</script> Ada"),
            ("action", "approve"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !done.contains("<script>"),
        "the name must be escaped: {done}"
    );
    assert!(done.contains("&lt;script&gt;"));

    let (status, body) = post_form(&state, "/api/auth/local/token", &poll).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tokens = json(&body);
    assert_eq!(tokens["token_type"], "Bearer");
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert!(access["sub"].as_str().unwrap().starts_with("local:"));
    assert_eq!(access["name"], "<script>alert(1)</script> Ada");
    assert_eq!(access["provider"], "local");

    // The grant is spent.
    let (_, body) = post_form(&state, "/api/auth/local/token", &poll).await;
    assert_eq!(json(&body)["error"], "expired_token");

    // A refresh keeps the same user.
    let (status, body) = post_form(
        &state,
        "/api/auth/local/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", "chatr-desktop"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        claims(json(&body)["access_token"].as_str().unwrap())["sub"],
        access["sub"]
    );
}

#[tokio::test]
async fn a_denied_grant_says_access_denied() {
    let state = state();
    let grant = start(&state).await;
    let (status, _) = post_form(
        &state,
        "/api/auth/local/verify",
        &[
            ("user_code", grant["user_code"].as_str().unwrap()),
            ("name", ""),
            ("action", "deny"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = post_form(
        &state,
        "/api/auth/local/token",
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", grant["device_code"].as_str().unwrap()),
            ("client_id", "chatr-desktop"),
        ],
    )
    .await;
    assert_eq!(json(&body)["error"], "access_denied");
}

#[tokio::test]
async fn polling_too_fast_is_slowed_down() {
    let state = AppState::new(Config::local("http://127.0.0.1:7071")).unwrap();
    let grant = start(&state).await;
    let poll = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", grant["device_code"].as_str().unwrap()),
        ("client_id", "chatr-desktop"),
    ];
    let (_, first) = post_form(&state, "/api/auth/local/token", &poll).await;
    assert_eq!(json(&first)["error"], "authorization_pending");
    let (_, second) = post_form(&state, "/api/auth/local/token", &poll).await;
    assert_eq!(json(&second)["error"], "slow_down");
}

#[tokio::test]
async fn bad_requests_get_oauth_errors() {
    let state = state();
    let (status, body) =
        post_form(&state, "/api/auth/local/device", &[("client_id", "evil")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json(&body)["error"], "invalid_client");

    let (status, body) = post_form(
        &state,
        "/api/auth/local/token",
        &[("grant_type", "password"), ("client_id", "chatr-desktop")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&body)["error"], "unsupported_grant_type");

    let (_, body) = post_form(
        &state,
        "/api/auth/local/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "forged.token.value"),
            ("client_id", "chatr-desktop"),
        ],
    )
    .await;
    assert_eq!(json(&body)["error"], "invalid_grant");

    let (status, page) = post_form(
        &state,
        "/api/auth/local/verify",
        &[
            ("user_code", "\"><img src=x onerror=alert(1)>"),
            ("name", "Ada"),
            ("action", "approve"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!page.contains("<img"), "the code must be escaped: {page}");
}

#[tokio::test]
async fn local_signin_is_off_unless_configured() {
    let mut config = Config::local("https://chatr.example.com");
    config.local_signin = false;
    let state = AppState::new(config).unwrap();
    let (status, _) = post_form(
        &state,
        "/api/auth/local/device",
        &[("client_id", "chatr-desktop")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&state, "/api/auth/local/verify").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
