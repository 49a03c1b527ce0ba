//! Shared by the backend's end-to-end tests: signing a person in through the local provider's
//! RFC 8628 endpoints over HTTP, as the desktop app does.

#![allow(dead_code, clippy::unwrap_used)] // not every test binary uses every helper

use serde_json::Value;

pub mod issuer;

/// Runs the device flow for `name` (starting the grant, approving it on the verification page,
/// redeeming it) and returns the provider's token response.
pub async fn local_tokens(backend: &str, name: &str) -> Value {
    let tokens = chatr_backend::local_client::tokens(&reqwest::Client::new(), backend, name)
        .await
        .unwrap();
    assert!(tokens["access_token"].is_string(), "{tokens}");
    tokens
}

/// `POST /api/token` with a local access token: `{user, url, sessionToken, expiresIn}`.
pub async fn exchange(backend: &str, access_token: &str) -> Value {
    chatr_backend::local_client::exchange(&reqwest::Client::new(), backend, access_token)
        .await
        .unwrap()
}

/// Signs `name` in and exchanges the token.
pub async fn sign_in(backend: &str, name: &str) -> Value {
    let tokens = local_tokens(backend, name).await;
    exchange(backend, tokens["access_token"].as_str().unwrap()).await
}
