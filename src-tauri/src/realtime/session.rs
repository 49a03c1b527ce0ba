//! The task that owns the hub WebSocket, and the cloneable handle the rest of the app uses.
//!
//! Why a task: one place owns the socket, its sequence acks and its reconnects, so nothing else
//! ever sees a half-open connection. How: callers send requests over a bounded channel with a
//! oneshot for the backend's reply (matched by `requestId`); server pushes and connection-state
//! changes go out on an event channel. A dropped socket is resumed with the reconnection token
//! (the hub replays what we had not acknowledged, and duplicates are dropped by sequence id); if
//! that is refused, a new connection is made. Requests in flight are sent again after a
//! reconnect: every request is idempotent (messages carry their `clientKey`).
//!
//! While no socket is open, requests wait in the channel (the offline queue) and go out once one
//! is. A fresh connection (not a resume) asks [`Renew`] for a new client URL — the old one may have
//! expired, or the backend restarted — and is announced with [`SessionEvent::NewConnection`], after
//! which the app fetches what it may have missed from the history API. Two watchdogs end a socket
//! that looks open but is not: silence (no frame, not even a pong, for a minute) and a wall-clock
//! jump (the machine slept).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chatr_protocol::client_event::{ClientEvent, ClientRequest};
use chatr_protocol::{Reply, ServerEvent};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::backoff::Backoff;
use super::frame::{self, Incoming, Request, SystemEvent};
use super::sequence::{Receipt, SequenceTracker};
use super::wake::WakeDetector;

/// How long a request may wait for its reply before it fails.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(15);
/// How often to ping, and how long silence means a dead socket.
const PING_EVERY: Duration = Duration::from_secs(20);
const SILENCE_LIMIT: Duration = Duration::from_secs(60);
/// How long a fresh connection waits for the backend's `ready` before the app fills the gap
/// anyway (a backend that failed to admit it will not send one).
const READY_PATIENCE: Duration = Duration::from_secs(5);
/// How often the wall clock is compared with the monotonic one.
const WAKE_CHECK_EVERY: Duration = Duration::from_secs(5);

/// Gets a client URL for a fresh connection (signing in again if need be). An `Err` is a sentence
/// for people; the session then stops.
pub type Renew =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>> + Send + Sync>;

/// The connection's state, for the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    /// Connecting for the first time.
    Connecting,
    /// Connected.
    Connected,
    /// Lost; trying again (attempt number).
    Reconnecting(u32),
    /// Stopped for good (closed by us, or the server refused).
    Closed(String),
}

/// What the session tells the app.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// The connection state changed.
    State(ConnectionState),
    /// A push from the backend.
    Server(ServerEvent),
    /// A fresh connection (not a resume) is open and the backend has put it in its chats' groups
    /// (`ready`): pushes sent while there was none are lost, so the app fetches them from history
    /// now, and re-asserts state the server keeps per connection.
    NewConnection,
    /// Another member is typing in a chat (the backend's `typing` event, never a member's
    /// own publish).
    Typing {
        /// The chat.
        chat_id: String,
        /// Who, as the backend verified it.
        user_id: String,
    },
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No reply within [`REPLY_TIMEOUT`].
    #[error("the server did not answer in time")]
    Timeout,
    /// The service could not deliver it to the backend and it is not safe to send again.
    #[error("the server could not take the request: {0}")]
    NotDelivered(String),
    /// The session has stopped.
    #[error("the session is closed")]
    Closed,
}

/// How long after an error ack (the backend down or restarting) a request is sent again.
const RESEND_AFTER: Duration = Duration::from_secs(1);

struct Pending {
    request: ClientRequest,
    /// The ackId it was first sent with. A resend on a resumed connection reuses it, so the
    /// service drops it as a duplicate if the first copy did arrive (ackIds are per connection
    /// and a resumed connection keeps its own).
    ack_id: u64,
    reply: oneshot::Sender<Result<Reply, Error>>,
    sent_at: Instant,
    /// When to send it again: the service acked it with an error (its event handler failed —
    /// perhaps after storing it), and it is safe to resend (see `ClientEvent::resend_is_safe`).
    resend_at: Option<Instant>,
}

/// What the handle asks the task to do.
enum Command {
    /// A client event; the backend's reply goes to the oneshot.
    Request(ClientEvent, oneshot::Sender<Result<Reply, Error>>),
    /// Close the socket (a clean close: the hub ends the connection at once, so others see the
    /// user leave without waiting out the resume window) and stop; the oneshot says it is done.
    Close(oneshot::Sender<()>),
    /// A best-effort client event (a typing signal): sent once, never queued for resend, its
    /// reply not awaited, and dropped if it could not go out soon enough to matter.
    Signal { event: ClientEvent, at: Instant },
}

/// How stale a best-effort signal (typing) may get before it is dropped.
const SIGNAL_MAX_AGE: Duration = Duration::from_secs(3);

/// A handle to the session task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Session {
    requests: mpsc::Sender<Command>,
}

impl Session {
    /// Starts the task for the client URL `url`; events go to `events`. Fresh connections after
    /// the first reuse `url` (tests, and clients whose URL does not expire).
    pub fn start(url: String, events: mpsc::UnboundedSender<SessionEvent>) -> Self {
        let again = url.clone();
        let renew: Renew = Arc::new(move || {
            let url = again.clone();
            Box::pin(async move { Ok(url) })
        });
        Self::start_with_renew(url, renew, events)
    }

    /// Starts the task for the client URL `url`; fresh connections after the first get their URL
    /// from `renew`.
    pub fn start_with_renew(
        url: String,
        renew: Renew,
        events: mpsc::UnboundedSender<SessionEvent>,
    ) -> Self {
        let (requests, rx) = mpsc::channel(256);
        tokio::spawn(run(url, renew, rx, events));
        Self { requests }
    }

    /// Sends a request and waits for the backend's reply.
    pub async fn request(&self, event: ClientEvent) -> Result<Reply, Error> {
        let (tx, rx) = oneshot::channel();
        self.requests
            .send(Command::Request(event, tx))
            .await
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Closes the connection for good (sign-out); pending requests fail with [`Error::Closed`].
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.requests.send(Command::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }

    /// Sends `event` best effort, without waiting for a reply (typing signals): it is never
    /// sent again after a drop, and one that waited offline too long is dropped.
    pub async fn signal(&self, event: ClientEvent) -> Result<(), Error> {
        self.requests
            .send(Command::Signal {
                event,
                at: Instant::now(),
            })
            .await
            .map_err(|_| Error::Closed)
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(url: &str) -> Result<Socket, String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        frame::RELIABLE_SUBPROTOCOL
            .parse()
            .map_err(|_| "bad header".to_owned())?,
    );
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
        .map_err(|e| e.to_string())
}

/// Where to resume: `(connection id, reconnection token)` from the last `connected` frame.
fn resume_url(url: &str, resume: &(String, String)) -> String {
    let base = url.split('?').next().unwrap_or(url);
    format!(
        "{base}?awps_connection_id={}&awps_reconnection_token={}",
        resume.0, resume.1
    )
}

async fn run(
    mut url: String,
    renew: Renew,
    mut requests: mpsc::Receiver<Command>,
    events: mpsc::UnboundedSender<SessionEvent>,
) {
    let backoff = Backoff::default();
    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut resume: Option<(String, String)> = None;
    let mut tracker = SequenceTracker::default();
    let mut next_request = 1u64;
    // Never reset: ackIds stay unique for the connection id across resumes.
    let mut ack_id = 0u64;
    let mut attempt = 0u32;
    let mut first = true;
    let _ = events.send(SessionEvent::State(ConnectionState::Connecting));

    loop {
        if resume.is_none() && !first {
            match renew().await {
                Ok(fresh) => url = fresh,
                Err(reason) if attempt >= 3 => {
                    // Signing in again keeps failing: stop, and say why.
                    for (_, p) in pending.drain() {
                        let _ = p.reply.send(Err(Error::Closed));
                    }
                    let _ = events.send(SessionEvent::State(ConnectionState::Closed(reason)));
                    return;
                }
                Err(reason) => {
                    tracing::debug!(cause = %reason, "cannot renew the client URL");
                    attempt += 1;
                    let _ =
                        events.send(SessionEvent::State(ConnectionState::Reconnecting(attempt)));
                    tokio::time::sleep(backoff.delay(attempt.min(10), rand_unit())).await;
                    continue;
                }
            }
        }
        first = false;
        // Connect: resume if we can, else a fresh connection.
        let target = resume
            .as_ref()
            .map_or_else(|| url.clone(), |r| resume_url(&url, r));
        let mut socket = match open(&target).await {
            Ok(socket) => socket,
            Err(err) => {
                tracing::debug!(cause = %err, "connect failed");
                attempt += 1;
                let _ = events.send(SessionEvent::State(ConnectionState::Reconnecting(attempt)));
                tokio::time::sleep(backoff.delay(attempt.min(10), rand_unit())).await;
                if attempt > 3 {
                    // The resume window may be over: start a new connection.
                    resume = None;
                }
                continue;
            }
        };
        let resumed = resume.is_some();
        if !resumed {
            tracker.reset();
        }
        // Everything not yet answered is sent again (requests are idempotent).
        let mut last_heard = Instant::now();
        let mut ping = tokio::time::interval(PING_EVERY);
        let mut ack_tick = tokio::time::interval(Duration::from_millis(250));
        let mut wake_tick = tokio::time::interval(WAKE_CHECK_EVERY);
        let mut wake = WakeDetector::new(Instant::now(), SystemTime::now());
        // A fresh connection's `connected` frame arrived; `NewConnection` waits for `ready`.
        let mut awaiting_ready: Option<Instant> = None;
        let mut resend: Vec<String> = pending.keys().cloned().collect();
        resend.sort_by_key(|id| pending.get(id).map(|p| p.ack_id));
        let ended = loop {
            tokio::select! {
                incoming = socket.next() => {
                    let text = match incoming {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(close))) => {
                            let code = close.as_ref().map(|c| u16::from(c.code));
                            if code == Some(1008) {
                                resume = None; // not recoverable: a new connection
                            }
                            break None;
                        }
                        Some(Ok(_)) => continue,
                        Some(Err(_)) | None => break None,
                    };
                    last_heard = Instant::now();
                    let Ok(frame) = frame::decode(&text) else { continue };
                    match frame {
                        Incoming::System { event: SystemEvent::Connected, connection_id, reconnection_token, .. } => {
                            if let (Some(id), Some(token)) = (connection_id, reconnection_token) {
                                resume = Some((id, token));
                            }
                            attempt = 0;
                            let _ = events.send(SessionEvent::State(ConnectionState::Connected));
                            if !resumed {
                                awaiting_ready = Some(Instant::now());
                            }
                            for id in resend.drain(..) {
                                if let Some(p) = pending.get(&id) {
                                    let out = Request::event(p.request.event_name(), p.ack_id, p.request.body());
                                    if socket.send(Message::Text(out.to_text().into())).await.is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        // The service ended this connection for good: it cannot be resumed.
                        Incoming::System { event: SystemEvent::Disconnected, .. } => resume = None,
                        Incoming::Message { data, sequence_id, from_user_id, group, .. } => {
                            if let Some(id) = sequence_id
                                && tracker.receive(id) == Receipt::Duplicate
                            {
                                continue;
                            }
                            // A message a member published to a group is never a backend event,
                            // whatever it claims to be: only messages without a publisher come
                            // from the backend. (Members may not publish to chats' groups at
                            // all; one that somehow did is ignored.)
                            if from_user_id.is_some() {
                                tracing::debug!(group = ?group, "ignored a member's group publish");
                                continue;
                            }
                            match serde_json::from_value::<ServerEvent>(data) {
                                Ok(ServerEvent::Reply(reply)) => {
                                    let id = match &reply {
                                        Reply::Ok { request_id, .. } | Reply::Error { request_id, .. } => request_id.clone(),
                                    };
                                    if let Some(p) = id.and_then(|id| pending.remove(&id)) {
                                        let _ = p.reply.send(Ok(reply));
                                    }
                                }
                                Ok(ServerEvent::Typing { chat_id, user_id }) => {
                                    let _ = events.send(SessionEvent::Typing { chat_id, user_id });
                                }
                                Ok(ServerEvent::Ready {}) => {
                                    if awaiting_ready.take().is_some() {
                                        let _ = events.send(SessionEvent::NewConnection);
                                    }
                                }
                                Ok(event) => {
                                    let _ = events.send(SessionEvent::Server(event));
                                }
                                Err(err) => tracing::debug!(cause = %err, "unknown server message"),
                            }
                        }
                        Incoming::Ack { ack_id: acked, success: false, error } => {
                            // `Duplicate`: a resend on a resumed connection; the first copy's
                            // reply comes. Anything else: the backend did not answer.
                            let reason = error.map(|e| (e.name, e.message)).unwrap_or_default();
                            if reason.0 != "Duplicate"
                                && let Some(id) = pending.iter().find(|(_, p)| p.ack_id == acked).map(|(id, _)| id.clone())
                            {
                                if pending.get(&id).is_some_and(|p| p.request.event.resend_is_safe()) {
                                    if let Some(p) = pending.get_mut(&id) {
                                        p.resend_at = Some(Instant::now() + RESEND_AFTER);
                                    }
                                } else if let Some(p) = pending.remove(&id) {
                                    let _ = p.reply.send(Err(Error::NotDelivered(reason.1)));
                                }
                            }
                        }
                        Incoming::Ack { .. } | Incoming::Pong | Incoming::Unknown | Incoming::System { .. } => {}
                    }
                }
                request = requests.recv() => {
                    let (event, reply) = match request {
                        Some(Command::Request(event, reply)) => (event, reply),
                        Some(Command::Signal { event, at }) => {
                            if at.elapsed() > SIGNAL_MAX_AGE {
                                continue;
                            }
                            // No requestId: the backend's reply matches nothing and is dropped.
                            let request = ClientRequest { request_id: None, event };
                            ack_id += 1;
                            let out = Request::event(request.event_name(), ack_id, request.body());
                            if socket.send(Message::Text(out.to_text().into())).await.is_err() {
                                break None;
                            }
                            continue;
                        }
                        Some(Command::Close(done)) => {
                            let _ = socket.close(None).await;
                            let _ = done.send(());
                            break Some("the app closed the session".to_owned());
                        }
                        None => {
                            let _ = socket.close(None).await;
                            break Some("the app closed the session".to_owned());
                        }
                    };
                    let id = format!("q{next_request}");
                    next_request += 1;
                    let request = ClientRequest { request_id: Some(id.clone()), event };
                    ack_id += 1;
                    let out = Request::event(request.event_name(), ack_id, request.body());
                    pending.insert(id, Pending { request, ack_id, reply, sent_at: Instant::now(), resend_at: None });
                    if socket.send(Message::Text(out.to_text().into())).await.is_err() {
                        break None;
                    }
                }
                _ = ack_tick.tick() => {
                    if awaiting_ready.is_some_and(|since| since.elapsed() > READY_PATIENCE) {
                        awaiting_ready = None;
                        let _ = events.send(SessionEvent::NewConnection);
                    }
                    if let Some(seq) = tracker.ack_due(Instant::now()) {
                        let out = Request::SequenceAck { sequence_id: seq };
                        if socket.send(Message::Text(out.to_text().into())).await.is_err() {
                            break None;
                        }
                    }
                    let now = Instant::now();
                    // Requests whose ack was an error go again, under a new ackId (the service
                    // has seen the old one); the backend answers a stored one from the store.
                    let mut due: Vec<(u64, String)> = Vec::new();
                    for p in pending.values_mut() {
                        if p.resend_at.is_some_and(|at| at <= now) {
                            p.resend_at = None;
                            ack_id += 1;
                            p.ack_id = ack_id;
                            due.push((ack_id, Request::event(p.request.event_name(), ack_id, p.request.body()).to_text()));
                        }
                    }
                    due.sort();
                    for (_, text) in due {
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    let expired: Vec<String> = pending
                        .iter()
                        .filter(|(_, p)| now.duration_since(p.sent_at) > REPLY_TIMEOUT)
                        .map(|(id, _)| id.clone())
                        .collect();
                    for id in expired {
                        if let Some(p) = pending.remove(&id) {
                            let _ = p.reply.send(Err(Error::Timeout));
                        }
                    }
                }
                _ = wake_tick.tick() => {
                    if wake.tick(Instant::now(), SystemTime::now()) {
                        tracing::info!("the machine slept: reconnecting");
                        break None;
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > SILENCE_LIMIT {
                        break None; // a zombie socket: reconnect
                    }
                    if socket.send(Message::Text(Request::Ping.to_text().into())).await.is_err() {
                        break None;
                    }
                }
            }
        };
        if let Some(reason) = ended {
            for (_, p) in pending.drain() {
                let _ = p.reply.send(Err(Error::Closed));
            }
            let _ = events.send(SessionEvent::State(ConnectionState::Closed(reason)));
            return;
        }
        attempt += 1;
        let _ = events.send(SessionEvent::State(ConnectionState::Reconnecting(attempt)));
        tokio::time::sleep(
            backoff
                .delay(attempt.min(10), rand_unit())
                .min(Duration::from_secs(2)),
        )
        .await;
    }
}

/// A random number in `[0, 1)` for jitter.
fn rand_unit() -> f64 {
    use rand::Rng;
    rand::rng().random::<f64>()
}
