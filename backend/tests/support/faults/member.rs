//! One chat member of the fault suite: a strict `json.reliable.webpubsub.azure.v1` client with the
//! desktop app's recovery — resume with the reconnection token; when that is refused, a fresh
//! connection, the backend's `ready`, then the gap from `GET /api/chats/{id}/messages?after=` —
//! that sends paced messages with idempotent retries (same clientKey) and cuts its own socket
//! (no close frame) where its seeded plan says.
//!
//! It records what it saw in the [`tally`](super::tally) types and never repairs an anomaly it
//! could hide: a gap or a repeat of `sequenceId`s is counted, not skipped over.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::tally::{Inbox, Ledger, Sequence, SequenceCounts, Source, Stored, Take};

/// The subprotocol every member speaks.
pub const SUBPROTOCOL: &str = "json.reliable.webpubsub.azure.v1";
/// How long a dropped connection keeps trying to resume before it starts afresh (the client
/// spec's 30 s).
const RESUME_PATIENCE: Duration = Duration::from_secs(30);
/// How long a fresh connection waits for `ready` before filling the gap anyway (as the app).
const READY_PATIENCE: Duration = Duration::from_secs(5);
/// How long a sent message waits for its reply before it goes out again.
const REPLY_PATIENCE: Duration = Duration::from_secs(5);
/// Unreplied messages one sender keeps in flight.
const WINDOW: usize = 16;
/// Acknowledge at least this often…
const ACK_EVERY: Duration = Duration::from_millis(20);
/// …or once this many frames are unacknowledged.
const ACK_AFTER: u64 = 64;
/// A long absence lasts until this many more messages were acknowledged to the senders: more
/// than the hub buffers for one connection (1000), so the resume must be refused.
pub const LONG_ABSENCE_MESSAGES: u64 = 1200;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What every member and the scenario share.
#[derive(Debug, Default)]
pub struct Shared {
    /// What senders created and were told.
    pub ledger: Mutex<Ledger>,
    /// Messages acknowledged so far (first ok replies).
    pub acked: AtomicU64,
    /// Senders create no new messages once set (they still retry).
    pub stop_sending: AtomicBool,
    /// Fresh connections made so far, by all members.
    pub fresh_connections: AtomicU64,
}

impl Shared {
    /// The ledger, locked.
    pub fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What a member does during the traffic.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Messages to send (0: a pure receiver).
    pub sends: u64,
    /// Messages per second.
    pub rate: f64,
    /// Cut the socket every so many received frames (a seeded pick in the range); `None`: never.
    pub cut_every: Option<(u64, u64)>,
    /// Which cut (0-based) stays away for [`LONG_ABSENCE_MESSAGES`].
    pub long_absence: Option<u32>,
    /// The seed of its choices.
    pub seed: u64,
}

/// A request the scenario asks a running member to make.
#[derive(Debug)]
pub struct Command {
    /// The chat event.
    pub event: &'static str,
    /// Its data.
    pub data: Value,
    /// Where the reply goes.
    pub reply: oneshot::Sender<Value>,
}

/// How a member's connections fared.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Sockets it cut.
    pub cuts: u64,
    /// Resumes that worked.
    pub resumed: u64,
    /// Resumes the hub refused (closed with 1008).
    pub resume_refused: u64,
    /// Resume attempts that failed to connect (hub down, 5xx).
    pub resume_errors: u64,
    /// Fresh connections.
    pub fresh: u64,
    /// Fresh connection attempts that failed.
    pub fresh_errors: u64,
    /// Fresh connections whose `ready` never came.
    pub ready_missing: u64,
    /// History requests that failed (and were retried).
    pub history_errors: u64,
    /// Sockets the server closed, by close code.
    pub closed_by_server: BTreeMap<u16, u64>,
    /// Sockets that ended without a close frame (not cut by us).
    pub dropped: u64,
    /// A successful ack of a message whose reply never came on that socket.
    pub ack_without_reply: u64,
    /// Acks saying `Duplicate` (a resend of an ackId the hub had seen).
    pub duplicate_acks: u64,
}

/// What a member hands back when the scenario stops it.
#[derive(Debug, Clone)]
pub struct Report {
    /// Its name.
    pub name: String,
    /// What it holds of the chat.
    pub inbox: Inbox,
    /// Its `sequenceId` figures over every connection.
    pub sequence: SequenceCounts,
    /// Ids missing on its last connection.
    pub open_missing: u64,
    /// Its connections.
    pub stats: Stats,
}

struct Pending {
    text: String,
    ack_id: u64,
    retry_at: Option<Instant>,
    reply_by: Instant,
}

/// One signed-in member.
pub struct Member {
    index: usize,
    name: String,
    session_url: String,
    session_token: String,
    resume_base: String,
    backend: String,
    http: reqwest::Client,
    shared: Arc<Shared>,
    socket: Option<Socket>,
    link: Option<(String, String)>,
    sequence: Sequence,
    /// What it holds of the chat (read by the scenario while it runs).
    pub inbox: Arc<Mutex<Inbox>>,
    stats: Stats,
    chat: Option<String>,
    next_ack_id: u64,
    next_request: u64,
    pending: BTreeMap<String, Pending>,
    by_ack: HashMap<u64, String>,
    controls: HashMap<String, (Value, oneshot::Sender<Value>)>,
    replies: HashMap<String, Value>,
    ready: bool,
    refill_owed: bool,
    frames_since_cut: u64,
    last_ack: Instant,
    rng: StdRng,
}

/// Wall-clock milliseconds, as the server stamps `sentAt`.
fn wall_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

async fn dial(url: &str) -> Result<Socket, String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", SUBPROTOCOL.parse().unwrap());
    match tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(request),
    )
    .await
    {
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("connect timed out".into()),
    }
}

/// The first frame of a socket: `connected`, or why not.
enum Opening {
    Connected(Value),
    Closed(Option<u16>),
    Broken,
}

async fn opening(socket: &mut Socket) -> Opening {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                return if frame["type"] == "system" && frame["event"] == "connected" {
                    Opening::Connected(frame)
                } else {
                    Opening::Broken
                };
            }
            Ok(Some(Ok(Message::Close(close)))) => {
                return Opening::Closed(close.map(|c| u16::from(c.code)));
            }
            Ok(Some(Ok(_))) => {}
            _ => return Opening::Broken,
        }
    }
}

/// Closes `socket` abruptly: no close frame; with `reset`, a TCP RST instead of a FIN.
fn cut(socket: Socket, reset: bool) {
    if reset && let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = socket.get_ref() {
        // Linger 0 makes the close a reset; it never blocks the drop.
        #[allow(deprecated)]
        let _ = tcp.set_linger(Some(Duration::ZERO));
    }
    drop(socket);
}

enum Event {
    Stop,
    Command(Command),
    Frame(Option<Result<Message, String>>),
    Tick,
}

impl Member {
    /// A member for `session` (from `POST /api/token`) of the backend at `backend`.
    pub fn new(
        index: usize,
        name: &str,
        session: &Value,
        backend: &str,
        shared: Arc<Shared>,
    ) -> Self {
        let session_url = session["url"].as_str().unwrap().to_owned();
        let resume_base = session_url.split('?').next().unwrap().to_owned();
        Self {
            index,
            name: name.to_owned(),
            session_url,
            session_token: session["sessionToken"].as_str().unwrap().to_owned(),
            resume_base,
            backend: backend.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            shared,
            socket: None,
            link: None,
            sequence: Sequence::default(),
            inbox: Arc::new(Mutex::new(Inbox::default())),
            stats: Stats::default(),
            chat: None,
            next_ack_id: 1,
            next_request: 1,
            pending: BTreeMap::new(),
            by_ack: HashMap::new(),
            controls: HashMap::new(),
            replies: HashMap::new(),
            ready: false,
            refill_owed: false,
            frames_since_cut: 0,
            last_ack: Instant::now(),
            rng: StdRng::seed_from_u64(index as u64),
        }
    }

    /// The chat whose messages it follows.
    pub fn follow(&mut self, chat: &str) {
        self.chat = Some(chat.to_owned());
    }

    fn inbox(&self) -> MutexGuard<'_, Inbox> {
        self.inbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn write(&mut self, frame: Value) {
        if let Some(socket) = self.socket.as_mut()
            && socket
                .send(Message::Text(frame.to_string().into()))
                .await
                .is_err()
        {
            self.socket = None;
            self.stats.dropped += 1;
        }
    }

    fn take_ack_id(&mut self) -> u64 {
        let id = self.next_ack_id;
        self.next_ack_id += 1;
        id
    }

    /// Sends `sequenceAck` if due (`force`: whenever there is something to acknowledge).
    async fn flush_ack(&mut self, force: bool) {
        let due =
            force || self.sequence.unacked() >= ACK_AFTER || self.last_ack.elapsed() >= ACK_EVERY;
        if due && let Some(id) = self.sequence.ack() {
            self.last_ack = Instant::now();
            self.write(json!({"type": "sequenceAck", "sequenceId": id}))
                .await;
        }
    }

    /// Connects, resuming when it can, else afresh (then `ready` and the history gap).
    pub async fn connect(&mut self, stop: &watch::Receiver<bool>) {
        if self.link.is_some() && self.resume(stop).await {
            if self.refill_owed {
                self.refill(stop).await;
            }
            self.resend_pending(true).await;
            return;
        }
        self.fresh(stop).await;
    }

    async fn resume(&mut self, stop: &watch::Receiver<bool>) -> bool {
        let Some((id, token)) = self.link.clone() else {
            return false;
        };
        let url = format!(
            "{}?awps_connection_id={id}&awps_reconnection_token={token}",
            self.resume_base
        );
        let deadline = Instant::now() + RESUME_PATIENCE;
        while Instant::now() < deadline && !*stop.borrow() {
            match dial(&url).await {
                Ok(mut socket) => match opening(&mut socket).await {
                    Opening::Connected(frame) => {
                        if let Some(token) = frame["reconnectionToken"].as_str() {
                            self.link = Some((id, token.to_owned()));
                        }
                        self.sequence.resumed();
                        self.socket = Some(socket);
                        self.stats.resumed += 1;
                        return true;
                    }
                    Opening::Closed(_) => {
                        self.stats.resume_refused += 1;
                        return false;
                    }
                    Opening::Broken => self.stats.resume_errors += 1,
                },
                Err(_) => self.stats.resume_errors += 1,
            }
            let pause = self.rng.random_range(50..150);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        false
    }

    async fn fresh(&mut self, stop: &watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            if let Ok(mut socket) = dial(&self.session_url).await
                && let Opening::Connected(frame) = opening(&mut socket).await
            {
                self.link = Some((
                    frame["connectionId"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    frame["reconnectionToken"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                ));
                self.sequence.fresh();
                self.socket = Some(socket);
                self.stats.fresh += 1;
                self.shared.fresh_connections.fetch_add(1, Ordering::SeqCst);
                break;
            }
            self.stats.fresh_errors += 1;
            let pause = self.rng.random_range(50..150);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        self.ready = false;
        self.refill_owed = true;
        let patience = Instant::now() + READY_PATIENCE;
        while !self.ready && self.socket.is_some() && Instant::now() < patience {
            let next =
                tokio::time::timeout_at(patience, self.socket.as_mut().unwrap().next()).await;
            match next {
                Ok(message) => {
                    self.on_message(message.map(|m| m.map_err(|e| e.to_string())))
                        .await
                }
                Err(_) => break,
            }
        }
        if !self.ready {
            self.stats.ready_missing += 1;
        }
        if self.socket.is_none() {
            return; // dropped again: the next connection fills the gap
        }
        self.refill(stop).await;
        self.resend_pending(false).await;
    }

    /// Fetches the chat's messages after the watermark, as the app does after a fresh connection.
    async fn refill(&mut self, stop: &watch::Receiver<bool>) {
        let Some(chat) = self.chat.clone() else {
            self.refill_owed = false;
            return;
        };
        let mut after = self.inbox().watermark();
        loop {
            if *stop.borrow() {
                return;
            }
            match history_page(&self.http, &self.backend, &self.session_token, &chat, after).await {
                Ok(page) => {
                    let full = page.len() == HISTORY_PAGE;
                    let mut inbox = self.inbox();
                    for message in &page {
                        inbox.receive(message.seq, &message.key, Source::Refill);
                    }
                    drop(inbox);
                    match page.last() {
                        Some(last) if full => after = last.seq,
                        _ => break,
                    }
                }
                Err(_) => {
                    self.stats.history_errors += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        self.refill_owed = false;
    }

    /// Sends every unreplied message again: with its ackId on a resumed connection (the hub
    /// answers `Duplicate` if it had it), with a new one on a fresh connection.
    async fn resend_pending(&mut self, same_ack_ids: bool) {
        let keys: Vec<String> = self.pending.keys().cloned().collect();
        for key in keys {
            self.send_message(&key, same_ack_ids).await;
        }
        let controls: Vec<(String, Value)> = self
            .controls
            .iter()
            .map(|(id, (frame, _))| (id.clone(), frame.clone()))
            .collect();
        if !same_ack_ids {
            for (_, frame) in controls {
                let mut frame = frame;
                frame["ackId"] = json!(self.take_ack_id());
                self.write(frame).await;
            }
        }
    }

    async fn send_message(&mut self, key: &str, same_ack_id: bool) {
        let Some(chat) = self.chat.clone() else {
            return;
        };
        let ack_id = match self.pending.get(key) {
            Some(p) if same_ack_id => p.ack_id,
            Some(_) => self.take_ack_id(),
            None => return,
        };
        let Some(pending) = self.pending.get_mut(key) else {
            return;
        };
        if pending.ack_id != ack_id {
            self.by_ack.remove(&pending.ack_id);
        }
        pending.ack_id = ack_id;
        pending.retry_at = None;
        pending.reply_by = Instant::now() + REPLY_PATIENCE;
        let text = pending.text.clone();
        self.by_ack.insert(ack_id, key.to_owned());
        self.shared.ledger().attempt(key, wall_ms());
        self.write(
            json!({"type": "event", "event": "sendMessage", "ackId": ack_id,
            "dataType": "json",
            "data": {"chatId": chat, "clientKey": key, "text": text, "requestId": key}}),
        )
        .await;
    }

    /// Creates message number `n` and sends it.
    async fn create(&mut self, n: u64) {
        let key = format!("{}-{n:06}", self.name);
        let filler = "x".repeat(self.rng.random_range(0..120));
        self.shared.ledger().created(&key, self.index);
        self.pending.insert(
            key.clone(),
            Pending {
                text: format!("{} says {n} {filler}", self.name),
                ack_id: 0,
                retry_at: None,
                reply_by: Instant::now(),
            },
        );
        self.send_message(&key, false).await;
    }

    /// Sends whatever waited long enough for a reply, or was told to retry.
    async fn retry_due(&mut self) {
        let now = Instant::now();
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.retry_at.is_some_and(|t| t <= now) || p.reply_by <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            self.send_message(&key, false).await;
        }
    }

    /// Handles what the socket produced.
    async fn on_message(&mut self, message: Option<Result<Message, String>>) {
        match message {
            Some(Ok(Message::Text(text))) => self.on_frame(&text).await,
            Some(Ok(Message::Close(close))) => {
                let code = close.map_or(1005, |c| u16::from(c.code));
                *self.stats.closed_by_server.entry(code).or_default() += 1;
                self.socket = None;
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                self.stats.dropped += 1;
                self.socket = None;
            }
        }
    }

    async fn on_frame(&mut self, text: &str) {
        let Ok(frame) = serde_json::from_str::<Value>(text) else {
            return;
        };
        match frame["type"].as_str() {
            Some("message") => {
                let take = match frame["sequenceId"].as_u64() {
                    Some(id) => self.sequence.take(id),
                    None => {
                        self.sequence.counts.unnumbered += 1;
                        Take::New
                    }
                };
                self.frames_since_cut += 1;
                if self.sequence.unacked() >= ACK_AFTER {
                    self.flush_ack(true).await;
                }
                if matches!(take, Take::Replayed | Take::Repeat) {
                    return;
                }
                if frame["from"] == "group" && !frame["fromUserId"].is_null() {
                    return; // a typing signal published by a member
                }
                let data = &frame["data"];
                match data["chatEvent"].as_str() {
                    Some("message") => {
                        let message = &data["data"]["message"];
                        if self.chat.as_deref() == message["chatId"].as_str()
                            && let (Some(seq), Some(key)) =
                                (message["seq"].as_u64(), message["clientKey"].as_str())
                        {
                            self.inbox().receive(seq, key, Source::Live);
                        }
                    }
                    Some("reply") => self.on_reply(&data["data"]),
                    Some("ready") => self.ready = true,
                    _ => {}
                }
            }
            Some("ack") => self.on_ack(&frame),
            _ => {}
        }
    }

    fn on_reply(&mut self, reply: &Value) {
        let Some(request) = reply["requestId"].as_str() else {
            return;
        };
        if let Some((_, tx)) = self.controls.remove(request) {
            let _ = tx.send(reply.clone());
            return;
        }
        if request.starts_with("ctl-") {
            self.replies.insert(request.to_owned(), reply.clone());
            return;
        }
        if reply["status"] == "ok" {
            let seq = reply["message"]["seq"].as_u64().unwrap_or(0);
            let mut ledger = self.shared.ledger();
            if reply["message"]["clientKey"] != request {
                // The reply names another message: never the same seq as the request's.
                ledger.refused("replyForAnotherKey");
            } else if ledger.ok(request, seq) {
                self.shared.acked.fetch_add(1, Ordering::SeqCst);
            }
            drop(ledger);
            if let Some(pending) = self.pending.remove(request) {
                self.by_ack.remove(&pending.ack_id);
            }
        } else {
            let code = reply["code"].as_str().unwrap_or("?");
            self.shared.ledger().refused(code);
            let attempts = self.pending.len() as u64;
            if let Some(pending) = self.pending.get_mut(request) {
                let pause = if code == "rateLimited" { 250 } else { 100 };
                pending.retry_at =
                    Some(Instant::now() + Duration::from_millis(pause + attempts.min(10)));
            }
        }
    }

    fn on_ack(&mut self, frame: &Value) {
        let Some(id) = frame["ackId"].as_u64() else {
            return;
        };
        let Some(key) = self.by_ack.get(&id).cloned() else {
            return;
        };
        let Some(pending) = self.pending.get_mut(&key) else {
            return;
        };
        if frame["success"] == true {
            // The reply comes before the ack: a pending message here lost its reply.
            self.stats.ack_without_reply += 1;
            pending.retry_at = Some(Instant::now());
            return;
        }
        let error = frame["error"]["name"].as_str().unwrap_or("?").to_owned();
        if error == "Duplicate" {
            // The hub had this ackId: its reply was replayed or is coming; wait for it.
            self.stats.duplicate_acks += 1;
            return;
        }
        pending.retry_at = Some(Instant::now() + Duration::from_millis(100));
        self.shared.ledger().failed_ack(&error);
    }

    /// Sends a chat event and waits for its reply, handling every frame meanwhile (no faults).
    pub async fn request(&mut self, event: &str, mut data: Value) -> Value {
        let request_id = format!("ctl-{}-{}", self.index, self.next_request);
        self.next_request += 1;
        data["requestId"] = json!(request_id);
        let ack_id = self.take_ack_id();
        self.write(json!({"type": "event", "event": event, "ackId": ack_id, "dataType": "json", "data": data}))
            .await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(reply) = self.replies.remove(&request_id) {
                return reply;
            }
            let socket = self.socket.as_mut().expect("connected during set-up");
            let next = tokio::time::timeout_at(deadline, socket.next())
                .await
                .unwrap_or_else(|_| panic!("{}: no reply to {event} within 20 s", self.name));
            self.on_message(next.map(|m| m.map_err(|e| e.to_string())))
                .await;
            self.flush_ack(false).await;
        }
    }

    /// Runs `plan` until `stop` turns true, then reports.
    pub async fn run(
        mut self,
        plan: Plan,
        mut commands: mpsc::Receiver<Command>,
        mut stop: watch::Receiver<bool>,
    ) -> Report {
        self.rng = StdRng::seed_from_u64(plan.seed);
        let mut next_cut = plan
            .cut_every
            .map(|(low, high)| self.rng.random_range(low..=high));
        let mut cuts = 0u32;
        let started = Instant::now();
        let mut created = 0u64;
        let mut tick = tokio::time::interval(Duration::from_millis(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            if *stop.borrow() {
                break;
            }
            if self.socket.is_none() {
                self.connect(&stop).await;
                continue;
            }
            let event = {
                let socket = self.socket.as_mut().unwrap();
                tokio::select! {
                    biased;
                    changed = stop.changed() => if changed.is_err() { Event::Stop } else { Event::Tick },
                    Some(command) = commands.recv() => Event::Command(command),
                    message = socket.next() => Event::Frame(message.map(|m| m.map_err(|e| e.to_string()))),
                    _ = tick.tick() => Event::Tick,
                }
            };
            match event {
                Event::Stop => break,
                Event::Command(command) => {
                    let request_id = format!("ctl-{}-{}", self.index, self.next_request);
                    self.next_request += 1;
                    let mut data = command.data;
                    data["requestId"] = json!(request_id);
                    let frame = json!({"type": "event", "event": command.event,
                        "ackId": self.take_ack_id(), "dataType": "json", "data": data});
                    self.controls
                        .insert(request_id, (frame.clone(), command.reply));
                    self.write(frame).await;
                }
                Event::Frame(message) => self.on_message(message).await,
                Event::Tick => {
                    self.flush_ack(false).await;
                    self.retry_due().await;
                    let sending = !self.shared.stop_sending.load(Ordering::SeqCst);
                    if plan.sends > 0 && sending {
                        let due = (started.elapsed().as_secs_f64() * plan.rate) as u64 + 1;
                        while created < due.min(plan.sends)
                            && self.pending.len() < WINDOW
                            && self.socket.is_some()
                        {
                            created += 1;
                            self.create(created).await;
                        }
                    }
                }
            }
            let sending = !self.shared.stop_sending.load(Ordering::SeqCst);
            if let Some(at) = next_cut
                && sending
                && self.frames_since_cut >= at
                && let Some(socket) = self.socket.take()
            {
                self.frames_since_cut = 0;
                self.stats.cuts += 1;
                let reset = self.rng.random_bool(0.5);
                cut(socket, reset);
                if plan.long_absence == Some(cuts) {
                    let until = self.shared.acked.load(Ordering::SeqCst) + LONG_ABSENCE_MESSAGES;
                    let give_up = Instant::now() + Duration::from_secs(20);
                    while self.shared.acked.load(Ordering::SeqCst) < until
                        && !self.shared.stop_sending.load(Ordering::SeqCst)
                        && Instant::now() < give_up
                    {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                } else {
                    let pause = self.rng.random_range(0..250);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                cuts += 1;
                next_cut = plan
                    .cut_every
                    .map(|(low, high)| self.rng.random_range(low..=high));
            }
        }
        self.flush_ack(true).await;
        Report {
            name: self.name.clone(),
            inbox: self.inbox().clone(),
            sequence: self.sequence.counts.clone(),
            open_missing: self.sequence.open_missing(),
            stats: self.stats.clone(),
        }
    }
}

/// The API's largest history page.
pub const HISTORY_PAGE: usize = 200;

/// One page of `GET /api/chats/{chat}/messages?after=&limit=200`.
pub async fn history_page(
    http: &reqwest::Client,
    backend: &str,
    token: &str,
    chat: &str,
    after: u64,
) -> Result<Vec<Stored>, String> {
    let page: Value = http
        .get(format!(
            "{backend}/api/chats/{chat}/messages?after={after}&limit={HISTORY_PAGE}"
        ))
        .bearer_auth(token)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let messages = page.as_array().ok_or("not a list")?;
    Ok(messages
        .iter()
        .map(|m| Stored {
            seq: m["seq"].as_u64().unwrap_or(0),
            key: m["clientKey"].as_str().unwrap_or_default().to_owned(),
            sent_at: m["sentAt"].as_i64().unwrap_or(0),
        })
        .collect())
}

/// The whole history of `chat`, oldest first (retrying while the backend is away).
pub async fn history(backend: &str, token: &str, chat: &str) -> Vec<Stored> {
    let http = reqwest::Client::new();
    let mut all: Vec<Stored> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let after = all.last().map_or(0, |m| m.seq);
        match history_page(&http, backend, token, chat, after).await {
            Ok(page) => {
                let full = page.len() == HISTORY_PAGE;
                all.extend(page);
                if !full {
                    return all;
                }
            }
            Err(err) => {
                assert!(Instant::now() < deadline, "history unreadable: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
