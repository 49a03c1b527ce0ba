//! The client side of the hub over real sockets: authentication before the upgrade, the JSON
//! subprotocol's requests and acks, permissions, limits, and graceful shutdown.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn connects_with_a_valid_token_and_gets_the_connected_frame() {
    let hub = Hub::plain().await;
    let token = hub.token("chat", json!({"sub": "alice"}));
    let mut socket = connect(
        &format!("{}?access_token={token}", hub.url("chat")),
        Some(JSON),
    )
    .await
    .unwrap();
    let connected = next(&mut socket).await;
    assert_eq!(connected["type"], "system");
    assert_eq!(connected["event"], "connected");
    assert_eq!(connected["userId"], "alice");
    assert_eq!(connected["connectionId"].as_str().unwrap().len(), 32);
}

#[tokio::test]
async fn bad_expired_forged_or_missing_tokens_get_401_before_the_upgrade() {
    let hub = Hub::plain().await;
    let aud = format!("http://{}/client/hubs/chat", hub.addr);
    let expired = client_token(&aud, json!({"exp": now() - 3600}));
    let other_hub = hub.token("other", json!({}));
    let forged = rest_token(&aud, "not the key");
    for token in [
        expired.as_str(),
        other_hub.as_str(),
        forged.as_str(),
        "garbage",
        "",
    ] {
        let url = format!("{}?access_token={token}", hub.url("chat"));
        assert_eq!(connect(&url, Some(JSON)).await.err(), Some(401), "{token}");
    }
}

#[tokio::test]
async fn the_query_form_of_the_endpoint_works_too() {
    let hub = Hub::plain().await;
    let token = hub.token("chat", json!({}));
    let url = format!("ws://{}/client/?hub=chat&access_token={token}", hub.addr);
    let mut socket = connect(&url, Some(JSON)).await.unwrap();
    assert_eq!(next(&mut socket).await["event"], "connected");
}

async fn client(hub: &Hub, claims: serde_json::Value) -> Socket {
    let token = hub.token("chat", claims);
    let mut socket = connect(
        &format!("{}?access_token={token}", hub.url("chat")),
        Some(JSON),
    )
    .await
    .unwrap();
    assert_eq!(next(&mut socket).await["event"], "connected");
    socket
}

#[tokio::test]
async fn group_members_receive_publishes_with_the_senders_user_id() {
    let hub = Hub::plain().await;
    let roles = json!([
        "webpubsub.joinLeaveGroup.room",
        "webpubsub.sendToGroup.room"
    ]);
    let mut alice = client(&hub, json!({"sub": "alice", "role": roles})).await;
    let mut bob = client(&hub, json!({"sub": "bob", "role": roles})).await;
    for (socket, id) in [(&mut alice, 1), (&mut bob, 1)] {
        send(
            socket,
            json!({"type": "joinGroup", "group": "room", "ackId": id}),
        )
        .await;
        assert_eq!(
            next(socket).await,
            json!({"type": "ack", "ackId": id, "success": true})
        );
    }
    send(
        &mut alice,
        json!({"type": "sendToGroup", "group": "room", "ackId": 2, "noEcho": true,
                            "dataType": "json", "data": {"text": "hi"}}),
    )
    .await;
    assert_eq!(next(&mut alice).await["ackId"], 2);
    let message = next(&mut bob).await;
    assert_eq!(message["from"], "group");
    assert_eq!(message["group"], "room");
    assert_eq!(message["fromUserId"], "alice");
    assert_eq!(message["data"], json!({"text": "hi"}));
    assert!(silent(&mut alice).await, "noEcho must not echo");

    // Without noEcho the sender gets its own message.
    send(
        &mut bob,
        json!({"type": "sendToGroup", "group": "room", "dataType": "text", "data": "yo"}),
    )
    .await;
    assert_eq!(next(&mut bob).await["data"], "yo");
    assert_eq!(next(&mut alice).await["data"], "yo");
}

#[tokio::test]
async fn forbidden_group_operations_get_a_forbidden_ack() {
    let hub = Hub::plain().await;
    let mut socket = client(
        &hub,
        json!({"sub": "eve", "role": ["webpubsub.joinLeaveGroup.mine"]}),
    )
    .await;
    send(
        &mut socket,
        json!({"type": "joinGroup", "group": "private-abc", "ackId": 1}),
    )
    .await;
    let ack = next(&mut socket).await;
    assert_eq!(ack["success"], false);
    assert_eq!(ack["error"]["name"], "Forbidden");
    send(
        &mut socket,
        json!({"type": "sendToGroup", "group": "mine", "ackId": 2, "data": 1}),
    )
    .await;
    assert_eq!(next(&mut socket).await["error"]["name"], "Forbidden");
    send(
        &mut socket,
        json!({"type": "joinGroup", "group": "mine", "ackId": 3}),
    )
    .await;
    assert_eq!(next(&mut socket).await["success"], true);
}

#[tokio::test]
async fn a_reused_ack_id_is_a_duplicate_and_not_repeated() {
    let hub = Hub::plain().await;
    let mut socket = client(&hub, json!({"role": ["webpubsub.joinLeaveGroup"]})).await;
    send(
        &mut socket,
        json!({"type": "joinGroup", "group": "g", "ackId": 7}),
    )
    .await;
    assert_eq!(next(&mut socket).await["success"], true);
    send(
        &mut socket,
        json!({"type": "leaveGroup", "group": "g", "ackId": 7}),
    )
    .await;
    let ack = next(&mut socket).await;
    assert_eq!(ack["error"]["name"], "Duplicate");
    // The leave was not carried out: the group still exists.
    let status = hub
        .rest(reqwest::Method::HEAD, "chat/groups/g", None)
        .await
        .status();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn ping_gets_pong() {
    let hub = Hub::plain().await;
    let mut socket = client(&hub, json!({})).await;
    send(&mut socket, json!({"type": "ping"})).await;
    assert_eq!(next(&mut socket).await, json!({"type": "pong"}));
}

#[tokio::test]
async fn bad_requests_with_an_ack_id_get_bad_request_and_keep_the_connection() {
    let hub = Hub::plain().await;
    let mut socket = client(&hub, json!({})).await;
    send(&mut socket, json!({"type": "teleport", "ackId": 1})).await;
    assert_eq!(next(&mut socket).await["error"]["name"], "BadRequest");
    send(
        &mut socket,
        json!({"type": "sendToGroup", "group": "g", "ackId": 2, "dataType": "text", "data": 5}),
    )
    .await;
    assert_eq!(next(&mut socket).await["error"]["name"], "BadRequest");
    send(&mut socket, json!({"type": "ping"})).await;
    assert_eq!(next(&mut socket).await["type"], "pong");
}

#[tokio::test]
async fn malformed_json_closes_the_connection_with_1003() {
    let hub = Hub::plain().await;
    let mut socket = client(&hub, json!({})).await;
    use futures_util::SinkExt;
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text(
            "{not json".into(),
        ))
        .await
        .unwrap();
    assert_eq!(next(&mut socket).await, json!({"close": 1003}));
}

#[tokio::test]
async fn frames_over_one_megabyte_close_with_1009() {
    let hub = Hub::plain().await;
    let mut socket = client(&hub, json!({})).await;
    let big = "x".repeat(1024 * 1024 + 1);
    send(
        &mut socket,
        json!({"type": "event", "event": "big", "dataType": "text", "data": big}),
    )
    .await;
    assert_eq!(next(&mut socket).await, json!({"close": 1009}));
}

#[tokio::test]
async fn token_groups_are_joined_on_connect() {
    let hub = Hub::plain().await;
    let mut member = client(&hub, json!({"webpubsub.group": "news"})).await;
    let response = hub
        .rest(
            reqwest::Method::POST,
            "chat/groups/news/:send",
            Some(json!({"headline": "x"})),
        )
        .await;
    assert_eq!(response.status(), 202);
    let message = next(&mut member).await;
    assert_eq!(message["group"], "news");
    assert_eq!(message["fromUserId"], serde_json::Value::Null);
}

#[tokio::test]
async fn raw_clients_get_raw_frames() {
    let hub = Hub::plain().await;
    let token = hub.token("chat", json!({"sub": "raw"}));
    let mut socket = connect(&format!("{}?access_token={token}", hub.url("chat")), None)
        .await
        .unwrap();
    // Wait until the hub has registered the connection.
    for _ in 0..50 {
        if hub
            .rest(reqwest::Method::HEAD, "chat/users/raw", None)
            .await
            .status()
            == 200
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    hub.rest(
        reqwest::Method::POST,
        "chat/users/raw/:send",
        Some(json!({"a": 1})),
    )
    .await;
    assert_eq!(next(&mut socket).await, json!({"a": 1}));
}

#[tokio::test]
async fn shutdown_sends_disconnected_before_closing() {
    let mut hub = Hub::plain().await;
    let mut socket = client(&hub, json!({})).await;
    hub.stop();
    let farewell = next(&mut socket).await;
    assert_eq!(farewell["type"], "system");
    assert_eq!(farewell["event"], "disconnected");
    assert_eq!(next(&mut socket).await["close"], 1001);
    let task = hub.task.take().unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
