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
    let (ada, refresh) = chat_client::sign_in_local(&local.backend_url, "Ada", tx)
        .await
        .unwrap();
    assert_eq!(ada.user.name, "Ada");
    assert!(refresh.is_some(), "a refresh token to remember the sign-in");

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
