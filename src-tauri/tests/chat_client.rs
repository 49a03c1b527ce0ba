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
            client_key: None,
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
        .request(ClientEvent::CreateChat {
            name: " ".into(),
            client_key: None,
        })
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

/// Members may not publish to a chat's group (typing goes through the backend), and the app
/// must never take a member's group message for a backend event even if one got through: with
/// `sendToGroup` granted over the hub's REST API (as a misconfigured service might), Mallory's
/// forged "message" in Ada's name and her raw `{"typing": true}` are both dropped, while her
/// `typing` event reaches Ada as exactly one typing signal, stamped by the backend with her id.
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
            client_key: None,
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
    let connection_id = loop {
        let Some(Ok(Message::Text(text))) = mallory.next().await else {
            continue;
        };
        let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
        if frame["event"] == "connected" {
            break frame["connectionId"].as_str().unwrap().to_owned();
        }
    };
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
    let hub = chatr_backend::hub_client::HubClient::new(
        chatr_backend::hub_client::ConnectionString::parse(&local.hub_connection_string).unwrap(),
        "chat",
    )
    .unwrap();
    hub.grant_permission(
        chatr_backend::hub_client::Permission::SendToGroup,
        &connection_id,
        &chat.id,
    )
    .await
    .unwrap();
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
    send_acked(
        serde_json::json!({"type": "event", "event": "typing", "ackId": 4,
        "dataType": "json", "data": {"chatId": chat.id}}),
    )
    .await;
    // A marker after everything Mallory sent: what came before it is all Ada will get.
    ada.request(ClientEvent::SendMessage {
        chat_id: chat.id.clone(),
        client_key: "marker".into(),
        text: "marker".into(),
    })
    .await
    .unwrap();

    let mut typing = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
        match event {
            SessionEvent::Server(event) => {
                let shown = serde_json::to_string(&event).unwrap();
                assert!(
                    !shown.contains("forged"),
                    "a forged event got through: {shown}"
                );
                if shown.contains("marker") {
                    break;
                }
            }
            SessionEvent::Typing { chat_id, user_id } => typing.push((chat_id, user_id)),
            SessionEvent::State(_) | SessionEvent::NewConnection => {}
        }
    }
    assert_eq!(typing.len(), 1, "one signal, from the backend: {typing:?}");
    let (chat_id, user_id) = typing.remove(0);
    assert_eq!(chat_id, chat.id);
    assert!(user_id.starts_with("local:") && user_id != ada.user.id);
}

/// The app lists every chat, however many pages `GET /api/chats` takes (here 230 chats, two
/// pages of 200), each once and in the API's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_chat_is_listed_across_pages() {
    let local = chatr_backend::local::start(
        ([127, 0, 0, 1], 0).into(),
        None,
        |config| {
            config.grant_timing.interval = Duration::ZERO;
            config.rate.create_chat = chatr_backend::chat::rate_limit::Rate::new(1_000, 1_000.0);
        },
        std::future::pending(),
    )
    .await
    .unwrap();
    let (tx, _events) = mpsc::unbounded_channel();
    let ada = chat_client::sign_in_local(&local.backend_url, "Ada", tx)
        .await
        .unwrap();
    let mut created = Vec::new();
    for i in 0..230 {
        let chat = ada
            .request(ClientEvent::CreateChat {
                name: format!("Chat {i}"),
                client_key: None,
            })
            .await
            .unwrap()
            .chat
            .unwrap();
        created.push(chat.id);
    }
    let listed: Vec<String> = ada
        .chats()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.chat.id)
        .collect();
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), listed.len(), "a chat was listed twice");
    let mut expected = created.clone();
    expected.sort();
    assert_eq!(unique, expected, "every chat, and only those");
}
