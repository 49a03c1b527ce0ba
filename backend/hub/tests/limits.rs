//! The listener's limits over real sockets: a client that never finishes its request head, or
//! sits idle on a keep-alive connection, is dropped after the header timeout; sockets beyond the
//! cap wait until others close (upgraded WebSockets count); one user's WebSockets are capped.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Whether a fresh client (its own connection) gets `HEAD /api/health` answered within `wait`.
async fn health(hub: &Hub, wait: Duration) -> bool {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(wait)
        .build()
        .unwrap();
    matches!(
        client.head(format!("http://{}/api/health", hub.addr)).send().await,
        Ok(response) if response.status() == 200
    )
}

/// Retries `health` for up to `within`.
async fn health_within(hub: &Hub, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if health(hub, Duration::from_millis(500)).await {
            return true;
        }
    }
    false
}

/// Reads until the server closes the socket; how long that took (panics after 5 s).
async fn closed_after(socket: &mut TcpStream, started: Instant) -> Duration {
    let mut buf = [0u8; 1024];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf))
            .await
            .expect("the server closed the socket within 5 s");
        match read {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => {}
        }
    }
}

fn with_timeout(timeout: Duration) -> chatr_hub::HubConfig {
    let mut config = chatr_hub::HubConfig::new(KEY);
    config.serve_limits.header_read_timeout = timeout;
    config
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_dropped_after_the_timeout() {
    let hub = Hub::start(with_timeout(Duration::from_millis(500))).await;
    let started = Instant::now();
    let mut slow = TcpStream::connect(&hub.addr).await.unwrap();
    slow.write_all(b"GET /api/hea").await.unwrap();
    let mut silent = TcpStream::connect(&hub.addr).await.unwrap();
    // Meanwhile the server answers everyone else.
    assert!(health(&hub, Duration::from_secs(2)).await);
    let elapsed = closed_after(&mut slow, started).await;
    assert!(
        elapsed >= Duration::from_millis(400),
        "closed after {elapsed:?}"
    );
    closed_after(&mut silent, started).await;
    assert!(health(&hub, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let hub = Hub::start(with_timeout(Duration::from_millis(500))).await;
    let mut socket = TcpStream::connect(&hub.addr).await.unwrap();
    socket
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before answering");
        answer.extend_from_slice(&buf[..n]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    // Kept alive, but not for ever.
    closed_after(&mut socket, Instant::now()).await;
}

#[tokio::test]
async fn sockets_beyond_the_cap_wait_until_others_close_and_websockets_count() {
    let mut config = with_timeout(Duration::from_secs(60));
    config.serve_limits.max_sockets = 3;
    let hub = Hub::start(config).await;
    let idle = [
        TcpStream::connect(&hub.addr).await.unwrap(),
        TcpStream::connect(&hub.addr).await.unwrap(),
    ];
    let token = hub.token("chat", json!({"sub": "a"}));
    let url = format!("{}?access_token={token}", hub.url("chat"));
    let mut ws = connect(&url, Some(JSON)).await.unwrap();
    assert_eq!(next(&mut ws).await["event"], "connected");

    // Three sockets are open: a fourth waits.
    assert!(!health(&hub, Duration::from_millis(800)).await);
    drop(idle);
    assert!(health_within(&hub, Duration::from_secs(5)).await);

    // The WebSocket still holds its place: two more idle sockets fill the cap again.
    let _idle = [
        TcpStream::connect(&hub.addr).await.unwrap(),
        TcpStream::connect(&hub.addr).await.unwrap(),
    ];
    assert!(!health(&hub, Duration::from_millis(800)).await);
    ws.close(None).await.unwrap();
    assert!(health_within(&hub, Duration::from_secs(5)).await);
}

/// The status and body of a WebSocket handshake that the server refuses.
async fn refused(url: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(url.replacen("ws://", "http://", 1))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-protocol", JSON)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn one_user_gets_429_past_the_per_user_cap_while_others_connect() {
    let mut config = chatr_hub::HubConfig::new(KEY);
    config.max_connections_per_user = 2;
    let hub = Hub::start(config).await;
    let url = |user: &str| {
        let token = hub.token("chat", json!({"sub": user}));
        format!("{}?access_token={token}", hub.url("chat"))
    };
    let mut first = connect(&url("a"), Some(JSON)).await.unwrap();
    assert_eq!(next(&mut first).await["event"], "connected");
    let mut second = connect(&url("a"), Some(JSON)).await.unwrap();
    assert_eq!(next(&mut second).await["event"], "connected");

    assert_eq!(connect(&url("a"), Some(JSON)).await.err(), Some(429));
    let (status, body) = refused(&url("a")).await;
    assert_eq!(status, 429);
    assert!(body.contains("too many connections"), "{body}");

    let mut other = connect(&url("b"), Some(JSON)).await.unwrap();
    assert_eq!(next(&mut other).await["event"], "connected");

    // Closing one makes room again.
    first.close(None).await.unwrap();
    let mut again = None;
    for _ in 0..100 {
        if let Ok(socket) = connect(&url("a"), Some(JSON)).await {
            again = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut again = again.expect("a connection again after closing one");
    assert_eq!(next(&mut again).await["event"], "connected");
}
