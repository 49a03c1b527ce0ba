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

/// How long [`tokens`] keeps asking while this address has too many sign-ins waiting (many
/// sign-ins in parallel from one machine: benchmarks).
const BUSY_FOR_AT_MOST: Duration = Duration::from_secs(120);

/// The anti-forgery token in a verification page's form.
pub fn form_token(page: &str) -> Option<&str> {
    let after = page.split_once("name=\"csrf\" value=\"")?.1;
    after.split_once('"').map(|(token, _)| token)
}

/// The value of the page's cookie named `name` among `response`'s `Set-Cookie` headers.
fn cookie<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// Answers the verification page at `verification_uri` as a person would: loads the form (its
/// anti-forgery token and cookie), then approves `user_code` as `name`. The page's answer.
pub async fn approve(
    http: &reqwest::Client,
    verification_uri: &str,
    user_code: &str,
    name: &str,
) -> Result<reqwest::Response, Error> {
    let page = http
        .get(verification_uri)
        .query(&[("user_code", user_code)])
        .send()
        .await?
        .error_for_status()?;
    let nonce = cookie(&page, "chatr_verify")
        .map(str::to_owned)
        .ok_or_else(|| Error::Refused("the verification page set no cookie".into()))?;
    let html = page.text().await?;
    let token = form_token(&html)
        .ok_or_else(|| Error::Refused("the verification page has no form token".into()))?;
    Ok(http
        .post(verification_uri)
        .header(reqwest::header::COOKIE, format!("chatr_verify={nonce}"))
        .form(&[
            ("user_code", user_code),
            ("name", name),
            ("action", "approve"),
            ("csrf", token),
        ])
        .send()
        .await?)
}

/// Starts a device grant, waiting (briefly, politely) while this address has too many waiting.
async fn start(http: &reqwest::Client, backend: &str) -> Result<Value, Error> {
    let started = std::time::Instant::now();
    loop {
        let response = http
            .post(format!("{backend}/api/auth/local/device"))
            .form(&[("client_id", chatr_protocol::auth::LOCAL_CLIENT_ID)])
            .send()
            .await?;
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS
            && started.elapsed() < BUSY_FOR_AT_MOST
        {
            let jitter = rand::random_range(50..250);
            tokio::time::sleep(Duration::from_millis(jitter)).await;
            continue;
        }
        return Ok(response.error_for_status()?.json().await?);
    }
}

/// Runs the device flow for `name` and returns the provider's token response
/// (`access_token`, `refresh_token`, …).
pub async fn tokens(http: &reqwest::Client, backend: &str, name: &str) -> Result<Value, Error> {
    let grant = start(http, backend).await?;
    let field = |name: &str| grant[name].as_str().unwrap_or_default().to_owned();
    let approved = approve(http, &field("verification_uri"), &field("user_code"), name).await?;
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
