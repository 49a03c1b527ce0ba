//! A client of the local sign-in provider over HTTP: runs the RFC 8628 device flow for a display
//! name (start, approve on the verification page, redeem) and trades the token for a session, as
//! the desktop app does. For tests, benchmarks and scripts on the same machine; the server itself
//! never calls it.

use std::time::Duration;

use serde_json::{Value, json};

/// The device-code grant type.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Why signing in failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backend could not be reached or answered with an error status.
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    /// The provider refused (bad name, denied, expired).
    #[error("sign-in refused: {0}")]
    Refused(String),
}

/// Runs the device flow for `name` and returns the provider's token response
/// (`access_token`, `refresh_token`, …).
pub async fn tokens(http: &reqwest::Client, backend: &str, name: &str) -> Result<Value, Error> {
    let grant: Value = http
        .post(format!("{backend}/api/auth/local/device"))
        .form(&[("client_id", chatr_protocol::auth::LOCAL_CLIENT_ID)])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let field = |name: &str| grant[name].as_str().unwrap_or_default().to_owned();
    let approved = http
        .post(field("verification_uri"))
        .form(&[
            ("user_code", field("user_code").as_str()),
            ("name", name),
            ("action", "approve"),
        ])
        .send()
        .await?;
    if !approved.status().is_success() {
        return Err(Error::Refused(format!(
            "the name {name:?} was not accepted"
        )));
    }
    let device_code = field("device_code");
    loop {
        let answer: Value = http
            .post(format!("{backend}/api/auth/local/token"))
            .form(&[
                ("grant_type", DEVICE_GRANT),
                ("device_code", device_code.as_str()),
                ("client_id", chatr_protocol::auth::LOCAL_CLIENT_ID),
            ])
            .send()
            .await?
            .json()
            .await?;
        match answer["error"].as_str() {
            None => return Ok(answer),
            Some("authorization_pending" | "slow_down") => {
                let interval = grant["interval"].as_u64().unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(interval)).await;
            }
            Some(other) => return Err(Error::Refused(other.to_owned())),
        }
    }
}

/// `POST /api/token` with a local access token: `{user, url, sessionToken, expiresIn}`.
pub async fn exchange(
    http: &reqwest::Client,
    backend: &str,
    access_token: &str,
) -> Result<Value, Error> {
    Ok(http
        .post(format!("{backend}/api/token"))
        .json(&json!({"provider": "local", "token": access_token}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// Signs `name` in and exchanges the token: the session the app would get.
pub async fn sign_in(http: &reqwest::Client, backend: &str, name: &str) -> Result<Value, Error> {
    let tokens = tokens(http, backend, name).await?;
    exchange(
        http,
        backend,
        tokens["access_token"].as_str().unwrap_or_default(),
    )
    .await
}
