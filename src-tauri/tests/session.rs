//! The desktop's realtime session against the real local backend (hub + backend): requests get
//! their replies, pushes arrive, and while one client's TCP connection is cut again and again
//! through a proxy, every message reaches it exactly once and in order.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatr_desktop::realtime::session::{ConnectionState, Session, SessionEvent};
use chatr_protocol::client_event::ClientEvent;
use chatr_protocol::{Reply, ServerEvent};
use serde_json::Value;
use tokio::sync::mpsc;

async fn sign_in(backend: &str, name: &str) -> Value {
    chatr_backend::local_client::sign_in(&reqwest::Client::new(), backend, name)
        .await
        .unwrap()
}

/// A TCP proxy whose connections can be cut.
struct Proxy {
    port: u16,
    live: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let live: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let registry = live.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
                registry.lock().unwrap().push(task.abort_handle());
            }
        });
        Self { port, live }
    }

    /// Drops every live connection, as a network failure would.
    fn cut(&self) {
        for task in self.live.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

fn ok(
    reply: Reply,
) -> (
    Option<chatr_protocol::Chat>,
    Option<chatr_protocol::Message>,
) {
    match reply {
        Reply::Ok { chat, message, .. } => (chat, message),
        Reply::Error { code, message, .. } => panic!("refused: {code:?} {message}"),
    }
}

async fn wait_connected(events: &mut mpsc::UnboundedReceiver<SessionEvent>) {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .unwrap()
            .unwrap();
        if event == SessionEvent::State(ConnectionState::Connected) {
            return;
        }
    }
}

#[tokio::test]
async fn messages_arrive_once_and_in_order_across_dropped_connections() {
    let local = chatr_backend::local::start(
        ([127, 0, 0, 1], 0).into(),
        None,
        |config| {
            config.grant_timing.interval = Duration::ZERO;
            config.rate = (10_000, 10_000.0);
        },
        std::future::pending(),
    )
    .await
    .unwrap();
    let ada = sign_in(&local.backend_url, "Ada").await;
    let bob = sign_in(&local.backend_url, "Bob").await;

    let (ada_tx, mut ada_events) = mpsc::unbounded_channel();
    let ada_session = Session::start(ada["url"].as_str().unwrap().to_owned(), ada_tx);
    wait_connected(&mut ada_events).await;

    // Bob reaches the hub through a proxy that the test cuts.
    let bob_url = bob["url"].as_str().unwrap();
    let hub_addr = bob_url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let proxy = Proxy::start(hub_addr.clone()).await;
    let bob_url = bob_url.replacen(&hub_addr, &format!("127.0.0.1:{}", proxy.port), 1);
    let (bob_tx, mut bob_events) = mpsc::unbounded_channel();
    let bob_session = Session::start(bob_url, bob_tx);
    wait_connected(&mut bob_events).await;

    let (chat, _) = ok(ada_session
        .request(ClientEvent::CreateChat {
            name: "Resilient".into(),
        })
        .await
        .unwrap());
    let chat_id = chat.unwrap().id;
    ok(bob_session
        .request(ClientEvent::JoinChat {
            chat_id: chat_id.clone(),
        })
        .await
        .unwrap());

    let total = 300u64;
    let collector = tokio::spawn(async move {
        let mut seqs = Vec::new();
        let mut reconnects = 0;
        while (seqs.len() as u64) < total {
            match tokio::time::timeout(Duration::from_secs(30), bob_events.recv()).await {
                Ok(Some(SessionEvent::Server(ServerEvent::Message { message }))) => {
                    seqs.push(message.seq)
                }
                Ok(Some(SessionEvent::State(ConnectionState::Reconnecting(_)))) => reconnects += 1,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        (seqs, reconnects)
    });
    for i in 1..=total {
        if i % 100 == 50 {
            proxy.cut();
        }
        let (_, message) = ok(ada_session
            .request(ClientEvent::SendMessage {
                chat_id: chat_id.clone(),
                client_key: format!("k{i}"),
                text: format!("m{i}"),
            })
            .await
            .unwrap());
        assert_eq!(message.unwrap().seq, i);
    }
    let (seqs, reconnects) = collector.await.unwrap();
    assert_eq!(
        seqs,
        (1..=total).collect::<Vec<_>>(),
        "every message once, in order"
    );
    assert!(
        reconnects >= 3,
        "the connection was cut and recovered ({reconnects} reconnects)"
    );
}
