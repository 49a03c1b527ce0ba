//! Two backend instances behind one hub and one store behave as one: the hub sends every event to
//! instance A, people sign in and read through instance B, and nothing notices. Sessions issued by
//! one instance are honoured by the other (a shared secret), presence and history written by A are
//! what B serves. This is how the backend scales out on Azure (replicas behind Web PubSub).

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod support;

use std::time::Duration;

use chatr_backend::{AppState, Config, HubSettings};
use chatr_hub::{HubConfig, UpstreamHandler};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "one-secret-shared-by-every-instance-of-it";

async fn listener() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// Connects with the JSON subprotocol and waits for `connected`.
async fn connect(
    session: &Value,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut socket = support::open_socket(session, "json.webpubsub.azure.v1").await;
    let Some(Ok(Message::Text(hello))) = socket.next().await else {
        panic!("no connected frame");
    };
    assert!(hello.contains("connected"), "{hello}");
    socket
}

/// Sends a chat event and returns the backend's reply.
async fn request(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    ack_id: u64,
    event: &str,
    mut data: Value,
) -> Value {
    let request_id = format!("r{ack_id}");
    data["requestId"] = json!(request_id);
    let frame =
        json!({"type": "event", "event": event, "ackId": ack_id, "dataType": "json", "data": data});
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout_at(deadline, socket.next()).await
        else {
            panic!("no reply to {event}");
        };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["data"]["chatEvent"] == "reply" && frame["data"]["data"]["requestId"] == request_id
        {
            return frame["data"]["data"].clone();
        }
    }
}

async fn get(url: &str, session: &Value) -> Value {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(session["sessionToken"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_one_hub_and_one_store_behave_as_one() {
    let data = std::env::temp_dir().join(format!("chatr-stateless-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&data).unwrap();
    let (hub_listener, hub_url) = listener().await;
    let (a_listener, a_url) = listener().await;
    let (b_listener, b_url) = listener().await;
    let key = chatr_hub::random_access_key();
    let hub_config = HubConfig::new(key.clone()).with_upstream(
        "chat",
        UpstreamHandler::all_events(format!("{a_url}/api/eventHandler")),
    );
    tokio::spawn(chatr_hub::serve(
        hub_listener,
        hub_config,
        std::future::pending(),
    ));
    for (listener, url) in [(a_listener, &a_url), (b_listener, &b_url)] {
        let mut config = Config::local(url);
        config.session_secret = SECRET.as_bytes().to_vec();
        config.database = Some(data.join("chatr.db"));
        config.allowed_origins = vec![hub_url.trim_start_matches("http://").to_owned()];
        config.grant_timing.interval = Duration::ZERO;
        config.hub = Some(HubSettings {
            connection_string: chatr_hub::connection_string(&hub_url, &key),
            hub: "chat".into(),
            entra_tokens: None,
            event_issuer: None,
            event_caller: None,
        });
        let state = AppState::new(config).unwrap();
        tokio::spawn(chatr_backend::serve(
            listener,
            state,
            std::future::pending(),
        ));
    }

    // Ada signs in at A, Bob at B; both connect through the one hub, whose events go to A.
    let ada = support::sign_in(&a_url, "Ada").await;
    let bob = support::sign_in(&b_url, "Bob").await;
    let mut ada_socket = connect(&ada).await;
    let mut bob_socket = connect(&bob).await;
    let chat =
        request(&mut ada_socket, 1, "createChat", json!({"name": "Scale"})).await["chat"].clone();
    let joined = request(
        &mut bob_socket,
        1,
        "joinChat",
        json!({"chatId": chat["id"]}),
    )
    .await;
    assert_eq!(joined["status"], "ok", "{joined}");
    for i in 1..=5 {
        let sent = request(
            &mut bob_socket,
            1 + i,
            "sendMessage",
            json!({"chatId": chat["id"], "clientKey": format!("k{i}"), "text": format!("hi {i}")}),
        )
        .await;
        assert_eq!(sent["message"]["seq"], i, "{sent}");
    }

    // B serves what A stored, to sessions either instance issued.
    let chat_id = chat["id"].as_str().unwrap();
    for session in [&ada, &bob] {
        let history = get(&format!("{b_url}/api/chats/{chat_id}/messages"), session).await;
        let texts: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts, ["hi 1", "hi 2", "hi 3", "hi 4", "hi 5"]);
    }
    let users = get(&format!("{b_url}/api/users"), &ada).await;
    for user in users.as_array().unwrap() {
        assert_eq!(
            user["presence"], "online",
            "presence recorded by A, read at B: {user}"
        );
    }
    let members = get(&format!("{a_url}/api/chats/{chat_id}/members"), &bob).await;
    assert_eq!(members.as_array().unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(&data);
}
