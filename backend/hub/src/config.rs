//! How a hub server is configured: access keys, and per hub the upstream event handlers.

use std::collections::HashMap;
use std::time::Duration;

use crate::accept::ServeLimits;

/// The default outbox (frames queued for one client). A resume queues the `connected` frame and up
/// to a whole replay buffer into a fresh outbox at once, so it must hold more than that (the
/// session also enforces it whatever the configuration says).
pub const DEFAULT_OUTBOX_CAPACITY: usize = 1100;
const _: () = assert!(DEFAULT_OUTBOX_CAPACITY > crate::reliable::MAX_MESSAGES);

/// One upstream event handler of a hub (Azure's "event handler settings").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamHandler {
    /// The URL, with `{event}` and `{hub}` placeholders allowed in the path and query.
    pub url_template: String,
    /// Which user events go here: `*`, `a,b`, or one name.
    pub user_event_pattern: String,
    /// Which system events go here: `connect`, `connected`, `disconnected`.
    pub system_events: Vec<String>,
}

impl UpstreamHandler {
    /// A handler for every user event and all three system events (the CLI's default).
    pub fn all_events(url_template: impl Into<String>) -> Self {
        Self {
            url_template: url_template.into(),
            user_event_pattern: "*".into(),
            system_events: vec!["connect".into(), "connected".into(), "disconnected".into()],
        }
    }

    /// Whether this handler takes `event` (a system event when `system`).
    pub fn accepts(&self, event: &str, system: bool) -> bool {
        if system {
            self.system_events
                .iter()
                .any(|e| e.eq_ignore_ascii_case(event))
        } else {
            self.user_event_pattern
                .split(',')
                .map(str::trim)
                .any(|p| p == "*" || p == event)
        }
    }

    /// The URL for `event` on `hub`.
    pub fn url(&self, hub: &str, event: &str) -> String {
        self.url_template
            .replace("{event}", event)
            .replace("{hub}", hub)
    }
}

/// The whole server's configuration.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Access keys: tokens signed with any of them are accepted; events are signed with each.
    pub access_keys: Vec<String>,
    /// Upstream handlers per hub (hub names compared case-insensitively).
    pub upstreams: HashMap<String, Vec<UpstreamHandler>>,
    /// How long a dropped reliable connection may be resumed.
    pub recovery_window: Duration,
    /// How long a blocking upstream call (connect, user events) may take.
    pub upstream_timeout: Duration,
    /// How many frames may wait for one slow client before it is disconnected (never less than
    /// a reliable connection's whole replay plus one).
    pub outbox_capacity: usize,
    /// The most WebSocket connections at once.
    pub max_connections: usize,
    /// The most WebSocket connections one user may have in one hub (counting reliable ones
    /// waiting to be resumed); one more is refused with 429 before the upgrade.
    pub max_connections_per_user: usize,
    /// Timeouts and the socket cap of the HTTP listener.
    pub serve_limits: ServeLimits,
}

impl HubConfig {
    /// A configuration with one access key and no upstreams.
    pub fn new(access_key: impl Into<String>) -> Self {
        Self {
            access_keys: vec![access_key.into()],
            upstreams: HashMap::new(),
            recovery_window: Duration::from_secs(30),
            upstream_timeout: Duration::from_secs(30),
            outbox_capacity: DEFAULT_OUTBOX_CAPACITY,
            max_connections: 100_000,
            max_connections_per_user: 20,
            serve_limits: ServeLimits::default(),
        }
    }

    /// Adds an upstream handler to `hub`.
    pub fn with_upstream(mut self, hub: &str, handler: UpstreamHandler) -> Self {
        self.upstreams
            .entry(hub.to_ascii_lowercase())
            .or_default()
            .push(handler);
        self
    }

    /// The first handler of `hub` that takes `event`.
    pub fn handler(&self, hub: &str, event: &str, system: bool) -> Option<&UpstreamHandler> {
        self.upstreams
            .get(&hub.to_ascii_lowercase())?
            .iter()
            .find(|h| h.accepts(event, system))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handlers_match_events_and_fill_the_template() {
        let handler = UpstreamHandler {
            url_template: "http://h/api/{hub}/{event}".into(),
            user_event_pattern: "a, b".into(),
            system_events: vec!["connected".into()],
        };
        assert!(handler.accepts("a", false));
        assert!(handler.accepts("b", false));
        assert!(!handler.accepts("c", false));
        assert!(handler.accepts("connected", true));
        assert!(!handler.accepts("connect", true));
        assert_eq!(handler.url("chat", "a"), "http://h/api/chat/a");
    }

    #[test]
    fn the_first_matching_handler_of_the_hub_wins() {
        let config = HubConfig::new("k")
            .with_upstream("Chat", UpstreamHandler::all_events("http://first"))
            .with_upstream("chat", UpstreamHandler::all_events("http://second"));
        assert_eq!(
            config
                .handler("CHAT", "x", false)
                .map(|h| h.url_template.as_str()),
            Some("http://first")
        );
        assert!(config.handler("other", "x", false).is_none());
    }
}
