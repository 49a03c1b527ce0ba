//! The backend's configuration and the state every handler shares, built once at start-up.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rand::RngCore;

use crate::azure_identity::TokenSource;
use crate::chat::rate_limit::{Operation, RateLimits, TokenBucket};
use crate::chat::typing::{TypingLimits, TypingThrottle};
use crate::chat::validate::Limits;
use crate::hub_client::{self, ConnectionString, HubClient};
use crate::identity::device_grant::{DeviceGrants, GrantTiming};
use crate::identity::oidc::OidcProvider;
use crate::identity::providers::Providers;
use crate::identity::throttle::SignInLimits;
use crate::identity::tokens::TokenIssuer;
use crate::store::sqlite::SqliteStore;
use crate::store::{self, Store};

/// Why the backend cannot start with this configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The Web PubSub connection string is unusable.
    #[error(transparent)]
    Hub(#[from] hub_client::Error),
}

/// Where the Web PubSub service (or chatr-hub) is, and how to prove who we are to it.
#[derive(Debug, Clone)]
pub struct HubSettings {
    /// `Endpoint=…;AccessKey=…;Version=1.0;`, or only `Endpoint=…;` with `entra_tokens`.
    pub connection_string: String,
    /// The hub name.
    pub hub: String,
    /// Entra tokens for the REST API when there is no access key (managed identity in Azure).
    pub entra_tokens: Option<Arc<dyn TokenSource>>,
    /// Verifies the `Authorization: Bearer` token on events when the service's event handler
    /// authenticates with managed identity (no access key signs them then).
    pub event_issuer: Option<Arc<OidcProvider>>,
    /// The object id (`oid`) of the identity the service requests those tokens with; when set,
    /// tokens for the same audience requested by anyone else in the tenant are refused.
    pub event_caller: Option<String>,
}

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
    /// Limits of local sign-in: waiting grants per client and overall, wrong codes.
    pub signin_limits: SignInLimits,
    /// Host names (`name` or `name:port`) this backend answers for besides its public URL's; any
    /// other `Host` gets 421. The check is on when local sign-in is on or this is not empty.
    pub allowed_hosts: Vec<String>,
    /// The hub; `None` serves only health and sign-in.
    pub hub: Option<HubSettings>,
    /// Hosts allowed to send events (abuse protection); `*` allows any.
    pub allowed_origins: Vec<String>,
    /// The SQLite file; `None` keeps everything in memory (tests, throwaway runs).
    pub database: Option<PathBuf>,
    /// An already opened store (Azure Table Storage, tests); when set, `database` is ignored.
    pub store: Option<Arc<dyn Store>>,
    /// Message and name limits.
    pub limits: Limits,
    /// Per-user limits of every operation that writes or broadcasts.
    pub rate: RateLimits,
    /// How often typing signals are forwarded (see `chat::typing`).
    pub typing: TypingLimits,
    /// How often stored connections are checked against the hub (records whose `disconnected`
    /// never arrived: a hub crash, a backend restart); also done once at start.
    pub sweep_every: std::time::Duration,
    /// External identity providers (GitHub, Entra ID, OpenID Connect issuers).
    pub providers: Providers,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("public_url", &self.public_url)
            .field("session_secret", &"<redacted>")
            .field("local_signin", &self.local_signin)
            .field("hub", &self.hub.as_ref().map(|h| &h.hub))
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Local mode at `public_url`: local sign-in on, a fresh random session secret, no hub yet,
    /// an in-memory store.
    pub fn local(public_url: impl Into<String>) -> Self {
        let mut secret = vec![0; 32];
        rand::rng().fill_bytes(&mut secret);
        Self {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            session_secret: secret,
            local_signin: true,
            grant_timing: GrantTiming::default(),
            signin_limits: SignInLimits::default(),
            allowed_hosts: Vec::new(),
            hub: None,
            allowed_origins: vec!["*".into()],
            database: None,
            store: None,
            limits: Limits::default(),
            rate: RateLimits::default(),
            typing: TypingLimits::default(),
            sweep_every: std::time::Duration::from_secs(60),
            providers: Providers::default(),
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
    /// The hosts requests must name (`api::host_check`); `None`: any.
    pub(crate) allowed_hosts: Option<Arc<crate::api::host_check::AllowedHosts>>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) hub: Option<HubClient>,
    /// Keys that sign the service's events (from the connection string).
    pub(crate) event_keys: Vec<String>,
    /// Issuer of the bearer tokens on events (managed-identity event handlers).
    pub(crate) event_issuer: Option<Arc<OidcProvider>>,
    /// Who those tokens must have been issued to (`oid`), if pinned.
    pub(crate) event_caller: Option<String>,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) limits: Limits,
    pub(crate) rate: RateLimits,
    pub(crate) sweep_every: std::time::Duration,
    pub(crate) providers: Providers,
    /// Per-user flood control (per instance; see `chat::rate_limit`).
    pub(crate) buckets: Mutex<HashMap<(String, Operation), TokenBucket>>,
    /// When typing signals were last forwarded (per instance; see `chat::typing`).
    pub(crate) typing: Mutex<TypingThrottle>,
}

impl AppState {
    /// Builds the state from the configuration, opening the SQLite store it names.
    pub fn new(config: Config) -> Result<Self, Error> {
        let store: Arc<dyn Store> = match (&config.store, &config.database) {
            (Some(store), _) => store.clone(),
            (None, Some(path)) => Arc::new(SqliteStore::open(path)?),
            (None, None) => Arc::new(SqliteStore::in_memory()?),
        };
        Self::with_store(config, store)
    }

    /// Builds the state on an already opened store (Azure Table Storage, tests); `config.database`
    /// is ignored.
    pub fn with_store(config: Config, store: Arc<dyn Store>) -> Result<Self, Error> {
        let (hub, event_keys, event_issuer, event_caller) = match &config.hub {
            Some(settings) => {
                let connection = ConnectionString::parse(&settings.connection_string)?;
                let keys = connection.access_key.iter().cloned().collect();
                let client = match (&connection.access_key, &settings.entra_tokens) {
                    (None, Some(tokens)) => HubClient::with_entra(
                        connection.endpoint,
                        settings.hub.clone(),
                        tokens.clone(),
                    )?,
                    _ => HubClient::new(connection, settings.hub.clone())?,
                };
                (
                    Some(client),
                    keys,
                    settings.event_issuer.clone(),
                    settings.event_caller.clone(),
                )
            }
            None => (None, Vec::new(), None, None),
        };
        let allowed_hosts = (config.local_signin || !config.allowed_hosts.is_empty()).then(|| {
            Arc::new(crate::api::host_check::AllowedHosts::new(
                &config.public_url,
                &config.allowed_hosts,
            ))
        });
        Ok(Self(Arc::new(Shared {
            public_url: config.public_url,
            tokens: TokenIssuer::new(&config.session_secret),
            local_grants: config.local_signin.then(|| {
                Mutex::new(DeviceGrants::with_limits(
                    config.grant_timing,
                    config.signin_limits,
                ))
            }),
            allowed_hosts,
            store,
            hub,
            event_keys,
            event_issuer,
            event_caller,
            allowed_origins: config.allowed_origins,
            limits: config.limits,
            rate: config.rate,
            sweep_every: config.sweep_every,
            providers: config.providers,
            buckets: Mutex::new(HashMap::new()),
            typing: Mutex::new(TypingThrottle::new(config.typing)),
        })))
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.0
    }
}
