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
    let (store, azurite) = match backing {
        Backing::Sqlite => (None, None),
        Backing::Azurite => {
            let azurite = Azurite::start().unwrap();
            let prefix = format!("e{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
            let store: Arc<dyn Store> = Arc::new(
                TableStore::open(azurite.client().unwrap(), &prefix)
                    .await
                    .unwrap(),
            );
            (Some(store), Some(azurite))
        }
    };
    let local = chatr_backend::local::start(
        ([127, 0, 0, 1], 0).into(),
        None,
        |config| {
            config.grant_timing.interval = Duration::ZERO;
            config.store = store;
            tweak(config);
        },
        std::future::pending(),
    )
    .await
    .unwrap();
    (local, azurite)
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
);

struct Client {
    socket: Socket,
    user_id: String,
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
            next_ack: 1,
            next_request: 1,
        };
        let connected = client.frame().await;
        assert_eq!(connected["event"], "connected");
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

    /// Publishes a typing signal straight to a chat's Web PubSub group (not through the backend)
    /// and returns the ack's `success` and error name.
    async fn typing(&mut self, chat_id: &str) -> (bool, Value) {
        let ack_id = self.next_ack;
        self.next_ack += 1;
        let frame = json!({"type": "sendToGroup", "group": chat_id, "ackId": ack_id, "noEcho": true,
            "dataType": "json", "data": {"typing": true}});
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
        panic!("no ack for the typing signal");
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
    assert_eq!(chats[0]["id"], chat["id"]);
    assert_eq!(chats[0]["member"], false);

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
        config.rate = (5, 0.001);
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

/// Typing signals go from client to chat group directly (the backend grants members
/// `sendToGroup` on their chats' groups when they join or connect): members' signals reach the
/// other members stamped with the sender's id by the service; outsiders and those who left are
/// refused, so nobody can type into a chat they cannot read.
async fn members_and_only_members_signal_typing_to_their_chat(backing: Backing) {
    let (local, _azurite) = local(backing).await;
    let ada = sign_in(&local.backend_url, "Ada").await;
    let bob = sign_in(&local.backend_url, "Bob").await;
    let eve = sign_in(&local.backend_url, "Eve").await;
    let mut ada_client = Client::connect(&ada).await;
    let mut bob_client = Client::connect(&bob).await;
    let mut eve_client = Client::connect(&eve).await;

    let chat = ada_client
        .request("createChat", json!({"name": "Typing"}))
        .await["chat"]
        .clone();
    let chat_id = chat["id"].as_str().unwrap();
    bob_client
        .request("joinChat", json!({"chatId": chat_id}))
        .await;

    let (ok, _) = bob_client.typing(chat_id).await;
    assert!(ok, "a member may signal typing");
    let signal = loop {
        let frame = ada_client.frame().await;
        // Skip the backend's own group sends (memberJoined…): they have no publisher.
        if frame["type"] == "message" && frame["from"] == "group" && !frame["fromUserId"].is_null()
        {
            break frame;
        }
    };
    assert_eq!(signal["group"], chat_id);
    assert_eq!(
        signal["fromUserId"], bob["user"]["id"],
        "stamped by the service"
    );
    assert_eq!(signal["data"]["typing"], true);

    let (ok, error) = eve_client.typing(chat_id).await;
    assert!(!ok, "an outsider may not signal typing");
    assert_eq!(error, "Forbidden");

    bob_client
        .request("leaveChat", json!({"chatId": chat_id}))
        .await;
    let (ok, error) = bob_client.typing(chat_id).await;
    assert!(!ok, "after leaving, no more typing");
    assert_eq!(error, "Forbidden");
}
