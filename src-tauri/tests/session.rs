//! The desktop's realtime session and event loop against the real local backend (hub +
//! backend): requests get their replies, pushes arrive, and every message reaches each person
//! exactly once while connections are cut (resumed), closed by the hub (fresh connection + gap
//! fill from history) or lost to a backend restart (sign in again, new hub, gap fill).

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatr_backend::hub_client::{ConnectionString, HubClient};
use chatr_desktop::chat_client::{self, SignedIn};
use chatr_desktop::dispatch::{self, Outlet, SharedInbox};
use chatr_desktop::realtime::session::{ConnectionState, Session, SessionEvent};
use chatr_desktop::ui_event::UiEvent;
use chatr_protocol::client_event::ClientEvent;
use chatr_protocol::{Reply, ServerEvent};
use serde_json::{Value, json};
use tokio::sync::mpsc;

async fn sign_in(backend: &str, name: &str) -> Value {
    chatr_backend::local_client::sign_in(&reqwest::Client::new(), backend, name)
        .await
        .unwrap()
}

/// A local backend (hub + backend, in memory) that approves sign-ins at once and lets tests send
/// as fast as they like.
async fn local_backend() -> chatr_backend::local::Local {
    chatr_backend::local::start(
        ([127, 0, 0, 1], 0).into(),
        None,
        |config| {
            config.grant_timing.interval = Duration::ZERO;
            let unlimited = chatr_backend::chat::rate_limit::Rate::new(10_000, 10_000.0);
            config.rate = chatr_backend::chat::rate_limit::RateLimits {
                send: unlimited,
                create_chat: unlimited,
                membership: unlimited,
                presence: unlimited,
            };
        },
        std::future::pending(),
    )
    .await
    .unwrap()
}

/// A client URL rewritten to reach the hub through a [`Proxy`] the test can cut.
async fn through_proxy(url: &str) -> (Proxy, String) {
    let hub_addr = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let proxy = Proxy::start(hub_addr.clone()).await;
    let url = url.replacen(&hub_addr, &format!("127.0.0.1:{}", proxy.port), 1);
    (proxy, url)
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
    let local = local_backend().await;
    let ada = sign_in(&local.backend_url, "Ada").await;
    let bob = sign_in(&local.backend_url, "Bob").await;

    let (ada_tx, mut ada_events) = mpsc::unbounded_channel();
    let ada_session = Session::start(ada["url"].as_str().unwrap().to_owned(), ada_tx);
    wait_connected(&mut ada_events).await;

    // Bob reaches the hub through a proxy that the test cuts.
    let (proxy, bob_url) = through_proxy(bob["url"].as_str().unwrap()).await;
    let (bob_tx, mut bob_events) = mpsc::unbounded_channel();
    let bob_session = Session::start(bob_url, bob_tx);
    wait_connected(&mut bob_events).await;

    let (chat, _) = ok(ada_session
        .request(ClientEvent::CreateChat {
            name: "Resilient".into(),
            client_key: None,
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

/// Collects what the app's event loop hands on, as the window would receive it.
#[derive(Default)]
struct Collected {
    messages: Mutex<Vec<(String, u64)>>,
    new_connections: std::sync::atomic::AtomicUsize,
    changed: tokio::sync::Notify,
}

impl Outlet for Collected {
    fn deliver(&self, event: UiEvent) {
        if let UiEvent::Server(ServerEvent::Message { message }) = event {
            self.messages
                .lock()
                .unwrap()
                .push((message.chat_id, message.seq));
            self.changed.notify_waiters();
        }
    }

    fn new_connection(&self) {
        self.new_connections
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Collected {
    /// Waits until `count` messages arrived (or fails after `limit`).
    async fn wait_for(&self, count: usize, limit: Duration) {
        tokio::time::timeout(limit, async {
            loop {
                let changed = self.changed.notified();
                if self.messages.lock().unwrap().len() >= count {
                    return;
                }
                changed.await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            let messages = self.messages.lock().unwrap();
            let mut seqs: Vec<u64> = messages.iter().map(|(_, s)| *s).collect();
            seqs.sort_unstable();
            let missing: Vec<u64> = (1..=count as u64)
                .filter(|s| seqs.binary_search(s).is_err())
                .collect();
            panic!(
                "only {} of {count} messages arrived; missing seqs {missing:?}",
                messages.len()
            )
        });
    }

    /// Every seq of `chat` from 1 to `total` exactly once.
    fn assert_exactly_once(&self, chat: &str, total: u64) {
        let messages = self.messages.lock().unwrap();
        let mut seqs: Vec<u64> = messages
            .iter()
            .filter(|(c, _)| c == chat)
            .map(|(_, s)| *s)
            .collect();
        let received = seqs.len();
        seqs.sort_unstable();
        seqs.dedup();
        assert_eq!(seqs.len(), received, "a message was handed on twice");
        assert_eq!(seqs, (1..=total).collect::<Vec<_>>(), "a message was lost");
    }
}

/// Signs `name` in the way the app does and starts the app's event loop for them.
async fn app_user(backend: &str, name: &str) -> (Arc<SignedIn>, Arc<Collected>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let signed = Arc::new(chat_client::sign_in_local(backend, name, tx).await.unwrap());
    let collected = Arc::new(Collected::default());
    let inbox: SharedInbox = Arc::default();
    tokio::spawn(dispatch::run(signed.clone(), rx, inbox, collected.clone()));
    (signed, collected)
}

/// Two people exchange 1,000 messages while the hub closes one's connections (those cannot be
/// resumed: the app connects afresh and fetches the gap from history) and the other's TCP
/// connection is cut (resumed, the hub replays). Each sees all 1,000 exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_exchange_1000_messages_through_closes_and_cuts() {
    let local = local_backend().await;
    let hub = HubClient::new(
        ConnectionString::parse(&local.hub_connection_string).unwrap(),
        "chat",
    )
    .unwrap();
    let (ada, ada_seen) = app_user(&local.backend_url, "Ada").await;

    // Bob reaches the hub through a proxy that the test cuts: his session runs on a client URL
    // from his own token exchange, rewritten to the proxy; the app's client for the same account
    // makes the history calls of his event loop.
    let http = reqwest::Client::new();
    let bob_tokens = chatr_backend::local_client::tokens(&http, &local.backend_url, "Bob")
        .await
        .unwrap();
    let access = bob_tokens["access_token"].as_str().unwrap().to_owned();
    let bob_raw = chatr_backend::local_client::exchange(&http, &local.backend_url, &access)
        .await
        .unwrap();
    let (proxy, bob_url) = through_proxy(bob_raw["url"].as_str().unwrap()).await;
    let (bob_tx, bob_rx) = mpsc::unbounded_channel();
    let bob_session = Session::start(bob_url, bob_tx);
    let (unused_tx, _unused) = mpsc::unbounded_channel();
    let bob_reader = chat_client::sign_in_with_tokens(
        &local.backend_url,
        chatr_desktop::auth::device_login::Provider::local(&local.backend_url),
        chatr_desktop::auth::device_login::Tokens {
            access_token: access,
            id_token: None,
            refresh_token: bob_tokens["refresh_token"].as_str().map(str::to_owned),
        },
        None,
        unused_tx,
    )
    .await
    .unwrap();
    assert_eq!(bob_reader.user.id, bob_raw["user"]["id"], "one account");
    let bob_seen = Arc::new(Collected::default());
    tokio::spawn(dispatch::run(
        Arc::new(bob_reader),
        bob_rx,
        SharedInbox::default(),
        bob_seen.clone(),
    ));

    let chat_id = ada
        .request(ClientEvent::CreateChat {
            name: "Busy".into(),
            client_key: None,
        })
        .await
        .unwrap()
        .chat
        .unwrap()
        .id;
    ok(bob_session
        .request(ClientEvent::JoinChat {
            chat_id: chat_id.clone(),
        })
        .await
        .unwrap());

    let per_person = 500u64;
    let ada_id = ada.user.id.clone();
    let sender = |name: &'static str,
                  send: Arc<dyn Fn(ClientEvent) -> BoxedReply + Send + Sync>| {
        let chat_id = chat_id.clone();
        tokio::spawn(async move {
            for i in 1..=per_person {
                let event = ClientEvent::SendMessage {
                    chat_id: chat_id.clone(),
                    client_key: format!("{name}-{i}"),
                    text: format!("{name} {i}"),
                };
                send(event).await;
            }
        })
    };
    let ada_send: Arc<dyn Fn(ClientEvent) -> BoxedReply + Send + Sync> = {
        let ada = ada.clone();
        Arc::new(move |event| {
            let ada = ada.clone();
            Box::pin(async move {
                ada.request(event).await.unwrap();
            })
        })
    };
    let bob_send: Arc<dyn Fn(ClientEvent) -> BoxedReply + Send + Sync> = {
        let bob = bob_session.clone();
        Arc::new(move |event| {
            let bob = bob.clone();
            Box::pin(async move {
                ok(bob.request(event).await.unwrap());
            })
        })
    };
    let senders = [sender("ada", ada_send), sender("bob", bob_send)];
    let disrupter = tokio::spawn({
        let ada_seen = ada_seen.clone();
        async move {
            for round in 1..=6usize {
                // Disrupt at points spread over the exchange, whatever its speed.
                let target = round * 1000 / 7;
                ada_seen.wait_for(target, Duration::from_secs(120)).await;
                if round % 2 == 0 {
                    proxy.cut();
                } else {
                    hub.close_user_connections(&ada_id, "test closes Ada")
                        .await
                        .unwrap();
                }
            }
        }
    });
    for sender in senders {
        sender.await.unwrap();
    }
    disrupter.await.unwrap();
    let total = 2 * per_person;
    eprintln!("waiting for all of Ada's messages");
    ada_seen
        .wait_for(total as usize, Duration::from_secs(60))
        .await;
    eprintln!("waiting for all of Bob's messages");
    bob_seen
        .wait_for(total as usize, Duration::from_secs(60))
        .await;
    ada_seen.assert_exactly_once(&chat_id, total);
    bob_seen.assert_exactly_once(&chat_id, total);
    assert!(
        ada_seen
            .new_connections
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 4,
        "the hub's closes forced fresh connections"
    );
}

type BoxedReply = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The backend (and its embedded hub) restarts: the app's session cannot resume, signs in again
/// with its refresh token, connects to the new hub, sends what it queued while offline, and
/// fetches from history what was sent while it was away — each message exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_backend_restart_the_app_reconnects_and_fills_the_gap() {
    let dir = std::env::temp_dir().join(format!("chatr-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("chatr.db");
    let tweak = |config: &mut chatr_backend::Config| {
        config.grant_timing.interval = Duration::ZERO;
    };
    let local = chatr_backend::local::start(
        ([127, 0, 0, 1], 0).into(),
        Some(database.clone()),
        tweak,
        std::future::pending(),
    )
    .await
    .unwrap();
    let backend_url = local.backend_url.clone();
    let address: std::net::SocketAddr = backend_url.trim_start_matches("http://").parse().unwrap();

    let (bob, bob_seen) = app_user(&backend_url, "Bob").await;
    let http = reqwest::Client::new();
    let ada_tokens = chatr_backend::local_client::tokens(&http, &backend_url, "Ada")
        .await
        .unwrap();
    let ada_access = ada_tokens["access_token"].as_str().unwrap();
    let ada = chatr_backend::local_client::exchange(&http, &backend_url, ada_access)
        .await
        .unwrap();
    let mut ada_socket = open_chat_socket(&ada).await;
    let chat_id =
        request(&mut ada_socket, "createChat", json!({ "name": "Durable" })).await["chat"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    bob.request(ClientEvent::JoinChat {
        chat_id: chat_id.clone(),
    })
    .await
    .unwrap();
    for i in 1..=5 {
        assert_eq!(send(&mut ada_socket, &chat_id, i).await, i);
    }
    bob_seen.wait_for(5, Duration::from_secs(20)).await;

    // Restart on the same address and database: a new hub, new keys, nothing to resume.
    drop(ada_socket);
    local.stop();
    drop(local);
    // Bob writes while the server is away: the message waits in his app's queue.
    let queued = tokio::spawn({
        let bob = bob.clone();
        let chat_id = chat_id.clone();
        async move {
            bob.request(ClientEvent::SendMessage {
                chat_id,
                client_key: "bob-offline".into(),
                text: "sent while the server was down".into(),
            })
            .await
        }
    });
    let local = loop {
        match chatr_backend::local::start(
            address,
            Some(database.clone()),
            tweak,
            std::future::pending(),
        )
        .await
        {
            Ok(local) => break local,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    // Ada, back first (her token outlives the restart), sends while Bob's app is still finding
    // its way back.
    let ada = chatr_backend::local_client::exchange(&http, &local.backend_url, ada_access)
        .await
        .unwrap();
    let mut ada_socket = open_chat_socket(&ada).await;
    for i in 6..=25 {
        send(&mut ada_socket, &chat_id, i).await;
    }
    let stored = queued.await.unwrap().unwrap().message.unwrap();
    assert_eq!(stored.client_key, "bob-offline");
    bob_seen.wait_for(26, Duration::from_secs(60)).await;
    bob_seen.assert_exactly_once(&chat_id, 26);
    assert!(
        bob_seen
            .new_connections
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 2,
        "Bob's app connected afresh after the restart"
    );
}

type ChatSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_chat_socket(signed_in: &Value) -> ChatSocket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = signed_in["url"]
        .as_str()
        .unwrap()
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "json.reliable.webpubsub.azure.v1".parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// Sends one event and returns the backend's `Ok` reply.
async fn request(socket: &mut ChatSocket, event: &str, data: Value) -> Value {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let mut data = data;
    data["requestId"] = json!("r");
    let frame = json!({ "type": "event", "event": event, "dataType": "json", "data": data });
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let Message::Text(text) = next else { continue };
        let value: Value = serde_json::from_str(&text).unwrap();
        if value["data"]["chatEvent"] == "reply" {
            assert_eq!(value["data"]["data"]["status"], "ok", "{value}");
            return value["data"]["data"].clone();
        }
    }
}

/// Sends message number `i` and returns the seq the backend gave it.
async fn send(socket: &mut ChatSocket, chat_id: &str, i: u64) -> u64 {
    let reply = request(
        socket,
        "sendMessage",
        json!({ "chatId": chat_id, "clientKey": format!("k{i}"), "text": format!("m{i}") }),
    )
    .await;
    reply["message"]["seq"].as_u64().unwrap()
}

/// Records every UI event as the window would receive it (its JSON).
#[derive(Default)]
struct Heard {
    events: Mutex<Vec<Value>>,
    changed: tokio::sync::Notify,
}

impl Outlet for Heard {
    fn deliver(&self, event: UiEvent) {
        self.events
            .lock()
            .unwrap()
            .push(serde_json::to_value(&event).unwrap());
        self.changed.notify_waiters();
    }
}

impl Heard {
    /// Waits (up to 10 s) for an event of `kind` and returns its data.
    async fn first(&self, kind: &str) -> Value {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let changed = self.changed.notified();
                if let Some(found) = self.of(kind).into_iter().next() {
                    return found;
                }
                changed.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {kind} event; heard {:?}", self.events.lock().unwrap()))
    }

    fn of(&self, kind: &str) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == kind)
            .map(|e| e["data"].clone())
            .collect()
    }
}

/// Typing goes through the backend: Bob's app sends a `typing` event, and Ada's app turns the
/// backend's `typing` server event into its `typing` UI event, naming Bob as the backend verified
/// him. A message someone published to the chat's group (here with a permission granted over
/// the hub's REST API, as a misconfigured or malicious service could) is ignored whatever it
/// claims to be: neither a typing signal nor a backend event.
#[tokio::test]
async fn typing_reaches_the_other_member_as_a_ui_event_and_member_publishes_are_ignored() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let local = local_backend().await;
    let hub = HubClient::new(
        ConnectionString::parse(&local.hub_connection_string).unwrap(),
        "chat",
    )
    .unwrap();
    let start = |name: &'static str| {
        let backend = local.backend_url.clone();
        async move {
            let (tx, rx) = mpsc::unbounded_channel();
            let signed = Arc::new(
                chat_client::sign_in_local(&backend, name, tx)
                    .await
                    .unwrap(),
            );
            let heard = Arc::new(Heard::default());
            let inbox: SharedInbox = Arc::default();
            tokio::spawn(dispatch::run(signed.clone(), rx, inbox, heard.clone()));
            (signed, heard)
        }
    };
    let (ada, ada_heard) = start("Ada").await;
    let (bob, _bob_heard) = start("Bob").await;
    let chat = ada
        .request(ClientEvent::CreateChat {
            name: "Typing".into(),
            client_key: None,
        })
        .await
        .unwrap()
        .chat
        .unwrap();
    bob.request(ClientEvent::JoinChat {
        chat_id: chat.id.clone(),
    })
    .await
    .unwrap();

    // Mallory publishes to the group with a permission the backend would never grant.
    let mallory = sign_in(&local.backend_url, "Mallory").await;
    let mut socket = open_chat_socket(&mallory).await;
    let connection_id = loop {
        let Some(Ok(Message::Text(text))) = socket.next().await else {
            continue;
        };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["event"] == "connected" {
            break frame["connectionId"].as_str().unwrap().to_owned();
        }
    };
    hub.grant_permission(
        chatr_backend::hub_client::Permission::SendToGroup,
        &connection_id,
        &chat.id,
    )
    .await
    .unwrap();
    let forged = [
        json!({"typing": true}),
        json!({"chatEvent": "typing", "data": {"chatId": chat.id, "userId": "forged:1"}}),
        json!({"chatEvent": "chatDeleted", "data": {"chatId": chat.id}}),
    ];
    for (ack_id, data) in (1..).zip(forged) {
        let frame = json!({"type": "sendToGroup", "group": chat.id, "ackId": ack_id,
            "dataType": "json", "data": data});
        socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
        loop {
            let Some(Ok(Message::Text(text))) = socket.next().await else {
                continue;
            };
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["type"] == "ack" && frame["ackId"] == ack_id {
                assert_eq!(frame["success"], true, "{frame}");
                break;
            }
        }
    }

    bob.typing(&chat.id).await.unwrap();
    let typing = ada_heard.first("typing").await;
    assert_eq!(typing, json!({"chatId": chat.id, "userId": bob.user.id}));
    assert_eq!(
        ada_heard.of("typing").len(),
        1,
        "the forged signals were ignored"
    );
    assert!(
        ada_heard
            .of("server")
            .iter()
            .all(|e| e["chatEvent"] != "chatDeleted" && e["chatEvent"] != "typing"),
        "a member's publish was taken for a backend event: {:?}",
        ada_heard.of("server")
    );
}

/// The backend alone on `listener` (its hub elsewhere), on `store`, until `stop` is cancelled.
fn serve_backend(
    listener: tokio::net::TcpListener,
    hub_connection_string: &str,
    store: Arc<dyn chatr_backend::store::Store>,
    stop: tokio_util::sync::CancellationToken,
) {
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = chatr_backend::Config::local(url);
    config.session_secret = b"a fixed secret for both lives of the backend".to_vec();
    config.grant_timing.interval = Duration::ZERO;
    config.allowed_origins = vec!["*".into()];
    config.store = Some(store);
    config.hub = Some(chatr_backend::HubSettings {
        connection_string: hub_connection_string.to_owned(),
        hub: "chat".into(),
        entra_tokens: None,
        event_issuer: None,
        event_caller: None,
    });
    let state = chatr_backend::AppState::new(config).unwrap();
    tokio::spawn(chatr_backend::serve(
        listener,
        state,
        stop.cancelled_owned(),
    ));
}

/// While the backend is down, the hub acks a request with an error (its event handler cannot
/// be reached — or it was killed after storing): the session sends it again, and once the
/// backend is back the message is stored and answered exactly once.
#[tokio::test]
async fn a_request_acked_with_an_error_is_sent_again_and_stored_once() {
    let hub_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend_addr = backend_listener.local_addr().unwrap();
    let key = chatr_hub::random_access_key();
    let hub_connection_string = chatr_hub::connection_string(
        &format!("http://{}", hub_listener.local_addr().unwrap()),
        &key,
    );
    let hub_config = chatr_hub::HubConfig::new(key).with_upstream(
        "chat",
        chatr_hub::UpstreamHandler::all_events(format!("http://{backend_addr}/api/eventHandler")),
    );
    tokio::spawn(chatr_hub::serve(
        hub_listener,
        hub_config,
        std::future::pending(),
    ));
    let store: Arc<dyn chatr_backend::store::Store> =
        Arc::new(chatr_backend::store::sqlite::SqliteStore::in_memory().unwrap());
    let first_life = tokio_util::sync::CancellationToken::new();
    serve_backend(
        backend_listener,
        &hub_connection_string,
        store.clone(),
        first_life.clone(),
    );
    let backend = format!("http://{backend_addr}");
    let ada = sign_in(&backend, "Ada").await;
    let (tx, mut events) = mpsc::unbounded_channel();
    let session = Session::start(ada["url"].as_str().unwrap().to_owned(), tx);
    wait_connected(&mut events).await;
    let (chat, _) = ok(session
        .request(ClientEvent::CreateChat {
            name: "Outage".into(),
            client_key: Some("outage-chat".into()),
        })
        .await
        .unwrap());
    let chat_id = chat.unwrap().id;

    // The backend goes away; the hub stays and acks events with an error.
    first_life.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sending = {
        let session = session.clone();
        let chat_id = chat_id.clone();
        tokio::spawn(async move {
            session
                .request(ClientEvent::SendMessage {
                    chat_id,
                    client_key: "during-outage".into(),
                    text: "are you there?".into(),
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!sending.is_finished(), "the request waits for the backend");
    let listener = tokio::net::TcpListener::bind(backend_addr).await.unwrap();
    serve_backend(
        listener,
        &hub_connection_string,
        store.clone(),
        tokio_util::sync::CancellationToken::new(),
    );
    let (_, message) = ok(sending.await.unwrap().unwrap());
    assert_eq!(message.unwrap().text, "are you there?");
    let stored = store
        .messages(&chat_id, chatr_backend::store::Page::Latest, 50)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "stored once: {stored:?}");
}
