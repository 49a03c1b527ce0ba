//! No acknowledged message is lost: the backend process (hub and backend in local mode, SQLite on
//! disk) is killed with SIGKILL while a client sends, then started again on the same database;
//! every message whose reply said "stored" is in the history, exactly once.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod support;

use std::process::{Child, Command};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn start(database: &std::path::Path) -> (Child, String) {
    let (child, line) = support::spawn_backend(
        Command::new(env!("CARGO_BIN_EXE_chatr-backend"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database"])
            .arg(database)
            .env("RUST_LOG", "warn"),
    );
    (child, support::url_of(&line))
}

#[tokio::test]
async fn every_acknowledged_message_survives_a_kill_9() {
    let dir = std::env::temp_dir().join(format!("chatr-durability-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("chatr.db");

    let (mut child, backend) = start(&database);
    let tokens = support::local_tokens(&backend, "Ada").await;
    let first = support::exchange(&backend, tokens["access_token"].as_str().unwrap()).await;
    let mut socket = support::open_socket(&first, "json.reliable.webpubsub.azure.v1").await;

    // Create a chat, then send until the process is killed under us.
    let mut acked: Vec<String> = Vec::new();
    let mut chat_id = None;
    let mut ack_id = 0u64;
    let mut pending_key: Option<String> = None;
    let mut killed = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    'outer: while tokio::time::Instant::now() < deadline {
        ack_id += 1;
        let frame = match &chat_id {
            None => {
                json!({"type": "event", "event": "createChat", "ackId": ack_id, "dataType": "json",
                           "data": {"name": "Durable", "requestId": "create"}})
            }
            Some(id) => {
                let key = format!("key-{ack_id}");
                pending_key = Some(key.clone());
                json!({"type": "event", "event": "sendMessage", "ackId": ack_id, "dataType": "json",
                       "data": {"chatId": id, "clientKey": key, "text": format!("message {ack_id}"), "requestId": key}})
            }
        };
        if socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .is_err()
        {
            break;
        }
        loop {
            let next = tokio::time::timeout(Duration::from_secs(5), socket.next()).await;
            let Ok(Some(Ok(Message::Text(text)))) = next else {
                break 'outer;
            };
            let frame: Value = serde_json::from_str(&text).unwrap();
            let data = &frame["data"]["data"];
            if frame["data"]["chatEvent"] == "reply" && data["status"] == "ok" {
                if let Some(chat) = data.get("chat").filter(|c| c.is_object()) {
                    chat_id = Some(chat["id"].as_str().unwrap().to_owned());
                }
                if data.get("message").is_some_and(Value::is_object) {
                    // The reply means "stored": this one must survive.
                    acked.push(pending_key.take().unwrap());
                }
            }
            if frame["type"] == "ack" {
                break;
            }
        }
        if acked.len() == 40 && !killed {
            // SIGKILL: no shutdown code runs.
            child.kill().unwrap();
            killed = true;
        }
    }
    child.wait().unwrap();
    assert!(
        killed && acked.len() >= 40,
        "the test sent {} messages before the kill",
        acked.len()
    );

    // Start again on the same database; the saved sign-in still works.
    let (mut child, backend) = start(&database);
    let refreshed: Value = reqwest::Client::new()
        .post(format!("{backend}/api/auth/local/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", "chatr-desktop"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let again = support::exchange(&backend, refreshed["access_token"].as_str().unwrap()).await;
    assert_eq!(
        again["user"]["id"], first["user"]["id"],
        "the same user after the restart"
    );
    let history: Value = reqwest::Client::new()
        .get(format!(
            "{backend}/api/chats/{}/messages?limit=200",
            chat_id.unwrap()
        ))
        .bearer_auth(again["sessionToken"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored: Vec<String> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["clientKey"].as_str().unwrap().to_owned())
        .collect();
    for key in &acked {
        assert_eq!(
            stored.iter().filter(|k| *k == key).count(),
            1,
            "{key} was acknowledged but is missing or doubled"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
