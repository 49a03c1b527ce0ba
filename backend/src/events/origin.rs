//! Whether a signed event really comes from the connection it names, now. Web PubSub's signature
//! covers only the connection id, so one captured request (a log, a proxy) could be replayed with
//! another `ce-userId`, or after its connection closed. Every event is checked against the store's
//! record of whose connection it is and, where the record cannot tell, the hub's answer to whether
//! the connection is open. This module decides; it must never change anything.

use std::time::{Duration, Instant};

use crate::hub_client::HubClient;
use crate::state::Shared;

/// How long a user event from a connection whose `connected` event is not handled yet waits for
/// it (events race: a client may send the moment its socket opens).
const CONNECTED_PATIENCE: Duration = Duration::from_secs(3);
/// How often the store is asked again meanwhile.
const POLL: Duration = Duration::from_millis(50);

/// Why an event is refused (401, nothing changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Forged {
    /// `ce-userId` is not the user the connection was recorded for.
    #[error("the connection belongs to another user")]
    OtherUser,
    /// The connection is closed (or never opened).
    #[error("the connection is not open")]
    Closed,
    /// A `disconnected` for a connection the hub still has open.
    #[error("the connection is still open")]
    StillOpen,
    /// A `connect` for a connection that is already connected.
    #[error("the connection is already connected")]
    AlreadyConnected,
    /// The store or the hub could not be asked: refuse rather than trust.
    #[error("the connection could not be checked")]
    Unchecked,
}

fn hub(shared: &Shared) -> Result<&HubClient, Forged> {
    shared.hub.as_ref().ok_or(Forged::Unchecked)
}

async fn owner(shared: &Shared, connection: &str) -> Result<Option<String>, Forged> {
    shared
        .store
        .connection_owner(connection)
        .await
        .map_err(|err| {
            tracing::error!(cause = %err, "cannot read a connection's owner");
            Forged::Unchecked
        })
}

async fn open(shared: &Shared, connection: &str) -> Result<bool, Forged> {
    hub(shared)?
        .connection_exists(connection)
        .await
        .map_err(|err| {
            tracing::error!(cause = %err, "cannot ask the hub about a connection");
            Forged::Unchecked
        })
}

/// A user event: the connection must be `user`'s and open. One that is open but not recorded yet
/// waits for its `connected` event to be handled.
pub(crate) async fn user_event(
    shared: &Shared,
    user: &str,
    connection: &str,
) -> Result<(), Forged> {
    let deadline = Instant::now() + CONNECTED_PATIENCE;
    let mut asked_hub = false;
    loop {
        match owner(shared, connection).await? {
            Some(owner) if owner == user => return Ok(()),
            Some(_) => return Err(Forged::OtherUser),
            None if !asked_hub => {
                if !open(shared, connection).await? {
                    return Err(Forged::Closed);
                }
                asked_hub = true;
            }
            None if Instant::now() >= deadline => return Err(Forged::Closed),
            None => tokio::time::sleep(POLL).await,
        }
    }
}

/// `connect`: a connection id that is already recorded has connected before (a replay).
pub(crate) async fn connect(shared: &Shared, connection: &str) -> Result<(), Forged> {
    match owner(shared, connection).await? {
        Some(_) => Err(Forged::AlreadyConnected),
        None => Ok(()),
    }
}

/// `connected`: a connection recorded for another user cannot become this one's. (That the
/// connection is still open is checked by the handler after it records it.)
pub(crate) async fn connected(shared: &Shared, user: &str, connection: &str) -> Result<(), Forged> {
    match owner(shared, connection).await? {
        Some(owner) if owner != user => Err(Forged::OtherUser),
        _ => Ok(()),
    }
}

/// `disconnected`: `Ok(true)` if there is a record of `user`'s to remove; `Ok(false)` if there is
/// none (nothing to do); refused if the record is another user's or the hub still has it open.
pub(crate) async fn disconnected(
    shared: &Shared,
    user: &str,
    connection: &str,
) -> Result<bool, Forged> {
    match owner(shared, connection).await? {
        None => Ok(false),
        Some(owner) if owner != user => Err(Forged::OtherUser),
        Some(_) if open(shared, connection).await? => Err(Forged::StillOpen),
        Some(_) => Ok(true),
    }
}
