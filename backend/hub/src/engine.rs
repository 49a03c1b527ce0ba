//! The hub's live state: connections, groups and users per hub, and fan-out to them.
//!
//! Why this shape: fan-out must never wait on one client. Each connection owns a bounded queue that
//! its writer task drains; senders `try_send` into it and a full queue disconnects that client
//! (a reliable client then resumes and gets the buffered messages again). Group and user maps are
//! sharded (`DashMap`), so publishes to different groups do not contend; a frame is serialised once
//! per fan-out and shared (`Arc<str>`) by every recipient.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use dashmap::DashMap;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::HubConfig;
use crate::frame::{self, Payload};
use crate::reliable::ReplayBuffer;
use crate::roles::{self, Action, Permission};

/// Locks a mutex, recovering from poisoning: our critical sections leave data consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Which protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// No subprotocol: every frame is a `message` event; messages arrive as raw frames.
    Raw,
    /// `json.webpubsub.azure.v1`.
    Json,
    /// `json.reliable.webpubsub.azure.v1`.
    Reliable,
}

impl Protocol {
    /// The subprotocol name, if any.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Self::Raw => None,
            Self::Json => Some(frame::JSON_SUBPROTOCOL),
            Self::Reliable => Some(frame::RELIABLE_SUBPROTOCOL),
        }
    }
}

/// What a connection's writer sends.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A text frame.
    Text(Arc<str>),
    /// A binary frame.
    Binary(Arc<[u8]>),
}

/// A message on its way to many connections, encoded once for each kind of client.
#[derive(Debug, Clone)]
pub struct Delivery {
    json: Arc<str>,
    raw: Outbound,
}

impl Delivery {
    /// A group message (from a publish, with the publisher's user id, or from REST).
    pub fn group(group: &str, from_user_id: Option<&str>, payload: &Payload) -> Self {
        Self {
            json: frame::group_message(group, from_user_id, payload).into(),
            raw: raw_frame(payload),
        }
    }

    /// A message from the server.
    pub fn server(payload: &Payload) -> Self {
        Self {
            json: frame::server_message(payload).into(),
            raw: raw_frame(payload),
        }
    }
}

fn raw_frame(payload: &Payload) -> Outbound {
    match payload {
        Payload::Binary(bytes) => Outbound::Binary(bytes.as_slice().into()),
        other => Outbound::Text(String::from_utf8_lossy(&other.to_bytes()).into()),
    }
}

/// The live socket of a connection (absent while a reliable connection waits to be resumed).
#[derive(Debug)]
pub(crate) struct Attachment {
    pub(crate) tx: mpsc::Sender<Outbound>,
    /// Cancelled to make the writer close the socket with `close`.
    pub(crate) kill: CancellationToken,
    pub(crate) close: Arc<Mutex<Option<(u16, String)>>>,
}

impl Attachment {
    pub(crate) fn kick(&self, code: u16, reason: &str) {
        *lock(&self.close) = Some((code, reason.to_owned()));
        self.kill.cancel();
    }
}

/// One client connection.
#[derive(Debug)]
pub struct Conn {
    /// Connection id (32 hex characters).
    pub id: String,
    /// The hub (as the client named it).
    pub hub: String,
    /// The user, if any.
    pub user_id: Option<String>,
    /// The protocol.
    pub protocol: Protocol,
    /// Secret for resuming (reliable only).
    pub(crate) reconnection_token: String,
    permissions: Mutex<Vec<Permission>>,
    groups: Mutex<HashSet<String>>,
    pub(crate) attachment: Mutex<Option<Attachment>>,
    replay: Option<Mutex<ReplayBuffer>>,
    seen_ack_ids: Mutex<HashSet<u64>>,
    /// `ce-connectionState`, as the upstream last set it.
    pub(crate) state: Mutex<Option<String>>,
    /// Cancelled when the connection is gone for good.
    pub(crate) gone: CancellationToken,
    /// Bumped on every attach/detach, so a stale recovery timer knows it is stale.
    pub(crate) generation: Mutex<u64>,
}

impl Conn {
    /// A new connection (not yet attached to a socket, not yet registered).
    pub fn new(
        hub: &str,
        user_id: Option<String>,
        protocol: Protocol,
        roles: &[String],
        state: Option<String>,
    ) -> Self {
        Self {
            id: uuid::Uuid::new_v4().simple().to_string(),
            hub: hub.to_owned(),
            user_id,
            protocol,
            reconnection_token: uuid::Uuid::new_v4().simple().to_string(),
            permissions: Mutex::new(
                roles
                    .iter()
                    .filter_map(|r| Permission::from_role(r))
                    .collect(),
            ),
            groups: Mutex::new(HashSet::new()),
            attachment: Mutex::new(None),
            replay: (protocol == Protocol::Reliable).then(|| Mutex::new(ReplayBuffer::default())),
            seen_ack_ids: Mutex::new(HashSet::new()),
            state: Mutex::new(state),
            gone: CancellationToken::new(),
            generation: Mutex::new(0),
        }
    }

    /// Whether the connection may do `action` on `group`.
    pub fn may(&self, action: Action, group: &str) -> bool {
        roles::allowed(&lock(&self.permissions), action, group)
    }

    /// Grants a permission (REST).
    pub fn grant(&self, action: Action, group: Option<&str>) {
        let mut permissions = lock(&self.permissions);
        if !permissions.iter().any(|p| p.is_grant(action, group)) {
            permissions.push(Permission::grant(action, group));
        }
    }

    /// Revokes a REST grant.
    pub fn revoke(&self, action: Action, group: Option<&str>) {
        lock(&self.permissions).retain(|p| !p.is_grant(action, group));
    }

    /// Whether the connection holds `action` on `group` (REST check; `None` = all groups).
    pub fn has_permission(&self, action: Action, group: Option<&str>) -> bool {
        match group {
            Some(g) => self.may(action, g),
            None => lock(&self.permissions)
                .iter()
                .any(|p| p.is_grant(action, None)),
        }
    }

    /// Records an ack id; `false` if it was used before (a duplicate).
    pub fn first_use_of(&self, ack_id: u64) -> bool {
        lock(&self.seen_ack_ids).insert(ack_id)
    }

    /// The groups this connection is in.
    pub fn groups(&self) -> Vec<String> {
        lock(&self.groups).iter().cloned().collect()
    }

    /// Reliable: the client acknowledged everything up to `sequence_id`.
    pub fn sequence_ack(&self, sequence_id: u64) {
        if let Some(replay) = &self.replay {
            lock(replay).ack(sequence_id);
        }
    }

    /// Reliable: the frames a resume would send again (tests).
    #[cfg(test)]
    pub(crate) fn replay(&self) -> Vec<Arc<str>> {
        self.replay
            .as_ref()
            .map(|r| lock(r).replay())
            .unwrap_or_default()
    }

    /// Attaches a new socket, closing the previous one (if any), and returns its generation.
    ///
    /// `greeting` (the `connected` frame) is queued first, then, on a reliable connection, every
    /// unacknowledged frame. All of it happens under the replay lock, which [`Conn::deliver`] also
    /// holds while it numbers and queues: a frame numbered meanwhile is either in the replay or
    /// queued on the new socket after it, never missed and never ahead of an older one.
    /// `attachment.tx` must have room for the greeting plus [`crate::reliable::MAX_MESSAGES`]
    /// (see `connection::outbox_capacity`).
    pub(crate) fn attach(&self, attachment: Attachment, greeting: Option<Arc<str>>) -> u64 {
        // Lock order, everywhere: replay → attachment → generation (→ the attachment's close).
        let replay = self.replay.as_ref().map(lock);
        let queued = greeting
            .into_iter()
            .chain(replay.iter().flat_map(|r| r.replay()))
            .all(|frame| attachment.tx.try_send(Outbound::Text(frame)).is_ok());
        if !queued {
            // Unreachable while the outbox holds a whole replay; the client would see a gap.
            tracing::error!(conn_id = %self.id, "the outbox cannot hold the replay");
            attachment.kick(1011, "the replay did not fit the outbox");
        }
        let mut current = lock(&self.attachment);
        if let Some(old) = current.replace(attachment) {
            old.kick(1000, "resumed on another socket");
        }
        let mut generation = lock(&self.generation);
        *generation += 1;
        *generation
    }

    /// Sends a control frame (ack, pong, system) to this connection only, unnumbered.
    pub fn send_control(&self, text: impl Into<Arc<str>>) {
        self.push(Outbound::Text(text.into()));
    }

    /// Delivers a message: numbered and kept for replay on reliable connections.
    pub fn deliver(&self, delivery: &Delivery) {
        match self.protocol {
            Protocol::Raw => self.push(delivery.raw.clone()),
            Protocol::Json => self.push(Outbound::Text(delivery.json.clone())),
            Protocol::Reliable => {
                let Some(replay) = &self.replay else { return };
                // Number and queue under one lock, so concurrent fan-outs to this connection queue
                // their frames in sequence-id order (clients drop an id at or below one they saw).
                let mut replay = lock(replay);
                match replay.push(|id| frame::with_sequence_id(&delivery.json, id)) {
                    Ok(frame) => self.push(Outbound::Text(frame)),
                    Err(_) => {
                        drop(replay);
                        // Unrecoverable: the client can never catch up.
                        self.kick(1008, "too many unacknowledged messages");
                        self.gone.cancel();
                    }
                }
            }
        }
    }

    fn push(&self, out: Outbound) {
        let attachment = lock(&self.attachment);
        let Some(attachment) = attachment.as_ref() else {
            // Detached reliable connection: the message waits in the replay buffer.
            return;
        };
        if let Err(mpsc::error::TrySendError::Full(_)) = attachment.tx.try_send(out) {
            tracing::debug!(conn_id = %self.id, "slow consumer disconnected");
            if self.protocol == Protocol::Reliable {
                // Not 1008: the client resumes and the replay buffer catches it up.
                attachment.kick(1013, "the client is too slow; resume to catch up");
            } else {
                attachment.kick(1008, "the client is too slow to receive messages");
            }
        }
    }

    /// Closes the current socket (if any) with `code`.
    pub fn kick(&self, code: u16, reason: &str) {
        if let Some(attachment) = lock(&self.attachment).as_ref() {
            attachment.kick(code, reason);
        }
    }
}

/// One hub's connections, groups and users.
#[derive(Debug, Default)]
pub struct Hub {
    connections: DashMap<String, Arc<Conn>>,
    groups: DashMap<String, HashSet<String>>,
    users: DashMap<String, HashSet<String>>,
}

impl Hub {
    /// Registers a connection.
    pub fn add(&self, conn: Arc<Conn>) {
        if let Some(user) = &conn.user_id {
            self.users
                .entry(user.clone())
                .or_default()
                .insert(conn.id.clone());
        }
        self.connections.insert(conn.id.clone(), conn);
    }

    /// Unregisters a connection and takes it out of every group.
    pub fn remove(&self, conn: &Conn) {
        self.connections.remove(&conn.id);
        for group in conn.groups() {
            self.leave(&group, conn);
        }
        if let Some(user) = &conn.user_id {
            self.users.remove_if_mut(user, |_, ids| {
                ids.remove(&conn.id);
                ids.is_empty()
            });
        }
    }

    /// A connection by id.
    pub fn connection(&self, id: &str) -> Option<Arc<Conn>> {
        self.connections.get(id).map(|c| c.clone())
    }

    /// Every connection.
    pub fn all(&self) -> Vec<Arc<Conn>> {
        self.connections.iter().map(|c| c.clone()).collect()
    }

    /// The connections of `user`.
    pub fn user_connections(&self, user: &str) -> Vec<Arc<Conn>> {
        let ids: Vec<String> = self
            .users
            .get(user)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default();
        ids.iter().filter_map(|id| self.connection(id)).collect()
    }

    /// The connections in `group`.
    pub fn group_connections(&self, group: &str) -> Vec<Arc<Conn>> {
        let ids: Vec<String> = self
            .groups
            .get(group)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default();
        ids.iter().filter_map(|id| self.connection(id)).collect()
    }

    /// Puts a connection in a group.
    pub fn join(&self, group: &str, conn: &Conn) {
        lock(&conn.groups).insert(group.to_owned());
        self.groups
            .entry(group.to_owned())
            .or_default()
            .insert(conn.id.clone());
    }

    /// Takes a connection out of a group (a group with no members ceases to exist).
    pub fn leave(&self, group: &str, conn: &Conn) {
        lock(&conn.groups).remove(group);
        self.groups.remove_if_mut(group, |_, ids| {
            ids.remove(&conn.id);
            ids.is_empty()
        });
    }

    /// Whether `group` has members.
    pub fn group_exists(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }

    /// Whether `user` has connections.
    pub fn user_exists(&self, user: &str) -> bool {
        self.users.contains_key(user)
    }

    /// How many connections `user` has (including reliable ones waiting to be resumed).
    pub fn user_connection_count(&self, user: &str) -> usize {
        self.users.get(user).map_or(0, |ids| ids.len())
    }

    /// Sends to each of `targets` except `excluded`.
    pub fn fan_out(&self, targets: &[Arc<Conn>], delivery: &Delivery, excluded: &[String]) {
        for conn in targets {
            if !excluded.iter().any(|id| *id == conn.id) {
                conn.deliver(delivery);
            }
        }
    }
}

/// Every hub of the server.
#[derive(Debug)]
pub struct Engine {
    /// The configuration.
    pub config: HubConfig,
    hubs: RwLock<HashMap<String, Arc<Hub>>>,
    /// Cancelled on shutdown.
    pub shutdown: CancellationToken,
}

impl Engine {
    /// An engine with no connections.
    pub fn new(config: HubConfig) -> Self {
        Self {
            config,
            hubs: RwLock::new(HashMap::new()),
            shutdown: CancellationToken::new(),
        }
    }

    /// The hub called `name` (case-insensitive), created on first use.
    pub fn hub(&self, name: &str) -> Arc<Hub> {
        let key = name.to_ascii_lowercase();
        if let Some(hub) = self
            .hubs
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return hub.clone();
        }
        self.hubs
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone()
    }

    /// Every hub.
    pub fn hubs(&self) -> Vec<Arc<Hub>> {
        self.hubs
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// How many connections are open over all hubs.
    pub fn connection_count(&self) -> usize {
        self.hubs().iter().map(|h| h.connections.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attach(conn: &Conn, capacity: usize) -> mpsc::Receiver<Outbound> {
        let (tx, rx) = mpsc::channel(capacity);
        *lock(&conn.attachment) = Some(Attachment {
            tx,
            kill: CancellationToken::new(),
            close: Arc::new(Mutex::new(None)),
        });
        rx
    }

    fn text(out: Outbound) -> String {
        match out {
            Outbound::Text(t) => t.to_string(),
            Outbound::Binary(_) => panic!("binary"),
        }
    }

    #[test]
    fn group_fan_out_reaches_members_but_not_the_excluded() {
        let hub = Hub::default();
        let a = Arc::new(Conn::new(
            "chat",
            Some("a".into()),
            Protocol::Json,
            &[],
            None,
        ));
        let b = Arc::new(Conn::new(
            "chat",
            Some("b".into()),
            Protocol::Json,
            &[],
            None,
        ));
        let mut rx_a = attach(&a, 4);
        let mut rx_b = attach(&b, 4);
        hub.add(a.clone());
        hub.add(b.clone());
        hub.join("g", &a);
        hub.join("g", &b);
        let delivery = Delivery::group("g", Some("a"), &Payload::Json(json!(1)));
        hub.fan_out(
            &hub.group_connections("g"),
            &delivery,
            std::slice::from_ref(&a.id),
        );
        assert!(rx_a.try_recv().is_err());
        assert!(text(rx_b.try_recv().unwrap()).contains("\"group\":\"g\""));
    }

    #[test]
    fn reliable_connections_number_their_messages() {
        let conn = Conn::new("chat", None, Protocol::Reliable, &[], None);
        let mut rx = attach(&conn, 4);
        let delivery = Delivery::server(&Payload::Text("hi".into()));
        conn.deliver(&delivery);
        conn.deliver(&delivery);
        assert!(text(rx.try_recv().unwrap()).ends_with(",\"sequenceId\":1}"));
        assert!(text(rx.try_recv().unwrap()).ends_with(",\"sequenceId\":2}"));
        conn.sequence_ack(1);
        assert_eq!(conn.replay().len(), 1);
    }

    fn sequence_id(out: Outbound) -> u64 {
        let frame: serde_json::Value = serde_json::from_str(&text(out)).unwrap();
        frame["sequenceId"].as_u64().unwrap()
    }

    #[test]
    fn concurrent_fan_outs_queue_sequence_ids_in_order() {
        // 4 publishers to one group of reliable connections, at once: every connection must get
        // 1..=total in order (a reliable client drops any id at or below one it saw).
        const PUBLISHERS: usize = 4;
        const EACH: usize = crate::reliable::MAX_MESSAGES / PUBLISHERS; // no acks needed
        const MEMBERS: usize = 64;
        let hub = Arc::new(Hub::default());
        let receivers: Vec<_> = (0..MEMBERS)
            .map(|_| {
                let conn = Arc::new(Conn::new("chat", None, Protocol::Reliable, &[], None));
                let rx = attach(&conn, PUBLISHERS * EACH + 1);
                hub.add(conn.clone());
                hub.join("g", &conn);
                rx
            })
            .collect();
        let start = Arc::new(std::sync::Barrier::new(PUBLISHERS));
        let publishers: Vec<_> = (0..PUBLISHERS)
            .map(|p| {
                let (hub, start) = (hub.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    for i in 0..EACH {
                        let delivery =
                            Delivery::group("g", None, &Payload::Json(json!({"p": p, "i": i})));
                        hub.fan_out(&hub.group_connections("g"), &delivery, &[]);
                    }
                })
            })
            .collect();
        for publisher in publishers {
            publisher.join().unwrap();
        }
        for (member, mut rx) in receivers.into_iter().enumerate() {
            let ids: Vec<u64> = std::iter::from_fn(|| rx.try_recv().ok())
                .map(sequence_id)
                .collect();
            let expected: Vec<u64> = (1..=(PUBLISHERS * EACH) as u64).collect();
            assert!(ids == expected, "member {member} got ids out of order");
        }
    }

    #[test]
    fn a_resume_during_a_publish_stream_misses_nothing() {
        // One thread publishes while the "client" keeps moving to a new socket, losing what the
        // old one still held: the replay plus the new socket must cover every id, in order.
        use std::sync::atomic::{AtomicU64, Ordering};
        const TOTAL: u64 = 30_000;
        let conn = Arc::new(Conn::new("chat", None, Protocol::Reliable, &[], None));
        let mut rx = attach(&conn, 2000);
        let acked = Arc::new(AtomicU64::new(0));
        let publisher = {
            let (conn, acked) = (conn.clone(), acked.clone());
            std::thread::spawn(move || {
                for i in 1..=TOTAL {
                    // Stay well inside the replay buffer, as a client that acks keeps it.
                    while i - acked.load(Ordering::Acquire) > 500 {
                        std::thread::yield_now();
                    }
                    conn.deliver(&Delivery::server(&Payload::Json(json!(i))));
                }
            })
        };
        let mut last = 0;
        let mut resumes = 0;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while last < TOTAL {
            assert!(!conn.gone.is_cancelled(), "the connection overflowed");
            // A frame neither replayed nor queued leaves the client waiting for it forever.
            assert!(std::time::Instant::now() < deadline, "stalled after {last}");
            match rx.try_recv() {
                Ok(out) => {
                    let id = sequence_id(out);
                    if id <= last {
                        continue; // a replayed duplicate, dropped as clients do
                    }
                    assert_eq!(id, last + 1, "a gap after {resumes} resumes");
                    last = id;
                    if last.is_multiple_of(50) {
                        // Acks lag, as a client's do: a resume replays up to a few hundred.
                        conn.sequence_ack(last - 50);
                        acked.store(last - 50, Ordering::Release);
                    }
                    if last.is_multiple_of(29) {
                        let (tx, fresh) = mpsc::channel(outbox_capacity_for_tests());
                        conn.attach(
                            Attachment {
                                tx,
                                kill: CancellationToken::new(),
                                close: Arc::new(Mutex::new(None)),
                            },
                            None,
                        );
                        rx = fresh; // what the old socket still held is lost
                        resumes += 1;
                    }
                }
                Err(_) => std::thread::yield_now(),
            }
        }
        publisher.join().unwrap();
        assert!(resumes > 1000, "only {resumes} resumes");
    }

    fn outbox_capacity_for_tests() -> usize {
        crate::connection::outbox_capacity(&HubConfig::new("k"))
    }

    #[test]
    fn a_full_queue_disconnects_the_slow_client_only() {
        let conn = Conn::new("chat", None, Protocol::Json, &[], None);
        let _rx = attach(&conn, 1);
        let delivery = Delivery::server(&Payload::Text("x".into()));
        conn.deliver(&delivery);
        conn.deliver(&delivery);
        let attachment = lock(&conn.attachment);
        let attachment = attachment.as_ref().unwrap();
        assert!(attachment.kill.is_cancelled());
        assert_eq!(lock(&attachment.close).as_ref().map(|c| c.0), Some(1008));

        // A reliable client is closed in a way that lets it resume.
        let reliable = Conn::new("chat", None, Protocol::Reliable, &[], None);
        let _rx = attach(&reliable, 1);
        reliable.deliver(&delivery);
        reliable.deliver(&delivery);
        let attachment = lock(&reliable.attachment);
        assert_eq!(
            lock(&attachment.as_ref().unwrap().close)
                .as_ref()
                .map(|c| c.0),
            Some(1013)
        );
        assert_eq!(reliable.replay().len(), 2);
    }

    #[test]
    fn leaving_the_last_member_removes_the_group_and_user() {
        let hub = Hub::default();
        let conn = Arc::new(Conn::new(
            "chat",
            Some("u".into()),
            Protocol::Json,
            &[],
            None,
        ));
        hub.add(conn.clone());
        hub.join("g", &conn);
        assert!(hub.group_exists("g"));
        assert!(hub.user_exists("u"));
        hub.remove(&conn);
        assert!(!hub.group_exists("g"));
        assert!(!hub.user_exists("u"));
        assert!(hub.connection(&conn.id).is_none());
    }

    #[test]
    fn raw_clients_get_the_payload_itself() {
        let conn = Conn::new("chat", None, Protocol::Raw, &[], None);
        let mut rx = attach(&conn, 4);
        conn.deliver(&Delivery::server(&Payload::Json(json!({"a": 1}))));
        assert_eq!(text(rx.try_recv().unwrap()), r#"{"a":1}"#);
    }

    #[test]
    fn rest_grants_add_and_revoke_permissions() {
        let conn = Conn::new("chat", None, Protocol::Json, &[], None);
        assert!(!conn.may(Action::Send, "g"));
        conn.grant(Action::Send, Some("g"));
        assert!(conn.may(Action::Send, "g"));
        assert!(conn.has_permission(Action::Send, Some("g")));
        conn.revoke(Action::Send, Some("g"));
        assert!(!conn.may(Action::Send, "g"));
    }
}
