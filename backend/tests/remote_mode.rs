//! The binary against a Web PubSub it does not run itself (here a standalone chatr-hub, as it would
//! be Azure): configured by connection string, it vets connections, handles events signed with
//! that key, and refuses events that are not.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod support;

use std::process::Command;
use std::time::Duration;

use chatr_hub::{HubConfig, UpstreamHandler};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const KEY: &str = "remote-mode-test-key-0123456789abcdefghij";

#[tokio::test]
async fn the_backend_serves_a_hub_it_does_not_run() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let backend = format!("http://127.0.0.1:{port}");
    let hub_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hub_addr = hub_listener.local_addr().unwrap();
    let config = HubConfig::new(KEY).with_upstream(
        "chat",
        UpstreamHandler::all_events(format!("{backend}/api/eventHandler")),
    );
    tokio::spawn(chatr_hub::serve(
        hub_listener,
        config,
        std::future::pending(),
    ));

    let (mut child, line) = support::spawn_backend(
        Command::new(env!("CARGO_BIN_EXE_chatr-backend"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--local-signin",
            ])
            .env(
                "CHATR_WEBPUBSUB_CONNECTION_STRING",
                format!("Endpoint=http://{hub_addr};AccessKey={KEY};Version=1.0;"),
            )
            .env(
                "CHATR_SESSION_SECRET",
                "a-session-secret-of-at-least-32-characters",
            )
            .env("RUST_LOG", "warn"),
    );
    assert_eq!(line, format!("chatr-backend listening on {backend}"));

    let http = reqwest::Client::new();
    let session = support::sign_in(&backend, "Remote").await;
    assert!(
        session["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("ws://{hub_addr}/client/hubs/chat?access_token="))
    );

    let mut socket = support::open_socket(&session, "json.reliable.webpubsub.azure.v1").await;
    let frame = json!({"type": "event", "event": "createChat", "ackId": 1, "dataType": "json",
                       "data": {"name": "Remote", "requestId": "r1"}});
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let mut created = None;
    while created.is_none() {
        let next = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let Message::Text(text) = next else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["data"]["chatEvent"] == "reply" {
            created = Some(frame["data"]["data"].clone());
        }
    }
    assert_eq!(created.unwrap()["status"], "ok");

    // An event signed with another key changes nothing.
    let forged = http
        .post(format!("{backend}/api/eventHandler"))
        .header("ce-type", "azure.webpubsub.user.createChat")
        .header("ce-eventname", "createChat")
        .header("ce-hub", "chat")
        .header("ce-connectionid", "c")
        .header("ce-userid", "local:x")
        .header("ce-signature", "sha256=5d4f1a0b7c8e9f")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    child.kill().unwrap();
    child.wait().unwrap();
}
