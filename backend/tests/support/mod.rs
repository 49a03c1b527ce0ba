//! Shared by the backend's end-to-end tests: signing a person in through the local provider's
//! RFC 8628 endpoints over HTTP, as the desktop app does.

#![allow(dead_code, clippy::unwrap_used)] // not every test binary uses every helper

use serde_json::Value;

pub mod faults;
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

/// Starts `command` (a `chatr-backend serve …`) with stdout piped and returns the process and the
/// first line it prints, which names the URL it listens on.
pub fn spawn_backend(command: &mut std::process::Command) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_owned())
}

/// The URL at the end of the backend's first line (`chatr-backend listening on <url>`).
pub fn url_of(line: &str) -> String {
    line.rsplit(' ').next().unwrap().to_owned()
}

/// A WebSocket to the client URL of `session` (from `POST /api/token`), offering `subprotocol`.
pub async fn open_socket(
    session: &Value,
    subprotocol: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = session["url"]
        .as_str()
        .unwrap()
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", subprotocol.parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}
