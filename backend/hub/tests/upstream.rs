//! The upstream event handler over real HTTP: abuse protection, CloudEvents headers and
//! signatures, blocking `connect` (accept, reject, override), user events answered to the sender
//! before the ack, and `connected` / `disconnected`.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use support::*;

fn signature(connection_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(connection_id.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn connected_client(hub: &Hub, claims: serde_json::Value, subprotocol: &str) -> Socket {
    let token = hub.token("chat", claims);
    let mut socket = connect(
        &format!("{}?access_token={token}", hub.url("chat")),
        Some(subprotocol),
    )
    .await
    .unwrap();
    assert_eq!(next(&mut socket).await["event"], "connected");
    socket
}

#[tokio::test]
async fn events_carry_the_cloudevents_headers_and_a_valid_signature() {
    let upstream = Upstream::start(no_content()).await;
    let hub = Hub::start(upstream.config()).await;
    let _socket = connected_client(&hub, json!({"sub": "alice"}), JSON).await;

    let options = upstream
        .requests
        .lock()
        .unwrap()
        .iter()
        .find(|r| r.method == "OPTIONS")
        .cloned()
        .unwrap();
    assert_eq!(
        options.header("webhook-request-origin").as_deref(),
        Some(hub.addr.as_str())
    );
    assert_eq!(options.header("ce-awpsversion").as_deref(), Some("1.0"));

    let connect = upstream.wait_for("connect").await;
    let connection_id = connect.header("ce-connectionid").unwrap();
    assert_eq!(
        connect.header("ce-type").as_deref(),
        Some("azure.webpubsub.sys.connect")
    );
    assert_eq!(connect.header("ce-specversion").as_deref(), Some("1.0"));
    assert_eq!(connect.header("ce-awpsversion").as_deref(), Some("1.0"));
    assert_eq!(connect.header("ce-hub").as_deref(), Some("chat"));
    assert_eq!(connect.header("ce-userid").as_deref(), Some("alice"));
    assert_eq!(
        connect.header("ce-signature"),
        Some(signature(&connection_id))
    );
    assert!(connect.header("ce-time").is_some() && connect.header("ce-id").is_some());
    let body: serde_json::Value = serde_json::from_slice(&connect.body).unwrap();
    assert_eq!(body["claims"]["sub"], json!(["alice"]));
    assert_eq!(body["subprotocols"], json!([JSON]));
    assert!(
        body["query"].get("access_token").is_none(),
        "the token must not be forwarded"
    );

    let connected = upstream.wait_for("connected").await;
    assert_eq!(connected.header("ce-connectionid"), Some(connection_id));
    assert_eq!(connected.header("ce-subprotocol").as_deref(), Some(JSON));
}

#[tokio::test]
async fn a_connect_handler_can_reject_the_handshake_with_its_status() {
    let upstream = Upstream::start(Arc::new(|r| {
        if r.header("ce-eventname").as_deref() == Some("connect") {
            (StatusCode::FORBIDDEN, "no").into_response()
        } else {
            StatusCode::NO_CONTENT.into_response()
        }
    }))
    .await;
    let hub = Hub::start(upstream.config()).await;
    let token = hub.token("chat", json!({"sub": "mallory"}));
    let refused = connect(
        &format!("{}?access_token={token}", hub.url("chat")),
        Some(JSON),
    )
    .await;
    assert_eq!(refused.err(), Some(403));
}

#[tokio::test]
async fn a_connect_answer_sets_user_groups_roles_and_subprotocol() {
    let upstream = Upstream::start(Arc::new(|r| {
        if r.header("ce-eventname").as_deref() == Some("connect") {
            axum::Json(json!({"userId": "verified-user", "groups": ["lobby"],
                              "roles": ["webpubsub.sendToGroup.lobby"], "subprotocol": JSON}))
            .into_response()
        } else {
            StatusCode::NO_CONTENT.into_response()
        }
    }))
    .await;
    let hub = Hub::start(upstream.config()).await;
    let token = hub.token("chat", json!({"sub": "claimed-user"}));
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "{}?access_token={token}",
            hub.url("chat")
        ))
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("{RELIABLE}, {JSON}").parse().unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], JSON);
    let connected = next(&mut socket).await;
    assert_eq!(connected["userId"], "verified-user");
    assert!(connected.get("reconnectionToken").is_none());
    send(
        &mut socket,
        json!({"type": "sendToGroup", "group": "lobby", "ackId": 1, "data": {"x": 1}}),
    )
    .await;
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(next(&mut socket).await);
    }
    assert!(
        got.iter()
            .any(|f| f["type"] == "ack" && f["success"] == true),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|f| f["type"] == "message" && f["group"] == "lobby"),
        "{got:?}"
    );
}

#[tokio::test]
async fn a_user_event_answer_reaches_the_sender_before_the_ack() {
    let upstream = Upstream::start(Arc::new(|r| match r.header("ce-eventname").as_deref() {
        Some("sendMessage") => {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            (
                [("ce-connectionstate", "c3RhdGU=")],
                axum::Json(json!({"stored": body["text"]})),
            )
                .into_response()
        }
        _ => StatusCode::NO_CONTENT.into_response(),
    }))
    .await;
    let hub = Hub::start(upstream.config()).await;
    let mut socket = connected_client(&hub, json!({"sub": "alice"}), RELIABLE).await;
    send(
        &mut socket,
        json!({"type": "event", "event": "sendMessage", "ackId": 1, "dataType": "json",
                             "data": {"text": "hello"}}),
    )
    .await;
    let reply = next(&mut socket).await;
    assert_eq!(reply["from"], "server");
    assert_eq!(reply["data"], json!({"stored": "hello"}));
    assert_eq!(reply["sequenceId"], 1);
    assert_eq!(
        next(&mut socket).await,
        json!({"type": "ack", "ackId": 1, "success": true})
    );

    let event = upstream.wait_for("sendMessage").await;
    assert_eq!(
        event.header("ce-type").as_deref(),
        Some("azure.webpubsub.user.sendMessage")
    );
    assert!(
        event
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );

    // The state set by the answer comes back on the next event.
    send(
        &mut socket,
        json!({"type": "event", "event": "sendMessage", "ackId": 2, "data": {"text": "again"}}),
    )
    .await;
    next_where(&mut socket, |f| f["type"] == "ack").await;
    let states: Vec<_> = upstream
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter_map(|r| r.header("ce-connectionstate"))
        .collect();
    assert_eq!(states, ["c3RhdGU="]);
}

#[tokio::test]
async fn a_failing_upstream_gives_an_error_ack_and_keeps_the_connection() {
    let upstream = Upstream::start(Arc::new(|r| match r.header("ce-eventname").as_deref() {
        Some("boom") => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    }))
    .await;
    let hub = Hub::start(upstream.config()).await;
    let mut socket = connected_client(&hub, json!({}), JSON).await;
    send(
        &mut socket,
        json!({"type": "event", "event": "boom", "ackId": 1, "data": 1}),
    )
    .await;
    assert_eq!(
        next(&mut socket).await["error"]["name"],
        "InternalServerError"
    );
    send(&mut socket, json!({"type": "ping"})).await;
    assert_eq!(next(&mut socket).await["type"], "pong");
}

#[tokio::test]
async fn closing_sends_disconnected_upstream_with_the_reason() {
    let upstream = Upstream::start(no_content()).await;
    let hub = Hub::start(upstream.config()).await;
    let mut socket = connected_client(&hub, json!({"sub": "alice"}), JSON).await;
    socket.close(None).await.unwrap();
    let disconnected = upstream.wait_for("disconnected").await;
    assert_eq!(
        disconnected.header("ce-type").as_deref(),
        Some("azure.webpubsub.sys.disconnected")
    );
    let body: serde_json::Value = serde_json::from_slice(&disconnected.body).unwrap();
    assert!(body["reason"].is_string());
}

#[tokio::test]
async fn an_upstream_that_fails_abuse_protection_gets_no_events() {
    // This handler answers OPTIONS without allowing our origin.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            axum::Router::new().route("/hook", axum::routing::any(|| async { "ok" })),
        )
        .await
        .unwrap();
    });
    let config = chatr_hub::HubConfig::new(KEY)
        .with_upstream("chat", chatr_hub::UpstreamHandler::all_events(&url));
    let hub = Hub::start(config).await;
    let token = hub.token("chat", json!({}));
    let refused = connect(
        &format!("{}?access_token={token}", hub.url("chat")),
        Some(JSON),
    )
    .await;
    assert_eq!(refused.err(), Some(500));
}
