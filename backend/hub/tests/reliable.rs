//! The reliable subprotocol over real sockets: numbered messages, cumulative acks, resuming a
//! dropped connection with its token and getting every unacknowledged message again, in order.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::*;

async fn reliable(hub: &Hub, user: &str) -> (Socket, String, String) {
    let token = hub.token("chat", json!({"sub": user, "webpubsub.group": "room"}));
    let mut socket = connect(
        &format!("{}?access_token={token}", hub.url("chat")),
        Some(RELIABLE),
    )
    .await
    .unwrap();
    let connected = next(&mut socket).await;
    assert_eq!(connected["event"], "connected");
    let id = connected["connectionId"].as_str().unwrap().to_owned();
    let reconnection = connected["reconnectionToken"].as_str().unwrap().to_owned();
    (socket, id, reconnection)
}

async fn publish(hub: &Hub, n: u64) {
    let status = hub
        .rest(
            reqwest::Method::POST,
            "chat/groups/room/:send",
            Some(json!({"n": n})),
        )
        .await
        .status();
    assert_eq!(status, 202);
}

fn n(frame: &Value) -> u64 {
    frame["data"]["n"].as_u64().unwrap()
}

#[tokio::test]
async fn messages_carry_increasing_sequence_ids() {
    let hub = Hub::plain().await;
    let (mut socket, _, _) = reliable(&hub, "a").await;
    for i in 1..=3 {
        publish(&hub, i).await;
    }
    for i in 1..=3 {
        let frame = next(&mut socket).await;
        assert_eq!(frame["sequenceId"], i);
        assert_eq!(n(&frame), i);
    }
}

#[tokio::test]
async fn a_dropped_connection_resumes_and_gets_unacked_messages_once_in_order() {
    let hub = Hub::plain().await;
    let (mut socket, id, token) = reliable(&hub, "a").await;
    for i in 1..=3 {
        publish(&hub, i).await;
    }
    for _ in 1..=3 {
        next(&mut socket).await;
    }
    send(&mut socket, json!({"type": "sequenceAck", "sequenceId": 2})).await;
    // Make sure the ack arrived before dropping the socket.
    send(&mut socket, json!({"type": "ping"})).await;
    assert_eq!(next(&mut socket).await["type"], "pong");

    // Drop the TCP connection without a close handshake.
    drop(socket);
    // Messages published while disconnected wait in the buffer.
    for i in 4..=5 {
        publish(&hub, i).await;
    }

    let resume = format!(
        "{}?awps_connection_id={id}&awps_reconnection_token={token}",
        hub.url("chat")
    );
    let mut resumed = connect(&resume, Some(RELIABLE)).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let frame = next(&mut resumed).await;
        if frame["type"] == "message" {
            seen.push((frame["sequenceId"].as_u64().unwrap(), n(&frame)));
        }
    }
    assert_eq!(seen, [(3, 3), (4, 4), (5, 5)]);
    // Still in the group, still the same connection.
    publish(&hub, 6).await;
    let frame = next_where(&mut resumed, |f| f["type"] == "message").await;
    assert_eq!((frame["sequenceId"].as_u64(), n(&frame)), (Some(6), 6));
}

#[tokio::test]
async fn a_wrong_reconnection_token_closes_with_1008() {
    let hub = Hub::plain().await;
    let (_socket, id, _) = reliable(&hub, "a").await;
    let resume = format!(
        "{}?awps_connection_id={id}&awps_reconnection_token=forged",
        hub.url("chat")
    );
    let mut socket = connect(&resume, Some(RELIABLE)).await.unwrap();
    assert_eq!(next(&mut socket).await, json!({"close": 1008}));
}

#[tokio::test]
async fn a_connection_not_resumed_within_the_window_is_gone() {
    let mut config = chatr_hub::HubConfig::new(KEY);
    config.recovery_window = std::time::Duration::from_millis(200);
    let hub = Hub::start(config).await;
    let (socket, id, token) = reliable(&hub, "a").await;
    drop(socket);
    let path = format!("chat/connections/{id}");
    let mut gone = false;
    for _ in 0..100 {
        if hub.rest(reqwest::Method::HEAD, &path, None).await.status() == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(gone, "the connection outlived its recovery window");
    let resume = format!(
        "{}?awps_connection_id={id}&awps_reconnection_token={token}",
        hub.url("chat")
    );
    let mut socket = connect(&resume, Some(RELIABLE)).await.unwrap();
    assert_eq!(next(&mut socket).await, json!({"close": 1008}));
}

#[tokio::test]
async fn a_client_that_never_acks_is_closed_with_1008_past_the_buffer() {
    let hub = Hub::plain().await;
    let (mut socket, _, _) = reliable(&hub, "a").await;
    for i in 0..1001 {
        publish(&hub, i).await;
    }
    let close = next_where(&mut socket, |f| f.get("close").is_some()).await;
    assert_eq!(close, json!({"close": 1008}));
}
