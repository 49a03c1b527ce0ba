//! Presence per user across all of their connections (devices), and what to announce when it changes.
//!
//! A user is online while at least one connection is open, idle when every open connection reports
//! idle, and offline when none is open. Transitions are announced once per user, never per
//! connection, so a second device coming or going is silent.

use std::time::Duration;

use chatr_protocol::{Presence, ServerEvent, User};

/// How long the last connection must stay closed before the user is announced offline, so a quick
/// reconnect (network blip, app restart) does not flap "left"/"joined" at everyone.
pub const OFFLINE_GRACE: Duration = Duration::from_secs(5);

/// A user's presence from the idle flag of each of their open connections.
pub fn of_connections(idle_flags: impl IntoIterator<Item = bool>) -> Presence {
    let mut any = false;
    for idle in idle_flags {
        if !idle {
            return Presence::Online;
        }
        any = true;
    }
    if any {
        Presence::Idle
    } else {
        Presence::Offline
    }
}

/// What to tell everyone when `user`'s presence goes from `before` to `after` (`user.presence` is
/// ignored: `after` is used). `None` when nothing changed.
pub fn announcement(user: &User, before: Presence, after: Presence) -> Option<ServerEvent> {
    use Presence::{Idle, Offline, Online};
    let user_id = user.id.clone();
    match (before, after) {
        (b, a) if b == a => None,
        (_, Offline) => Some(ServerEvent::UserOffline { user_id }),
        (Offline, presence) => Some(ServerEvent::UserOnline {
            user: User {
                presence,
                ..user.clone()
            },
        }),
        (Online, Idle) => Some(ServerEvent::UserIsIdle { user_id }),
        (Idle, Online) => Some(ServerEvent::UserNotIdle { user_id }),
        // Every (before, after) pair with before != after is covered above.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ada() -> User {
        User {
            id: "github:1".into(),
            name: "Ada".into(),
            provider: "github".into(),
            presence: Presence::Offline,
        }
    }

    #[test]
    fn presence_is_the_most_present_connection() {
        assert_eq!(of_connections([]), Presence::Offline);
        assert_eq!(of_connections([true]), Presence::Idle);
        assert_eq!(of_connections([true, false]), Presence::Online);
        assert_eq!(of_connections([true, true]), Presence::Idle);
    }

    #[test]
    fn first_connection_announces_online_with_the_user() {
        let event = announcement(&ada(), Presence::Offline, Presence::Online).unwrap();
        match event {
            ServerEvent::UserOnline { user } => {
                assert_eq!(user.id, "github:1");
                assert_eq!(user.presence, Presence::Online);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn idle_and_return_use_the_seed_names() {
        assert_eq!(
            announcement(&ada(), Presence::Online, Presence::Idle),
            Some(ServerEvent::UserIsIdle {
                user_id: "github:1".into()
            })
        );
        assert_eq!(
            announcement(&ada(), Presence::Idle, Presence::Online),
            Some(ServerEvent::UserNotIdle {
                user_id: "github:1".into()
            })
        );
    }

    #[test]
    fn going_offline_from_any_state_is_announced_once() {
        for before in [Presence::Online, Presence::Idle] {
            assert_eq!(
                announcement(&ada(), before, Presence::Offline),
                Some(ServerEvent::UserOffline {
                    user_id: "github:1".into()
                })
            );
        }
    }

    #[test]
    fn no_change_is_silent() {
        for p in [Presence::Online, Presence::Idle, Presence::Offline] {
            assert_eq!(announcement(&ada(), p, p), None);
        }
    }
}
