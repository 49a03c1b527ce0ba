//! How Azure Web PubSub (or chatr-hub) must be configured to reach the backend: the event handler's
//! path and the events it subscribes to. The deployment templates are tested against these values.

/// The path of the CloudEvents webhook on the backend.
pub const EVENT_HANDLER_PATH: &str = "/api/eventHandler";

/// The hub Chatr uses unless configured otherwise.
pub const DEFAULT_HUB: &str = "chat";

/// The system events the backend handles: `connect` (blocking: vets the user), `connected` and
/// `disconnected` (presence and group re-admission).
pub const SYSTEM_EVENTS: [&str; 3] = ["connect", "connected", "disconnected"];

/// The user-event pattern: every client event goes to the backend, which rejects unknown ones.
pub const USER_EVENT_PATTERN: &str = "*";
