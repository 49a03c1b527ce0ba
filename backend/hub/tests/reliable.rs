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

/// Reads one reliable session until `until`, the socket ends or every message arrived; drops
/// replayed duplicates as clients do and panics on a gap. Acks every 16 messages.
async fn read_session(
    socket: &mut Socket,
    last: &mut u64,
    total: u64,
    until: tokio::time::Instant,
) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    while *last < total {
        let Ok(message) = tokio::time::timeout_at(until, socket.next()).await else {
            return; // time to resume
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                let code = frame.map(|f| u16::from(f.code));
                assert_ne!(code, Some(1008), "the connection became unrecoverable");
                return; // e.g. 1013 (too slow): resume
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return,
        };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["type"] != "message" {
            continue;
        }
        let id = frame["sequenceId"].as_u64().unwrap();
        if id <= *last {
            continue; // replayed, already seen
        }
        assert_eq!(
            id,
            *last + 1,
            "sequence id {} was never delivered",
            *last + 1
        );
        assert_eq!(n(&frame), id, "payloads arrive in publish order");
        *last = id;
        if id.is_multiple_of(16) {
            send(socket, json!({"type": "sequenceAck", "sequenceId": id})).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resuming_again_and_again_during_a_fast_publish_stream_loses_nothing() {
    use futures_util::SinkExt;
    use tokio::time::{Duration, Instant};
    use tokio_tungstenite::tungstenite::Message;
    const TOTAL: u64 = 20_000;
    let hub = Hub::plain().await;
    let (mut socket, id, token) = reliable(&hub, "reader").await;

    // The publisher: one WebSocket client sending to the group as fast as ~8 messages per ms.
    let writer = hub.token(
        "chat",
        json!({"sub": "writer", "role": ["webpubsub.sendToGroup"]}),
    );
    let mut publisher = connect(
        &format!("{}?access_token={writer}", hub.url("chat")),
        Some(JSON),
    )
    .await
    .unwrap();
    assert_eq!(next(&mut publisher).await["event"], "connected");
    // How far the reader got: the publisher stays at most 500 ahead of it, so what the hub holds
    // unacknowledged stays under the 1,000 a reliable connection may have, however slow the
    // machine (an overflow would close the connection for good with 1008, which is the protocol
    // working, not what this test is about).
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = progress.clone();
    let publishing = tokio::spawn(async move {
        for n in 1..=TOTAL {
            while n > seen.load(std::sync::atomic::Ordering::SeqCst) + 500 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let frame = json!({"type": "sendToGroup", "group": "room", "dataType": "json",
                               "data": {"n": n}});
            publisher
                .send(Message::Text(frame.to_string().into()))
                .await
                .unwrap();
            if n.is_multiple_of(8) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        publisher
    });

    let resume = format!(
        "{}?awps_connection_id={id}&awps_reconnection_token={token}",
        hub.url("chat")
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    let (mut last, mut resumes) = (0, 0);
    loop {
        read_session(
            &mut socket,
            &mut last,
            TOTAL,
            Instant::now() + Duration::from_millis(30),
        )
        .await;
        progress.store(last, std::sync::atomic::Ordering::SeqCst);
        if last == TOTAL {
            break;
        }
        assert!(Instant::now() < deadline, "stuck at {last} of {TOTAL}");
        // Ack what arrived, then drop the TCP connection without a close handshake and resume.
        let _ = socket
            .send(Message::Text(
                json!({"type": "sequenceAck", "sequenceId": last})
                    .to_string()
                    .into(),
            ))
            .await;
        drop(socket);
        socket = connect(&resume, Some(RELIABLE)).await.unwrap();
        resumes += 1;
    }
    let _publisher = publishing.await.unwrap();
    assert!(resumes >= 20, "only {resumes} resumes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_connection_gets_its_groups_messages_from_sequence_id_1() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let hub = Hub::plain().await;
    let writer = hub.token(
        "chat",
        json!({"sub": "writer", "role": ["webpubsub.sendToGroup"]}),
    );
    let mut publisher = connect(
        &format!("{}?access_token={writer}", hub.url("chat")),
        Some(JSON),
    )
    .await
    .unwrap();
    assert_eq!(next(&mut publisher).await["event"], "connected");
    let stop = tokio_util::sync::CancellationToken::new();
    let publishing = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.is_cancelled() {
                n += 1;
                let frame = json!({"type": "sendToGroup", "group": "room", "dataType": "json",
                                   "data": {"n": n}});
                publisher
                    .send(Message::Text(frame.to_string().into()))
                    .await
                    .unwrap();
                if n.is_multiple_of(8) {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    // Each new member of `room` (joined by its token) is reachable from the moment the hub knows
    // it: whatever it is sent is numbered from 1 and delivered, none numbered and left behind.
    for i in 0..150 {
        let (mut socket, _, _) = reliable(&hub, &format!("reader{i}")).await;
        for expected in 1..=3 {
            let frame = next_where(&mut socket, |f| f["type"] == "message").await;
            assert_eq!(frame["sequenceId"], expected);
        }
        socket.close(None).await.unwrap();
    }
    stop.cancel();
    publishing.await.unwrap();
}
