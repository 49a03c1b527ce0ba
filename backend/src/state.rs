//! The backend's configuration and the state every handler shares, built once at start-up.

use std::sync::{Arc, Mutex};

use rand::RngCore;

use crate::identity::device_grant::{DeviceGrants, GrantTiming};
use crate::identity::tokens::TokenIssuer;

/// How the backend is configured.
#[derive(Clone)]
pub struct Config {
    /// The URL clients reach this backend at (used in links it hands out), no trailing slash.
    pub public_url: String,
    /// The secret that signs session tokens; every instance of one deployment must share it.
    pub session_secret: Vec<u8>,
    /// Whether the local sign-in provider is on (embedded / single-machine mode only).
    pub local_signin: bool,
    /// Timing of local sign-in grants.
    pub grant_timing: GrantTiming,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("public_url", &self.public_url)
            .field("session_secret", &"<redacted>")
            .field("local_signin", &self.local_signin)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Local mode at `public_url`: local sign-in on, a fresh random session secret.
    pub fn local(public_url: impl Into<String>) -> Self {
        let mut secret = vec![0; 32];
        rand::rng().fill_bytes(&mut secret);
        Self {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            session_secret: secret,
            local_signin: true,
            grant_timing: GrantTiming::default(),
        }
    }
}

/// Shared, cheaply cloneable state handed to every handler.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) public_url: String,
    pub(crate) tokens: TokenIssuer,
    /// `Some` only when local sign-in is on. A `std` mutex: never held across an `.await`.
    pub(crate) local_grants: Option<Mutex<DeviceGrants>>,
}

impl AppState {
    /// Builds the state from the configuration.
    pub fn new(config: Config) -> Self {
        Self(Arc::new(Shared {
            public_url: config.public_url,
            tokens: TokenIssuer::new(&config.session_secret),
            local_grants: config
                .local_signin
                .then(|| Mutex::new(DeviceGrants::new(config.grant_timing))),
        }))
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.0
    }
}
