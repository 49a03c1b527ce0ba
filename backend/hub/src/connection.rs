//! One client's WebSocket session: a writer task draining the connection's bounded queue, and a
//! reader loop that decodes requests and carries them out (groups, publishes, upstream events,
//! acks). When the socket ends, a reliable connection waits to be resumed for the recovery window;
//! every other end is final and tells the upstream `disconnected`.

use std::sync::{Arc, Mutex};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::Shared;
use crate::config::HubConfig;
use crate::engine::{Attachment, Conn, Delivery, Hub, Outbound, Protocol, lock};
use crate::frame::{self, AckError, Payload, Request};
use crate::reliable;
use crate::roles::Action;
use crate::upstream::Origin;

/// The largest client message the service accepts (1 MB); bigger ones close the socket with 1009.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// How a session ended.
enum End {
    /// For good: the connection is removed.
    Final(String),
    /// The transport dropped: a reliable connection may resume.
    Dropped,
}

/// How a session starts.
pub(crate) enum Start {
    /// A new connection: registered in its hub and put in `groups` once its socket is attached.
    New {
        /// The groups from the token and the upstream `connect` answer.
        groups: Vec<String>,
    },
    /// A reliable connection resumed on a new socket.
    Resumed,
}

/// The outbox size of a session: the configured one, but never less than a whole replay plus the
/// `connected` frame, so queueing a resume's replay into the fresh outbox cannot fail.
pub(crate) fn outbox_capacity(config: &HubConfig) -> usize {
    config.outbox_capacity.max(reliable::MAX_MESSAGES + 1)
}

/// Runs a session on `socket` for `conn` until the socket ends.
pub(crate) async fn run(
    shared: Arc<Shared>,
    hub: Arc<Hub>,
    conn: Arc<Conn>,
    socket: WebSocket,
    start: Start,
) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::channel::<Outbound>(outbox_capacity(&shared.engine.config));
    let kill = CancellationToken::new();
    let close: Arc<Mutex<Option<(u16, String)>>> = Arc::new(Mutex::new(None));

    // The first frames (`connected`, then any replay) are queued as the socket is attached, before
    // anything else can reach it, so order holds and nothing numbered meanwhile is skipped.
    let greeting = (conn.protocol != Protocol::Raw).then(|| {
        let token =
            (conn.protocol == Protocol::Reliable).then_some(conn.reconnection_token.as_str());
        Arc::from(frame::connected(conn.user_id.as_deref(), &conn.id, token))
    });
    let generation = conn.attach(
        Attachment {
            tx,
            kill: kill.clone(),
            close: close.clone(),
        },
        greeting,
    );
    if let Start::New { groups } = start {
        // Registered only now that the socket is attached: a message sent to one of its groups
        // from here on reaches it (before, it would have been dropped or only numbered).
        hub.add(conn.clone());
        for group in &groups {
            hub.join(group, &conn);
        }
        if let Some(handler) = shared
            .engine
            .config
            .handler(&conn.hub, "connected", true)
            .cloned()
        {
            let (shared, conn) = (shared.clone(), conn.clone());
            tokio::spawn(async move {
                let origin = origin(&conn);
                shared
                    .upstream
                    .notify(&handler, &origin, "connected", &json!({}))
                    .await;
            });
        }
    }

    let writer = {
        let (kill, close) = (kill.clone(), close.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    () = kill.cancelled() => {
                        // Flush what is already queued (a farewell `disconnected` frame, acks),
                        // briefly: a stuck client must not hold the close up.
                        let _ = tokio::time::timeout(std::time::Duration::from_millis(200), async {
                            while let Ok(out) = rx.try_recv() {
                                let frame = match out {
                                    Outbound::Text(text) => Message::Text(text.as_ref().into()),
                                    Outbound::Binary(bytes) => Message::Binary(bytes.to_vec().into()),
                                };
                                if sink.send(frame).await.is_err() {
                                    break;
                                }
                            }
                        })
                        .await;
                        let (code, reason) = lock(&close).take().unwrap_or((1000, String::new()));
                        let _ = sink
                            .send(Message::Close(Some(CloseFrame { code, reason: reason.into() })))
                            .await;
                        break;
                    }
                    out = rx.recv() => {
                        let sent = match out {
                            Some(Outbound::Text(text)) => sink.send(Message::Text(text.as_ref().into())).await,
                            Some(Outbound::Binary(bytes)) => sink.send(Message::Binary(bytes.to_vec().into())).await,
                            None => break,
                        };
                        if sent.is_err() {
                            break;
                        }
                    }
                }
            }
        })
    };

    let end = loop {
        tokio::select! {
            () = shared.engine.shutdown.cancelled() => {
                conn.send_control(frame::disconnected("the service is shutting down"));
                // Give the writer the farewell frame before closing.
                tokio::task::yield_now().await;
                break End::Final("the service is shutting down".into());
            }
            () = conn.gone.cancelled() => break End::Final("closed by the service".into()),
            () = kill.cancelled() => {
                let reason = lock(&close).as_ref().map(|c| c.1.clone()).unwrap_or_default();
                break if conn.protocol == Protocol::Reliable { End::Dropped } else { End::Final(reason) };
            }
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    if text.len() > MAX_MESSAGE_BYTES {
                        conn.kick(1009, "message too big");
                        break End::Final("message too big".into());
                    }
                    if let Some(end) = handle_text(&shared, &hub, &conn, text.as_str()).await {
                        break end;
                    }
                }
                Some(Ok(Message::Binary(bytes))) => {
                    if bytes.len() > MAX_MESSAGE_BYTES {
                        conn.kick(1009, "message too big");
                        break End::Final("message too big".into());
                    }
                    let end = if conn.protocol == Protocol::Raw {
                        raw_message(&shared, &conn, Payload::Binary(bytes.to_vec())).await;
                        None
                    } else {
                        // The JSON subprotocols also accept requests in UTF-8 binary frames.
                        match std::str::from_utf8(&bytes) {
                            Ok(text) => handle_text(&shared, &hub, &conn, text).await,
                            Err(_) => {
                                conn.kick(1003, "binary frames must hold UTF-8 JSON");
                                Some(End::Final("invalid frame".into()))
                            }
                        }
                    };
                    if let Some(end) = end {
                        break end;
                    }
                }
                Some(Ok(Message::Close(_))) => break End::Final("closed by the client".into()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Err(_)) | None => break End::Dropped,
            }
        }
    };

    match end {
        End::Final(reason) => {
            if !kill.is_cancelled() {
                let code = if shared.engine.shutdown.is_cancelled() {
                    1001
                } else {
                    1000
                };
                lock(&close).get_or_insert((code, reason.clone()));
                kill.cancel();
            }
            let _ = writer.await;
            finish(&shared, &hub, &conn, &reason);
        }
        End::Dropped if conn.protocol == Protocol::Reliable && !conn.gone.is_cancelled() => {
            kill.cancel();
            let _ = writer.await;
            detach(shared, hub, conn, generation);
        }
        End::Dropped => {
            kill.cancel();
            let _ = writer.await;
            finish(&shared, &hub, &conn, "the connection dropped");
        }
    }
}

/// A reliable connection lost its socket: keep it for the recovery window, then give up.
fn detach(shared: Arc<Shared>, hub: Arc<Hub>, conn: Arc<Conn>, generation: u64) {
    {
        let mut attachment = lock(&conn.attachment);
        if *lock(&conn.generation) != generation {
            return; // already resumed on a newer socket
        }
        *attachment = None;
    }
    let window = shared.engine.config.recovery_window;
    tokio::spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(window) => {}
            () = shared.engine.shutdown.cancelled() => {}
        }
        let still_detached =
            *lock(&conn.generation) == generation && lock(&conn.attachment).is_none();
        if still_detached {
            finish(
                &shared,
                &hub,
                &conn,
                "the connection was not resumed in time",
            );
        }
    });
}

/// Removes a connection for good and tells the upstream.
pub(crate) fn finish(shared: &Arc<Shared>, hub: &Hub, conn: &Arc<Conn>, reason: &str) {
    if hub.connection(&conn.id).is_none() {
        return; // already finished
    }
    hub.remove(conn);
    conn.gone.cancel();
    if let Some(handler) = shared
        .engine
        .config
        .handler(&conn.hub, "disconnected", true)
        .cloned()
    {
        let (shared, conn, reason) = (shared.clone(), conn.clone(), reason.to_owned());
        tokio::spawn(async move {
            let origin = origin(&conn);
            shared
                .upstream
                .notify(
                    &handler,
                    &origin,
                    "disconnected",
                    &json!({ "reason": reason }),
                )
                .await;
        });
    }
}

pub(crate) fn origin(conn: &Conn) -> Origin<'_> {
    Origin {
        hub: &conn.hub,
        connection_id: &conn.id,
        user_id: conn.user_id.as_deref(),
        subprotocol: conn.protocol.name(),
        state: lock(&conn.state).clone(),
    }
}

fn answer(conn: &Conn, ack_id: Option<u64>, outcome: Result<(), (AckError, &str)>) {
    if let Some(id) = ack_id {
        conn.send_control(frame::ack(id, outcome));
    }
}

/// Handles one text frame; `Some` ends the session.
async fn handle_text(shared: &Arc<Shared>, hub: &Hub, conn: &Arc<Conn>, text: &str) -> Option<End> {
    if conn.protocol == Protocol::Raw {
        raw_message(shared, conn, Payload::Text(text.to_owned())).await;
        return None;
    }
    let request = match frame::decode(text) {
        Ok(request) => request,
        Err(bad) => {
            if let Some(id) = bad.ack_id {
                answer(conn, Some(id), Err((AckError::BadRequest, &bad.reason)));
                return None;
            }
            conn.kick(1003, &bad.reason);
            return Some(End::Final(bad.reason));
        }
    };
    let ack_id = match &request {
        Request::JoinGroup { ack_id, .. }
        | Request::LeaveGroup { ack_id, .. }
        | Request::SendToGroup { ack_id, .. }
        | Request::Event { ack_id, .. } => *ack_id,
        Request::SequenceAck { .. } | Request::Ping => None,
    };
    if let Some(id) = ack_id
        && !conn.first_use_of(id)
    {
        answer(
            conn,
            Some(id),
            Err((AckError::Duplicate, "the ackId was already used")),
        );
        return None;
    }
    match request {
        Request::JoinGroup { group, ack_id } | Request::LeaveGroup { group, ack_id }
            if !conn.may(Action::JoinLeave, &group) =>
        {
            let message = format!("the client has no permission to join or leave group '{group}'");
            answer(conn, ack_id, Err((AckError::Forbidden, &message)));
        }
        Request::JoinGroup { group, ack_id } => {
            hub.join(&group, conn);
            answer(conn, ack_id, Ok(()));
        }
        Request::LeaveGroup { group, ack_id } => {
            hub.leave(&group, conn);
            answer(conn, ack_id, Ok(()));
        }
        Request::SendToGroup {
            group,
            ack_id,
            no_echo,
            payload,
        } => {
            if conn.may(Action::Send, &group) {
                let delivery = Delivery::group(&group, conn.user_id.as_deref(), &payload);
                let excluded = if no_echo {
                    vec![conn.id.clone()]
                } else {
                    Vec::new()
                };
                hub.fan_out(&hub.group_connections(&group), &delivery, &excluded);
                answer(conn, ack_id, Ok(()));
            } else {
                let message = format!("the client has no permission to send to group '{group}'");
                answer(conn, ack_id, Err((AckError::Forbidden, &message)));
            }
        }
        Request::Event {
            event,
            ack_id,
            payload,
        } => {
            let outcome = user_event(shared, conn, &event, &payload).await;
            answer(
                conn,
                ack_id,
                outcome
                    .as_ref()
                    .copied()
                    .map_err(|m| (AckError::InternalServerError, m.as_str())),
            );
        }
        Request::SequenceAck { sequence_id } => conn.sequence_ack(sequence_id),
        Request::Ping => conn.send_control(frame::PONG),
    }
    None
}

/// Sends a user event upstream and delivers its answer to the sender (before the ack).
async fn user_event(
    shared: &Shared,
    conn: &Conn,
    event: &str,
    payload: &Payload,
) -> Result<(), String> {
    let Some(handler) = shared.engine.config.handler(&conn.hub, event, false) else {
        return Err(format!("no event handler takes event '{event}'"));
    };
    match shared
        .upstream
        .user_event(handler, &origin(conn), event, payload)
        .await
    {
        Ok(answer) => {
            if let Some(state) = answer.state {
                *lock(&conn.state) = Some(state);
            }
            if let Some(reply) = answer.reply {
                conn.deliver(&Delivery::server(&reply));
            }
            Ok(())
        }
        Err(err) => {
            tracing::debug!(conn_id = %conn.id, event, cause = %err, "user event failed");
            Err(err.to_string())
        }
    }
}

/// A raw client's frame is the user event `message`; the answer goes back as a raw frame.
async fn raw_message(shared: &Shared, conn: &Conn, payload: Payload) {
    if let Err(message) = user_event(shared, conn, "message", &payload).await {
        tracing::debug!(conn_id = %conn.id, %message, "raw message not delivered upstream");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_always_holds_a_whole_replay_and_the_connected_frame() {
        let mut config = HubConfig::new("k");
        assert!(outbox_capacity(&config) > reliable::MAX_MESSAGES);
        config.outbox_capacity = 10;
        assert_eq!(outbox_capacity(&config), reliable::MAX_MESSAGES + 1);
        config.outbox_capacity = 5000;
        assert_eq!(outbox_capacity(&config), 5000);
    }
}
