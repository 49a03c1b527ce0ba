//! Shared by the backend's end-to-end tests: signing a person in through the local provider's
//! RFC 8628 endpoints over HTTP, as the desktop app does.

#![allow(dead_code, clippy::unwrap_used)] // not every test binary uses every helper

use serde_json::{Value, json};

pub mod issuer;

/// The device-code grant type.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Runs the device flow for `name` (starting the grant, approving it on the verification page,
/// redeeming it) and returns the provider's token response.
pub async fn local_tokens(backend: &str, name: &str) -> Value {
    let http = reqwest::Client::new();
    let grant: Value = http
        .post(format!("{backend}/api/auth/local/device"))
        .form(&[("client_id", "chatr-desktop")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let approved = http
        .post(grant["verification_uri"].as_str().unwrap())
        .form(&[
            ("user_code", grant["user_code"].as_str().unwrap()),
            ("name", name),
            ("action", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert!(approved.status().is_success());
    let tokens: Value = http
        .post(format!("{backend}/api/auth/local/token"))
        .form(&[
            ("grant_type", DEVICE_GRANT),
            ("device_code", grant["device_code"].as_str().unwrap()),
            ("client_id", "chatr-desktop"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(tokens["access_token"].is_string(), "{tokens}");
    tokens
}

/// `POST /api/token` with a local access token: `{user, url, sessionToken, expiresIn}`.
pub async fn exchange(backend: &str, access_token: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{backend}/api/token"))
        .json(&json!({"provider": "local", "token": access_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Signs `name` in and exchanges the token.
pub async fn sign_in(backend: &str, name: &str) -> Value {
    let tokens = local_tokens(backend, name).await;
    exchange(backend, tokens["access_token"].as_str().unwrap()).await
}
