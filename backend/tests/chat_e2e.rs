//! The whole chat path over real sockets: hub and backend in local mode, two people signed in with
//! the local provider, a reliable Web PubSub client each (tokio-tungstenite). Every event travels
//! client → hub → CloudEvents → backend → store → REST → hub → clients, as it would on Azure.
//! Every scenario runs twice: on SQLite and on Azure Table Storage (a real Azurite).

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod support;

use std::sync::Arc;
use std::time::Duration;

use chatr_backend::store::Store;
use chatr_backend::store::table::TableStore;
use chatr_backend::store::table::azurite::Azurite;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::sign_in;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Where the backend keeps its state in a run of the suite.
#[derive(Debug, Clone, Copy)]
enum Backing {
    /// SQLite (in memory), the embedded default.
    Sqlite,
    /// Azure Table Storage, on a real Azurite.
    Azurite,
}

/// Hub and backend in local mode on `backing`; `tweak` adjusts the backend's configuration. The
/// Azurite handle (if any) must live as long as the test.
async fn local_with(
    backing: Backing,
    tweak: impl FnOnce(&mut chatr_backend::Config),
) -> (chatr_backend::local::Local, Option<Azurite>) {
    let (local, azurite, _) = local_on(backing, tweak).await;
    (local, azurite)
}

/// [`local_with`], also handing out the store the backend runs on.
async fn local_on(
    backing: Backing,
    tweak: impl FnOnce(&mut chatr_backend::Config),
) -> (chatr_backend::local::Local, Option<Azurite>, Arc<dyn Store>) {
    let (store, azurite): (Arc<dyn Store>, _) = match backing {
        Backing::Sqlite => (
            Arc::new(chatr_backend::store::sqlite::SqliteStore::in_memory().unwrap()),
            None,
        ),
        Backing::Azurite => {
            let azurite = Azurite::start().unwrap();
            let prefix = format!("e{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
            let store: Arc<dyn Store> = Arc::new(
                TableStore::open(azurite.client().unwrap(), &prefix)
                    .await
                    .unwrap(),
            );
            (store, Some(azurite))
        }
    };
    let backend_store = store.clone();
    let local = chatr_backend::local::start(
        ([127, 0, 0, 1], 0).into(),
        None,
        |config| {
            config.grant_timing.interval = Duration::ZERO;
            config.store = Some(backend_store);
            tweak(config);
        },
        std::future::pending(),
    )
    .await
    .unwrap();
    (local, azurite, store)
}

async fn local(backing: Backing) -> (chatr_backend::local::Local, Option<Azurite>) {
    local_with(backing, |_| {}).await
}

/// Runs each scenario once on SQLite and once on Azurite.
macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn sqlite() {
                super::$scenario(super::Backing::Sqlite).await;
            }
            #[tokio::test]
            async fn azurite() {
                super::$scenario(super::Backing::Azurite).await;
            }
        }
    )*};
}

on_both_stores!(
    two_people_create_join_and_chat_through_the_hub,
    rules_are_enforced_by_the_server,
    forged_webhooks_are_refused,
    the_rest_api_shows_each_user_what_they_may_see,
    floods_oversize_and_malformed_requests_are_refused_and_nothing_is_stored,
    members_and_only_members_signal_typing_to_their_chat,
    a_typing_flood_forwards_at_most_one_signal_per_window,
    the_chat_list_comes_in_pages,
    dead_connection_records_never_break_chats_and_are_forgotten,
    replayed_events_are_refused_and_change_nothing,
    retried_chat_creation_makes_one_chat_and_creation_is_limited,
    resends_are_answered_before_the_rate_limit,
    presence_and_membership_flips_are_limited,
);

struct Client {
    socket: Socket,
    user_id: String,
    connection_id: String,
    next_ack: u64,
    next_request: u64,
}

impl Client {
    async fn connect(session: &Value) -> Self {
        let mut request = session["url"]
            .as_str()
            .unwrap()
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "json.reliable.webpubsub.azure.v1".parse().unwrap(),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "json.reliable.webpubsub.azure.v1"
        );
        let mut client = Self {
            socket,
            user_id: session["user"]["id"].as_str().unwrap().to_owned(),
            connection_id: String::new(),
            next_ack: 1,
            next_request: 1,
        };
        let connected = client.frame().await;
        assert_eq!(connected["event"], "connected");
        client.connection_id = connected["connectionId"].as_str().unwrap().to_owned();
        assert_eq!(connected["userId"].as_str(), Some(client.user_id.as_str()));
        client
    }

    /// The next frame (acking reliable messages as it goes).
    async fn frame(&mut self) -> Value {
        let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
            .await
            .expect("a frame within 10 s")
            .expect("the socket is open")
            .unwrap();
        let Message::Text(text) = message else {
            return self.frame_boxed().await;
        };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if let Some(seq) = frame["sequenceId"].as_u64() {
            self.socket
                .send(Message::Text(
                    json!({"type": "sequenceAck", "sequenceId": seq})
                        .to_string()
                        .into(),
                ))
                .await
                .unwrap();
        }
        frame
    }

    fn frame_boxed(
        &mut self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Value> + Send + '_>> {
        Box::pin(self.frame())
    }

    /// The next server `chatEvent` named `name`.
    async fn chat_event(&mut self, name: &str) -> Value {
        for _ in 0..50 {
            let frame = self.frame().await;
            if frame["type"] == "message" && frame["data"]["chatEvent"] == name {
                return frame["data"]["data"].clone();
            }
        }
        panic!("no {name} event");
    }

    /// Publishes `data` straight to a chat's Web PubSub group (not through the backend), as the
    /// app once did for typing signals, and returns the ack's `success` and error name.
    async fn publish_to_group(&mut self, chat_id: &str, data: Value) -> (bool, Value) {
        let ack_id = self.next_ack;
        self.next_ack += 1;
        let frame = json!({"type": "sendToGroup", "group": chat_id, "ackId": ack_id, "noEcho": true,
            "dataType": "json", "data": data});
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
        for _ in 0..50 {
            let frame = self.frame().await;
            if frame["type"] == "ack" && frame["ackId"] == ack_id {
                return (frame["success"] == true, frame["error"]["name"].clone());
            }
        }
        panic!("no ack for the group publish");
    }

    /// The `typing` server events this client receives before the next `message` event (a marker
    /// the test sends after the signals it expects).
    async fn typing_before_next_message(&mut self) -> Vec<Value> {
        let mut signals = Vec::new();
        for _ in 0..200 {
            let frame = self.frame().await;
            assert!(
                frame["fromUserId"].is_null(),
                "a member's publish reached a client: {frame}"
            );
            if frame["type"] != "message" {
                continue;
            }
            match frame["data"]["chatEvent"].as_str() {
                Some("typing") => signals.push(frame["data"]["data"].clone()),
                Some("message") => return signals,
                _ => {}
            }
        }
        panic!("no message event");
    }

    /// Sends a chat event and returns the backend's reply (`data` of the `reply` chatEvent).
    async fn request(&mut self, event: &str, mut data: Value) -> Value {
        let request_id = format!("r{}", self.next_request);
        self.next_request += 1;
        data["requestId"] = json!(request_id);
        let ack_id = self.next_ack;
        self.next_ack += 1;
        let frame = json!({"type": "event", "event": event, "ackId": ack_id, "dataType": "json", "data": data});
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
        let mut reply = None;
        for _ in 0..50 {
            let frame = self.frame().await;
            if frame["type"] == "message"
                && frame["from"] == "server"
                && frame["data"]["chatEvent"] == "reply"
                && frame["data"]["data"]["requestId"] == request_id.as_str()
            {
                reply = Some(frame["data"]["data"].clone());
            }
            if frame["type"] == "ack" && frame["ackId"] == ack_id {
                assert_eq!(frame["success"], true, "{frame}");
                return reply
                    .unwrap_or_else(|| panic!("no reply before the ack of {event}: {frame}"));
            }
        }
        panic!("no ack for {event}");
    }
}

async fn two_people_create_join_and_chat_through_the_hub(backing: Backing) {
    let (local, _azurite) = local(backing).await;
    let ada = sign_in(&local.backend_url, "Ada").await;
    let bob = sign_in(&local.backend_url, "Bob").await;
    assert!(ada["user"]["id"].as_str().unwrap().starts_with("local:"));
    assert_ne!(ada["user"]["id"], bob["user"]["id"]);

    let mut ada_client = Client::connect(&ada).await;
    let mut bob_client = Client::connect(&bob).await;

    let created = ada_client
        .request("createChat", json!({"name": "  Rustaceans "}))
        .await;
    assert_eq!(created["status"], "ok", "{created}");
    let chat = created["chat"].clone();
    assert_eq!(chat["name"], "Rustaceans");
    assert_eq!(chat["owner"], ada["user"]["id"]);
    let announced = bob_client.chat_event("chatCreated").await;
    assert_eq!(announced["chat"]["id"], chat["id"]);

    let joined = bob_client
        .request("joinChat", json!({"chatId": chat["id"]}))
        .await;
    assert_eq!(joined["status"], "ok", "{joined}");
    let member = ada_client.chat_event("memberJoined").await;
    assert_eq!(member["user"]["name"], "Bob");

    let sent = ada_client
        .request(
            "sendMessage",
            json!({"chatId": chat["id"], "clientKey": "k-1", "text": "<b>hello</b>"}),
        )
        .await;
    assert_eq!(sent["status"], "ok", "{sent}");
    assert_eq!(sent["message"]["seq"], 1);
    let received = bob_client.chat_event("message").await;
    assert_eq!(received["message"]["text"], "<b>hello</b>");
    assert_eq!(
        received["message"]["from"], ada["user"]["id"],
        "the sender is stamped by the server"
    );

    // A resend with the same key is the same message, not a second one.
    let resent = ada_client
        .request(
            "sendMessage",
            json!({"chatId": chat["id"], "clientKey": "k-1", "text": "<b>hello</b>"}),
        )
        .await;
    assert_eq!(resent["message"]["seq"], 1);
}

async fn rules_are_enforced_by_the_server(backing: Backing) {
    let (local, _azurite) = local(backing).await;
    let ada = sign_in(&local.backend_url, "Ada").await;
    let eve = sign_in(&local.backend_url, "Eve").await;
    let mut ada_client = Client::connect(&ada).await;
    let mut eve_client = Client::connect(&eve).await;
    let chat = ada_client
        .request("createChat", json!({"name": "Private-ish"}))
        .await["chat"]
        .clone();

    let refused = eve_client
        .request(
            "sendMessage",
            json!({"chatId": chat["id"], "clientKey": "k", "text": "sneaky"}),
        )
        .await;
    assert_eq!(
        (refused["status"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("forbidden"))
    );

    let refused = eve_client
        .request("deleteChat", json!({"chatId": chat["id"]}))
        .await;
    assert_eq!(refused["code"], "forbidden", "only the owner deletes");

    let spoofed = eve_client
        .request("sendMessage", json!({"chatId": chat["id"], "clientKey": "k", "text": "x", "fromUserId": ada["user"]["id"]}))
        .await;
    assert_eq!(
        spoofed["code"], "badRequest",
        "sender fields in the body are refused"
    );

    let empty = ada_client
        .request("createChat", json!({"name": "   "}))
        .await;
    assert_eq!(empty["code"], "badRequest");

    // Eve cannot join the group of a private chat between Ada and someone else by asking the hub.
    let frame = json!({"type": "joinGroup", "group": chat["id"], "ackId": 999});
    eve_client
        .socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let mut denied = false;
    for _ in 0..10 {
        let frame = eve_client.frame().await;
        if frame["type"] == "ack" && frame["ackId"] == 999 {
            denied = frame["error"]["name"] == "Forbidden";
            break;
        }
    }
    assert!(denied, "a client cannot join a chat's group by itself");
}

async fn forged_webhooks_are_refused(backing: Backing) {
    let (local, _azurite) = local(backing).await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/eventHandler", local.backend_url))
        .header("ce-type", "azure.webpubsub.user.deleteChat")
        .header("ce-eventname", "deleteChat")
        .header("ce-hub", "chat")
        .header("ce-connectionid", "forged")
        .header("ce-userid", "local:victim")
        .header("ce-signature", "sha256=0000")
        .header("content-type", "application/json")
        .body(r#"{"chatId":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

async fn get(backend: &str, path: &str, session: Option<&Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("{backend}{path}"));
    if let Some(session) = session {
        request = request.bearer_auth(session["sessionToken"].as_str().unwrap());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn the_rest_api_shows_each_user_what_they_may_see(backing: Backing) {
    let (local, _azurite) = local(backing).await;
    let backend = local.backend_url.clone();
    let ada = sign_in(&backend, "Ada").await;
    let eve = sign_in(&backend, "Eve").await;
    let mut ada_client = Client::connect(&ada).await;
    let chat = ada_client
        .request("createChat", json!({"name": "History"}))
        .await["chat"]
        .clone();
    for i in 1..=5 {
        let sent = ada_client
            .request("sendMessage", json!({"chatId": chat["id"], "clientKey": format!("k{i}"), "text": format!("m{i}")}))
            .await;
        assert_eq!(sent["status"], "ok");
    }

    assert_eq!(
        get(&backend, "/api/me", None).await.0,
        401,
        "no session, no answer"
    );
    let (status, me) = get(&backend, "/api/me", Some(&ada)).await;
    assert_eq!(
        (status, me["name"].as_str(), me["presence"].as_str()),
        (200, Some("Ada"), Some("online"))
    );

    let (_, users) = get(&backend, "/api/users", Some(&eve)).await;
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(names, ["Ada", "Eve"]);

    let (_, chats) = get(&backend, "/api/chats", Some(&eve)).await;
    assert_eq!(chats["chats"][0]["id"], chat["id"]);
    assert_eq!(chats["chats"][0]["member"], false);

    let path = format!(
        "/api/chats/{}/messages?limit=2",
        chat["id"].as_str().unwrap()
    );
    let (status, page) = get(&backend, &path, Some(&ada)).await;
    assert_eq!(status, 200);
    let seqs: Vec<u64> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [4, 5]);
    let older = format!(
        "/api/chats/{}/messages?before=4&limit=10",
        chat["id"].as_str().unwrap()
    );
    assert_eq!(
        get(&backend, &older, Some(&ada))
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let gap = format!(
        "/api/chats/{}/messages?after=3",
        chat["id"].as_str().unwrap()
    );
    assert_eq!(
        get(&backend, &gap, Some(&ada))
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        2
    );

    assert_eq!(
        get(&backend, &path, Some(&eve)).await.0,
        403,
        "a non-member cannot read the history"
    );
    assert_eq!(
        get(&backend, "/api/chats/nope/messages", Some(&ada))
            .await
            .0,
        404
    );
    let members = format!("/api/chats/{}/members", chat["id"].as_str().unwrap());
    assert_eq!(
        get(&backend, &members, Some(&eve)).await.1[0]["name"],
        "Ada"
    );
    let forged = json!({"sessionToken": "forged.token.here"});
    assert_eq!(get(&backend, "/api/users", Some(&forged)).await.0, 401);
}

async fn floods_oversize_and_malformed_requests_are_refused_and_nothing_is_stored(
    backing: Backing,
) {
    let (local, _azurite) = local_with(backing, |config| {
        config.rate.send = chatr_backend::chat::rate_limit::Rate::new(5, 0.001);
        config.limits.max_message_chars = 100;
    })
    .await;
    let ada = sign_in(&local.backend_url, "Ada").await;
    let mut client = Client::connect(&ada).await;
    let chat = client
        .request("createChat", json!({"name": "Limits"}))
        .await["chat"]
        .clone();

    let too_long = client
        .request(
            "sendMessage",
            json!({"chatId": chat["id"], "clientKey": "big", "text": "x".repeat(101)}),
        )
        .await;
    assert_eq!(too_long["code"], "tooLarge");

    let malformed = client.request("sendMessage", json!({"chatId": 5})).await;
    assert_eq!(malformed["code"], "badRequest");
    let unknown = client.request("becomeAdmin", json!({})).await;
    assert_eq!(unknown["code"], "badRequest");

    let mut outcomes = Vec::new();
    for i in 0..8 {
        let reply = client
            .request(
                "sendMessage",
                json!({"chatId": chat["id"], "clientKey": format!("f{i}"), "text": "flood"}),
            )
            .await;
        outcomes.push(reply["status"].as_str().unwrap().to_owned());
        if reply["status"] == "error" {
            assert_eq!(reply["code"], "rateLimited");
        }
    }
    assert_eq!(
        outcomes.iter().filter(|s| *s == "ok").count(),
        5,
        "the burst, then refusals: {outcomes:?}"
    );

    let path = format!(
        "/api/chats/{}/messages?limit=50",
        chat["id"].as_str().unwrap()
    );
    let (_, history) = get(&local.backend_url, &path, Some(&ada)).await;
    assert_eq!(
        history.as_array().unwrap().len(),
        5,
        "refused messages are not stored"
    );
}

/// Typing signals go through the backend (`typing` events): a member's reaches the chat's other
/// members as a `typing` server event stamped with the verified sender, and none of the sender's
/// own connections; an outsider's is refused, and so is one from someone who left. Members hold
/// no `sendToGroup` permission: the hub refuses their direct publishes (the old way, which let
/// anyone in a chat push anything, of any size, to everyone in it).
async fn members_and_only_members_signal_typing_to_their_chat(backing: Backing) {
    // No per-chat window here (the flood test has one): each refusal below is about who asks.
    let (local, _azurite) = local_with(backing, |config| {
        config.typing.window = Duration::ZERO;
    })
    .await;
    let ada = sign_in(&local.backend_url, "Ada").await;
    let bob = sign_in(&local.backend_url, "Bob").await;
    let carol = sign_in(&local.backend_url, "Carol").await;
    let eve = sign_in(&local.backend_url, "Eve").await;
    let mut ada_client = Client::connect(&ada).await;
    let mut bob_client = Client::connect(&bob).await;
    let mut bob_laptop = Client::connect(&bob).await;
    // Carol sends the markers: a client's own requests read past what arrives meanwhile.
    let mut carol_client = Client::connect(&carol).await;
    let mut eve_client = Client::connect(&eve).await;
    // Once `ready`, the laptop is in every chat of Bob's, including the one he joins below.
    bob_laptop.chat_event("ready").await;

    let chat = ada_client
        .request("createChat", json!({"name": "Typing"}))
        .await["chat"]
        .clone();
    let chat_id = chat["id"].as_str().unwrap();
    let joined = bob_client
        .request("joinChat", json!({"chatId": chat_id}))
        .await;
    assert_eq!(joined["status"], "ok", "{joined}");
    carol_client
        .request("joinChat", json!({"chatId": chat_id}))
        .await;

    let reply = bob_client
        .request("typing", json!({"chatId": chat_id}))
        .await;
    assert_eq!(reply["status"], "ok", "a member may signal typing: {reply}");
    let marker = json!({"chatId": chat_id, "clientKey": "marker-1", "text": "after typing"});
    assert_eq!(
        carol_client.request("sendMessage", marker).await["status"],
        "ok"
    );
    let seen = ada_client.typing_before_next_message().await;
    assert_eq!(
        seen,
        [json!({"chatId": chat_id, "userId": bob["user"]["id"]})],
        "the other member sees one signal, stamped with the sender by the backend"
    );
    assert!(
        bob_client.typing_before_next_message().await.is_empty(),
        "the sender's own connection is not told it is typing"
    );
    assert!(
        bob_laptop.typing_before_next_message().await.is_empty(),
        "nor is the sender's other device"
    );

    let refused = eve_client
        .request("typing", json!({"chatId": chat_id}))
        .await;
    assert_eq!(
        (refused["status"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("forbidden")),
        "an outsider may not signal typing: {refused}"
    );
    let spoofed = eve_client
        .request(
            "typing",
            json!({"chatId": chat_id, "userId": bob["user"]["id"]}),
        )
        .await;
    assert_eq!(
        spoofed["code"], "badRequest",
        "no sender, no payload in the body"
    );
    let padded = bob_client
        .request(
            "typing",
            json!({"chatId": chat_id, "typing": "x".repeat(100_000)}),
        )
        .await;
    assert_eq!(padded["code"], "badRequest", "nothing rides along");

    // Nobody may publish to a chat's group by themselves any more: not a member, not an outsider.
    for (who, client) in [
        ("a member", &mut bob_client),
        ("an outsider", &mut eve_client),
    ] {
        let (ok, error) = client
            .publish_to_group(
                chat_id,
                json!({"typing": true, "padding": "x".repeat(100_000)}),
            )
            .await;
        assert!(!ok, "{who} published to the group directly");
        assert_eq!(error, "Forbidden", "{who}");
    }

    bob_client
        .request("leaveChat", json!({"chatId": chat_id}))
        .await;
    let refused = bob_client
        .request("typing", json!({"chatId": chat_id}))
        .await;
    assert_eq!(
        refused["code"], "forbidden",
        "after leaving, no more typing"
    );
    let marker = json!({"chatId": chat_id, "clientKey": "marker-2", "text": "after leaving"});
    assert_eq!(
        carol_client.request("sendMessage", marker).await["status"],
        "ok"
    );
    assert!(
        ada_client.typing_before_next_message().await.is_empty(),
        "refused signals go nowhere"
    );
}

/// A member flooding typing signals (20 in a row, sent as fast as the socket takes them) gets
/// one forwarded per throttle window and `rateLimited` for the rest; the other member receives
/// exactly that one.
async fn a_typing_flood_forwards_at_most_one_signal_per_window(backing: Backing) {
    // A long window, so the assertion does not depend on how fast this machine is.
    let (local, _azurite) = local_with(backing, |config| {
        config.typing.window = Duration::from_secs(60);
    })
    .await;
    let ada = sign_in(&local.backend_url, "Ada").await;
    let bob = sign_in(&local.backend_url, "Bob").await;
    let mut ada_client = Client::connect(&ada).await;
    let mut bob_client = Client::connect(&bob).await;
    let chat_id = ada_client
        .request("createChat", json!({"name": "Flood"}))
        .await["chat"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    bob_client
        .request("joinChat", json!({"chatId": chat_id}))
        .await;

    let mut outcomes = Vec::new();
    for _ in 0..20 {
        let reply = bob_client
            .request("typing", json!({"chatId": chat_id}))
            .await;
        outcomes.push(reply["code"].as_str().unwrap_or("ok").to_owned());
    }
    assert_eq!(outcomes[0], "ok", "{outcomes:?}");
    assert!(
        outcomes[1..].iter().all(|o| o == "rateLimited"),
        "one per window, the rest refused: {outcomes:?}"
    );
    let marker = json!({"chatId": chat_id, "clientKey": "marker", "text": "after the flood"});
    assert_eq!(
        bob_client.request("sendMessage", marker).await["status"],
        "ok"
    );
    let seen = ada_client.typing_before_next_message().await;
    assert_eq!(seen.len(), 1, "forwarded: {seen:?}");
}

/// The presence the REST API shows for `user`.
async fn presence_of(backend: &str, session: &Value, user: &str) -> Value {
    let (_, users) = get(backend, "/api/users", Some(session)).await;
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user)
        .map_or(Value::Null, |u| u["presence"].clone())
}

/// Waits (up to 15 s) until `user` shows `presence`.
async fn wait_for_presence(backend: &str, session: &Value, user: &str, presence: &str) {
    for _ in 0..150 {
        if presence_of(backend, session, user).await == presence {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{user} still shows {} instead of {presence}",
        presence_of(backend, session, user).await
    );
}

/// Connection records whose `disconnected` never came (a hub crash, a restart on the same
/// database, `disconnected` handled before `connected`) neither make chats fail nor keep anyone
/// online: the hub's 404 for a dead connection forgets it, and the sweep (at start, then
/// periodically) forgets the rest.
async fn dead_connection_records_never_break_chats_and_are_forgotten(backing: Backing) {
    let (local, _azurite, store) = local_on(backing, |config| {
        config.sweep_every = Duration::from_millis(300);
    })
    .await;
    let backend = local.backend_url.clone();
    let ada = sign_in(&backend, "Ada").await;
    let bob = sign_in(&backend, "Bob").await;
    let carol = sign_in(&backend, "Carol").await;
    let (ada_id, bob_id, carol_id) = (
        ada["user"]["id"].as_str().unwrap(),
        bob["user"]["id"].as_str().unwrap(),
        carol["user"]["id"].as_str().unwrap(),
    );
    // Quick connect-then-close cycles race `connected` against `disconnected`.
    for _ in 0..30 {
        let mut socket = support::open_socket(&carol, "json.reliable.webpubsub.azure.v1").await;
        socket.close(None).await.unwrap();
    }
    // As a hub crash leaves them: records of connections the hub has never heard of.
    store
        .add_connection(ada_id, "deadada0000000000000000000000001")
        .await
        .unwrap();
    store
        .add_connection(bob_id, "deadb0b0000000000000000000000001")
        .await
        .unwrap();

    let mut ada_client = Client::connect(&ada).await;
    let chat = ada_client
        .request("createChat", json!({"name": "Survivors"}))
        .await;
    assert_eq!(
        chat["status"], "ok",
        "a dead record of mine is no error: {chat}"
    );
    let mut bob_client = Client::connect(&bob).await;
    let joined = bob_client
        .request("joinChat", json!({"chatId": chat["chat"]["id"]}))
        .await;
    assert_eq!(joined["status"], "ok", "{joined}");
    let private = ada_client
        .request("createPrivateChat", json!({"targetUserId": bob_id}))
        .await;
    assert_eq!(private["status"], "ok", "{private}");
    bob_client.socket.close(None).await.unwrap();

    // Bob's dead record and the cycles' leftovers are forgotten: both show offline.
    wait_for_presence(&backend, &ada, bob_id, "offline").await;
    wait_for_presence(&backend, &ada, carol_id, "offline").await;
    assert!(store.connections(carol_id).await.unwrap().is_empty());
    let ada_records = store.connections(ada_id).await.unwrap();
    assert_eq!(
        ada_records
            .iter()
            .map(|c| c.connection_id.as_str())
            .collect::<Vec<_>>(),
        vec![ada_client.connection_id.as_str()],
        "only Ada's live connection is left"
    );
    assert_eq!(presence_of(&backend, &bob, ada_id).await, "online");
}

/// A signed event as the hub would post it for `connection`, claiming to be from `user`.
fn signed_event(
    local: &chatr_backend::local::Local,
    name: &str,
    connection: &str,
    user: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    let key = local
        .hub_connection_string
        .split(';')
        .find_map(|part| part.trim().strip_prefix("AccessKey="))
        .unwrap();
    let kind = match name {
        "connect" | "connected" | "disconnected" => format!("azure.webpubsub.sys.{name}"),
        other => format!("azure.webpubsub.user.{other}"),
    };
    reqwest::Client::new()
        .post(format!("{}/api/eventHandler", local.backend_url))
        .header("ce-specversion", "1.0")
        .header("ce-type", kind)
        .header("ce-eventname", name)
        .header("ce-hub", "chat")
        .header("ce-connectionid", connection)
        .header("ce-userid", user)
        .header(
            "ce-signature",
            chatr_backend::events::verify::sign(key, connection),
        )
        .header("content-type", "application/json")
        .body(body.to_string())
}

/// Posts [`signed_event`] and answers its status.
async fn post_signed(
    local: &chatr_backend::local::Local,
    name: &str,
    connection: &str,
    user: &str,
    body: &Value,
) -> u16 {
    signed_event(local, name, connection, user, body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Web PubSub signs only the connection id: a captured request replayed with another user, or
/// after its connection closed, is refused with 401 and changes nothing.
async fn replayed_events_are_refused_and_change_nothing(backing: Backing) {
    let (local, _azurite, store) = local_on(backing, |_| {}).await;
    let backend = local.backend_url.clone();
    let ada = sign_in(&backend, "Ada").await;
    let eve = sign_in(&backend, "Eve").await;
    let (ada_id, eve_id) = (
        ada["user"]["id"].as_str().unwrap(),
        eve["user"]["id"].as_str().unwrap(),
    );
    let mut ada_client = Client::connect(&ada).await;
    let chat = ada_client
        .request("createChat", json!({"name": "Ada's"}))
        .await["chat"]
        .clone();
    let connection = ada_client.connection_id.clone();
    let send = |key: &str| json!({"chatId": chat["id"], "clientKey": key, "text": "forged"});

    // The genuine request (right user, open connection) goes through: the test signs correctly.
    assert_eq!(
        post_signed(&local, "sendMessage", &connection, ada_id, &send("g1")).await,
        200
    );
    // The same request naming Eve is refused and stores nothing.
    assert_eq!(
        post_signed(&local, "sendMessage", &connection, eve_id, &send("e1")).await,
        401
    );
    // A `connected` naming Eve for Ada's connection cannot make it Eve's.
    assert_eq!(
        post_signed(&local, "connected", &connection, eve_id, &json!({})).await,
        401
    );
    assert!(store.connections(eve_id).await.unwrap().is_empty());
    // A `disconnected` for a connection that is still open is a replay.
    assert_eq!(
        post_signed(&local, "disconnected", &connection, ada_id, &json!({})).await,
        401
    );
    assert_eq!(store.connections(ada_id).await.unwrap().len(), 1);
    // A `connect` for a connection that is connected already is a replay (it could rename Ada).
    let reconnect = signed_event(
        &local,
        "connect",
        &connection,
        ada_id,
        &json!({"claims": {"name": ["Mallory"]}}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(reconnect.status(), 401);

    // Once the connection closed, even the right user's replay is refused.
    ada_client.socket.close(None).await.unwrap();
    for _ in 0..100 {
        if store.connection_owner(&connection).await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        post_signed(&local, "sendMessage", &connection, ada_id, &send("g2")).await,
        401
    );
    let renamed = signed_event(
        &local,
        "connect",
        &connection,
        ada_id,
        &json!({"claims": {"name": ["Mallory"]}}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        store.user(ada_id).await.unwrap().unwrap().name,
        "Ada",
        "a replayed connect ({}) renames nobody",
        renamed.status()
    );
    let stored = store
        .messages(
            chat["id"].as_str().unwrap(),
            chatr_backend::store::Page::Latest,
            50,
        )
        .await
        .unwrap();
    assert_eq!(
        stored
            .iter()
            .map(|m| m.client_key.as_str())
            .collect::<Vec<_>>(),
        vec!["g1"],
        "only the genuine request stored anything"
    );
}

/// A `createChat` resent with its client key (after a cut, a killed backend) answers the chat
/// the first one made; chat creation is limited per user, and a resend is answered before the
/// limit is taken.
async fn retried_chat_creation_makes_one_chat_and_creation_is_limited(backing: Backing) {
    let (local, _azurite) = local(backing).await;
    let ada = sign_in(&local.backend_url, "Ada").await;
    let mut client = Client::connect(&ada).await;
    let first = client
        .request("createChat", json!({"name": "Once", "clientKey": "c-1"}))
        .await;
    let again = client
        .request("createChat", json!({"name": "Once", "clientKey": "c-1"}))
        .await;
    assert_eq!(first["status"], "ok");
    assert_eq!(again["chat"]["id"], first["chat"]["id"]);
    let mut outcomes = Vec::new();
    for i in 0..30 {
        let reply = client
            .request(
                "createChat",
                json!({"name": format!("Flood {i}"), "clientKey": format!("f-{i}")}),
            )
            .await;
        outcomes.push(reply["status"] == "ok");
        if reply["status"] != "ok" {
            assert_eq!(reply["code"], "rateLimited", "{reply}");
        }
    }
    let made = outcomes.iter().filter(|ok| **ok).count();
    assert!(
        (9..=10).contains(&made),
        "a burst of ten chats (one made above), then refusals: {outcomes:?}"
    );
    let resent = client
        .request("createChat", json!({"name": "Once", "clientKey": "c-1"}))
        .await;
    assert_eq!(resent["chat"]["id"], first["chat"]["id"], "{resent}");
    let (_, chats) = get(&local.backend_url, "/api/chats", Some(&ada)).await;
    let names: Vec<&str> = chats
        .as_array()
        .or_else(|| chats["chats"].as_array())
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names.iter().filter(|n| **n == "Once").count(),
        1,
        "{names:?}"
    );
    assert_eq!(names.len(), made + 1, "{names:?}");
}

/// A resend of a stored message is answered from the store even when the sender is out of
/// tokens (honest retries after an outage are not throttled), and stores nothing new.
async fn resends_are_answered_before_the_rate_limit(backing: Backing) {
    let (local, _azurite) = local_with(backing, |config| {
        config.rate.send = chatr_backend::chat::rate_limit::Rate::new(3, 0.001);
    })
    .await;
    let ada = sign_in(&local.backend_url, "Ada").await;
    let mut client = Client::connect(&ada).await;
    let chat = client.request("createChat", json!({"name": "Retry"})).await["chat"].clone();
    let send = |key: &str| json!({"chatId": chat["id"], "clientKey": key, "text": key});
    let mut first = Vec::new();
    for key in ["a", "b", "c"] {
        first.push(client.request("sendMessage", send(key)).await);
    }
    let refused = client.request("sendMessage", send("d")).await;
    assert_eq!(refused["code"], "rateLimited");
    let resent = client.request("sendMessage", send("a")).await;
    assert_eq!(resent["status"], "ok", "{resent}");
    assert_eq!(resent["message"], first[0]["message"]);
    let path = format!("/api/chats/{}/messages", chat["id"].as_str().unwrap());
    let (_, history) = get(&local.backend_url, &path, Some(&ada)).await;
    let history = history
        .as_array()
        .cloned()
        .unwrap_or_else(|| history["messages"].as_array().cloned().unwrap());
    assert_eq!(history.len(), 3);
}

/// Idle/active flips and join/leave flips are limited per user: a flood cannot become a flood of
/// broadcasts to everyone.
async fn presence_and_membership_flips_are_limited(backing: Backing) {
    let (local, _azurite) = local(backing).await;
    let ada = sign_in(&local.backend_url, "Ada").await;
    let bob = sign_in(&local.backend_url, "Bob").await;
    let mut ada_client = Client::connect(&ada).await;
    let mut bob_client = Client::connect(&bob).await;
    let chat = bob_client
        .request("createChat", json!({"name": "Door"}))
        .await["chat"]
        .clone();
    let started = std::time::Instant::now();
    let mut presence_ok = 0;
    for i in 0..60 {
        let event = if i % 2 == 0 {
            "userEnterIdle"
        } else {
            "userExitIdle"
        };
        let reply = ada_client.request(event, json!({})).await;
        if reply["status"] == "ok" {
            presence_ok += 1;
        } else {
            assert_eq!(reply["code"], "rateLimited", "{reply}");
        }
    }
    // Ten at once, then one every 5 s (a slow store makes the loop take a few seconds).
    let refilled = started.elapsed().as_secs_f64() / 5.0;
    assert!(
        presence_ok >= 10 && f64::from(presence_ok) <= 10.0 + refilled + 1.0,
        "a burst of ten flips, then refusals: {presence_ok}"
    );
    let started = std::time::Instant::now();
    // Alternating join/leave: each one that changes something takes a token and is broadcast to
    // the chat (joining a chat one is in, or leaving one one is not in, changes nothing and costs
    // nothing), so count what the chat's other member hears.
    let mut refused = 0u32;
    for i in 0..80 {
        let event = if i % 2 == 0 { "joinChat" } else { "leaveChat" };
        let reply = ada_client
            .request(event, json!({"chatId": chat["id"]}))
            .await;
        if reply["status"] != "ok" {
            assert_eq!(reply["code"], "rateLimited", "{reply}");
            refused += 1;
        }
    }
    let mut broadcasts = 0u32;
    while let Ok(Some(Ok(Message::Text(text)))) =
        tokio::time::timeout(Duration::from_secs(1), bob_client.socket.next()).await
    {
        let frame: Value = serde_json::from_str(&text).unwrap();
        let event = &frame["data"]["chatEvent"];
        broadcasts += u32::from(event == "memberJoined" || event == "memberLeft");
    }
    // Twenty at once (ten joins and their leaves), then one a second.
    let refilled = started.elapsed().as_secs_f64();
    assert!(
        refused >= 20 && broadcasts >= 20 && f64::from(broadcasts) <= 20.0 + refilled + 1.0,
        "a burst of twenty joins and leaves, then refusals: {broadcasts} broadcasts, {refused} \
         refused in {refilled:.1} s"
    );
}

/// Every chat the caller may see, walked page by page: `GET /api/chats?limit=&cursor=` orders
/// group chats and the caller's private chats by creation, hands out `next` until the last page,
/// and refuses bad limits and cursors it did not make.
async fn the_chat_list_comes_in_pages(backing: Backing) {
    let (local, _azurite) = local(backing).await;
    let backend = local.backend_url.clone();
    let ada = sign_in(&backend, "Ada").await;
    let bob = sign_in(&backend, "Bob").await;
    let mut ada_client = Client::connect(&ada).await;
    let mut made = Vec::new();
    for name in ["One", "Two", "Three"] {
        let reply = ada_client
            .request("createChat", json!({"name": name}))
            .await;
        made.push(reply["chat"]["id"].clone());
        // Distinct creation times, so the expected order does not rest on random ids.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let private = ada_client
        .request(
            "createPrivateChat",
            json!({"targetUserId": bob["user"]["id"]}),
        )
        .await;
    made.push(private["chat"]["id"].clone());

    let walk = async |session: &Value| {
        let (mut seen, mut names, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
        loop {
            let path = match &cursor {
                None => "/api/chats?limit=2".to_owned(),
                Some(c) => format!("/api/chats?limit=2&cursor={c}"),
            };
            let (status, page) = get(&backend, &path, Some(session)).await;
            assert_eq!(status, 200, "{page}");
            let chats = page["chats"].as_array().unwrap();
            assert!(chats.len() <= 2);
            seen.extend(chats.iter().map(|c| c["id"].clone()));
            names.extend(chats.iter().map(|c| c["name"].clone()));
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        (seen, names)
    };
    let (seen, _) = walk(&ada).await;
    assert_eq!(seen, made, "every chat once, in creation order");
    let (seen, names) = walk(&bob).await;
    assert_eq!(seen, made, "Bob sees the groups and his private chat");
    assert_eq!(
        names[3], "Ada",
        "a private chat is named after the other person"
    );
    let eve = sign_in(&backend, "Eve").await;
    let (status, page) = get(&backend, "/api/chats", Some(&eve)).await;
    assert_eq!(status, 200);
    assert_eq!(
        page["chats"].as_array().unwrap().len(),
        3,
        "not others' private chats"
    );
    assert_eq!(page["next"], Value::Null);

    for bad in [
        "/api/chats?limit=0",
        "/api/chats?limit=201",
        "/api/chats?cursor=not-a-cursor",
        "/api/chats?cursor=Zm9vOmJhcg",
    ] {
        assert_eq!(get(&backend, bad, Some(&ada)).await.0, 400, "{bad}");
    }
}
