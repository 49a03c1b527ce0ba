//! The signed-in user's client against the real local backend: local sign-in completed by the app
//! itself, REST reads, requests over the realtime session, and refusals as typed errors.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::time::Duration;

use chatr_desktop::chat_client::{self, Error};
use chatr_protocol::ErrorCode;
use chatr_protocol::client_event::ClientEvent;
use tokio::sync::mpsc;

#[tokio::test]
async fn sign_in_chat_and_read_history() {
    let local = chatr_backend::local::start(
        ([127, 0, 0, 1], 0).into(),
        None,
        |config| config.grant_timing.interval = Duration::ZERO,
        std::future::pending(),
    )
    .await
    .unwrap();
    let (tx, _events) = mpsc::unbounded_channel();
    let ada = chat_client::sign_in_local(&local.backend_url, "Ada", tx)
        .await
        .unwrap();
    assert_eq!(ada.user.name, "Ada");
    assert!(
        ada.refresh_token().is_some(),
        "a refresh token to remember the sign-in"
    );

    let chat = ada
        .request(ClientEvent::CreateChat {
            name: "Notes".into(),
        })
        .await
        .unwrap()
        .chat
        .unwrap();
    for i in 1..=3 {
        let sent = ada
            .request(ClientEvent::SendMessage {
                chat_id: chat.id.clone(),
                client_key: format!("k{i}"),
                text: format!("note {i}"),
            })
            .await
            .unwrap();
        assert_eq!(sent.message.unwrap().seq, i);
    }
    let history = ada.history(&chat.id, None).await.unwrap();
    assert_eq!(
        history.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["note 1", "note 2", "note 3"]
    );
    assert_eq!(ada.history(&chat.id, Some(2)).await.unwrap().len(), 1);
    let chats = ada.chats().await.unwrap();
    assert!(chats.iter().any(|c| c.chat.id == chat.id && c.member));
    assert_eq!(ada.users().await.unwrap()[0].name, "Ada");

    let refused = ada
        .request(ClientEvent::CreateChat { name: " ".into() })
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            Error::Refused {
                code: ErrorCode::BadRequest,
                ..
            }
        ),
        "{refused}"
    );
    let (tx, _events) = mpsc::unbounded_channel();
    let nameless = chat_client::sign_in_local(&local.backend_url, "   ", tx)
        .await
        .unwrap_err();
    assert!(matches!(nameless, Error::Refused { .. }), "{nameless}");
}

/// Signs `name` in over HTTP as any client could and returns the Web PubSub client URL.
async fn raw_sign_in(backend: &str, name: &str) -> String {
    let session = chatr_backend::local_client::sign_in(&reqwest::Client::new(), backend, name)
        .await
        .unwrap();
    session["url"].as_str().unwrap().to_owned()
}

/// A member may publish to the chat's group (for typing signals), so the app must never take a
/// member's group message for a backend event: a forged "message" event from Mallory in Ada's
/// name is dropped, while Mallory's typing signal arrives as exactly that, stamped with her id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_messages_from_members_are_never_taken_for_backend_events() {
    use chatr_desktop::realtime::session::SessionEvent;
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let local = chatr_backend::local::start(
        ([127, 0, 0, 1], 0).into(),
        None,
        |config| config.grant_timing.interval = Duration::ZERO,
        std::future::pending(),
    )
    .await
    .unwrap();
    let (tx, mut events) = mpsc::unbounded_channel();
    let ada = chat_client::sign_in_local(&local.backend_url, "Ada", tx)
        .await
        .unwrap();
    let chat = ada
        .request(ClientEvent::CreateChat {
            name: "Trust".into(),
        })
        .await
        .unwrap()
        .chat
        .unwrap();

    // Mallory, with a plain WebSocket client, joins the chat and publishes to its group.
    let mut request = raw_sign_in(&local.backend_url, "Mallory")
        .await
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "json.webpubsub.azure.v1".parse().unwrap(),
    );
    let (mut mallory, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut send_acked = async |frame: serde_json::Value| {
        mallory
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
        loop {
            let Some(Ok(Message::Text(text))) = mallory.next().await else {
                panic!("Mallory's connection ended");
            };
            let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
            if answer["type"] == "ack" && answer["ackId"] == frame["ackId"] {
                assert_eq!(answer["success"], true, "{answer}");
                return;
            }
        }
    };
    send_acked(
        serde_json::json!({"type": "event", "event": "joinChat", "ackId": 1,
        "dataType": "json", "data": {"chatId": chat.id}}),
    )
    .await;
    let forged = serde_json::json!({"chatEvent": "message", "data": {"message": {
        "chatId": chat.id, "seq": 99, "from": ada.user.id, "fromName": "Ada",
        "text": "forged in Ada's name", "sentAt": 0, "clientKey": "x"}}});
    send_acked(
        serde_json::json!({"type": "sendToGroup", "group": chat.id, "ackId": 2,
        "noEcho": true, "dataType": "json", "data": forged}),
    )
    .await;
    send_acked(
        serde_json::json!({"type": "sendToGroup", "group": chat.id, "ackId": 3,
        "noEcho": true, "dataType": "json", "data": {"typing": true}}),
    )
    .await;

    let mut typing = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
        match event {
            SessionEvent::Server(event) => {
                let shown = serde_json::to_string(&event).unwrap();
                assert!(
                    !shown.contains("forged"),
                    "a forged event got through: {shown}"
                );
            }
            SessionEvent::Typing { chat_id, user_id } => {
                typing = Some((chat_id, user_id));
                break;
            }
            SessionEvent::State(_) | SessionEvent::NewConnection => {}
        }
    }
    let (chat_id, user_id) = typing.expect("Mallory's typing signal");
    assert_eq!(chat_id, chat.id);
    assert!(user_id.starts_with("local:") && user_id != ada.user.id);
}
