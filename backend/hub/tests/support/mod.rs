//! Test harness: a hub on port 0, token minting, a small WebSocket client, and a recording
//! upstream event handler.

#![allow(dead_code, clippy::unwrap_used)] // shared by several test binaries; a panic is the report

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use chatr_hub::{HubConfig, UpstreamHandler};
use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";
pub const JSON: &str = "json.webpubsub.azure.v1";
pub const RELIABLE: &str = "json.reliable.webpubsub.azure.v1";

pub struct Hub {
    pub addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Hub {
    pub async fn start(config: HubConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener, config)
    }

    pub fn start_on(listener: tokio::net::TcpListener, config: HubConfig) -> Self {
        let addr = listener.local_addr().unwrap().to_string();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(chatr_hub::serve(listener, config, async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub async fn plain() -> Self {
        Self::start(HubConfig::new(KEY)).await
    }

    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub fn url(&self, hub: &str) -> String {
        format!("ws://{}/client/hubs/{hub}", self.addr)
    }

    pub fn token(&self, hub: &str, claims: Value) -> String {
        client_token(&format!("http://{}/client/hubs/{hub}", self.addr), claims)
    }

    pub fn rest_url(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!(
            "http://{}/api/hubs/{path}{sep}api-version=2024-01-01",
            self.addr
        )
    }

    /// A REST call signed like the SDKs sign it (`aud` = the full URL).
    pub async fn rest(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let url = self.rest_url(path);
        let token = rest_token(&url, KEY);
        let mut request = reqwest::Client::new()
            .request(method, &url)
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn client_token(aud: &str, claims: Value) -> String {
    let mut claims = claims;
    claims["aud"] = json!(aud);
    if claims.get("exp").is_none() {
        claims["exp"] = json!(now() + 600);
    }
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(KEY.as_bytes()),
    )
    .unwrap()
}

pub fn rest_token(url: &str, key: &str) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        &json!({"aud": url, "exp": now() + 600}),
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects with `subprotocol` (if any); returns the socket or the HTTP status of the refusal.
pub async fn connect(url: &str, subprotocol: Option<&str>) -> Result<Socket, u16> {
    let mut request = url.into_client_request().unwrap();
    if let Some(p) = subprotocol {
        request
            .headers_mut()
            .insert("sec-websocket-protocol", p.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(err) => panic!("unexpected connect error: {err}"),
    }
}

pub async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

/// The next frame, within 5 s: a JSON text frame as a value, or the close code as `{"close": n}`.
pub async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s");
        match message {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(&text).unwrap_or(json!({"raw": text.to_string()}));
            }
            Some(Ok(Message::Binary(bytes))) => return json!({"binary": bytes.to_vec()}),
            Some(Ok(Message::Close(frame))) => {
                return json!({"close": frame.map(|f| u16::from(f.code)).unwrap_or(1005)});
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return json!({"close": 1006}),
        }
    }
}

/// Reads frames until one satisfies `pred`.
pub async fn next_where(socket: &mut Socket, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..5000 {
        let frame = next(socket).await;
        if pred(&frame) {
            return frame;
        }
    }
    panic!("no matching frame in 5000");
}

/// Whether nothing arrives for a short while.
pub async fn silent(socket: &mut Socket) -> bool {
    tokio::time::timeout(Duration::from_millis(300), socket.next())
        .await
        .is_err()
}

/// A recorded upstream request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// How the recording upstream answers.
pub type Answer = Arc<dyn Fn(&Recorded) -> Response + Send + Sync>;

/// An upstream event handler on loopback that records every request and answers with `answer`
/// (abuse-protection OPTIONS are answered by default).
pub struct Upstream {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Upstream {
    pub async fn start(answer: Answer) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/eventHandler", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let log = requests.clone();
        let app = Router::new().route(
            "/api/eventHandler",
            any(
                move |method: axum::http::Method, headers: HeaderMap, body: axum::body::Bytes| {
                    let (log, answer) = (log.clone(), answer.clone());
                    async move {
                        let recorded = Recorded {
                            method: method.to_string(),
                            headers,
                            body: body.to_vec(),
                        };
                        log.lock().unwrap().push(recorded.clone());
                        if recorded.method == "OPTIONS" {
                            let origin = recorded
                                .header("webhook-request-origin")
                                .unwrap_or_default();
                            return (StatusCode::OK, [("webhook-allowed-origin", origin)])
                                .into_response();
                        }
                        answer(&recorded)
                    }
                },
            ),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, requests }
    }

    pub fn config(&self) -> HubConfig {
        HubConfig::new(KEY).with_upstream("chat", UpstreamHandler::all_events(&self.url))
    }

    /// Waits (bounded) for a recorded POST with `ce-eventname` = `event`.
    pub async fn wait_for(&self, event: &str) -> Recorded {
        for _ in 0..250 {
            if let Some(found) =
                self.requests.lock().unwrap().iter().find(|r| {
                    r.method == "POST" && r.header("ce-eventname").as_deref() == Some(event)
                })
            {
                return found.clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the upstream never got {event}");
    }
}

pub fn no_content() -> Answer {
    Arc::new(|_| StatusCode::NO_CONTENT.into_response())
}
