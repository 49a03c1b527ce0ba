//! The whole backend on one machine: chatr-hub and chatr-backend in this process, on loopback, with
//! a fresh access key, the hub's events going to the backend's event handler over HTTP exactly as
//! Azure Web PubSub's would. `chatr-backend serve` with no hub configured runs this, and so does
//! the desktop app when no server is configured.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use chatr_hub::{HubConfig, UpstreamHandler};
use chatr_protocol::webhook::{DEFAULT_HUB, EVENT_HANDLER_PATH};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{AppState, Config, HubSettings};

/// A running local system.
#[derive(Debug)]
pub struct Local {
    /// The backend's URL (`http://127.0.0.1:port`).
    pub backend_url: String,
    /// The hub's connection string.
    pub hub_connection_string: String,
    stop: CancellationToken,
}

impl Local {
    /// Stops both servers.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Why the local system could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A port could not be bound.
    #[error("cannot listen: {0}")]
    Bind(#[from] std::io::Error),
    /// The backend's configuration failed.
    #[error(transparent)]
    State(#[from] crate::state::Error),
    /// The session secret next to the database could not be read or written.
    #[error("cannot keep the session secret at {path}: {source}")]
    Secret {
        /// The secret's file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// The session secret kept next to the database, so sessions and saved sign-ins (refresh tokens)
/// survive a restart; created (owner-readable only) on first use.
fn persistent_secret(database: &std::path::Path) -> Result<Vec<u8>, Error> {
    use rand::RngCore;
    let path = database.with_extension("secret");
    let wrap = |source| Error::Secret {
        path: path.clone(),
        source,
    };
    match std::fs::read(&path) {
        Ok(secret) if secret.len() >= 32 => return Ok(secret),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(wrap(err)),
    }
    let mut secret = vec![0; 32];
    rand::rng().fill_bytes(&mut secret);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(&path).map_err(wrap)?, &secret).map_err(wrap)?;
    Ok(secret)
}

/// Starts hub and backend; the backend listens on `listen` (port 0 picks one), the hub on a free
/// loopback port. `database` as in [`Config::database`]. `tweak` may adjust the backend's
/// configuration (tests shorten timings).
pub async fn start(
    listen: SocketAddr,
    database: Option<PathBuf>,
    tweak: impl FnOnce(&mut Config),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Local, Error> {
    let backend_listener = TcpListener::bind(listen).await?;
    let backend_url = format!("http://{}", backend_listener.local_addr()?);
    let hub_listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let hub_addr = hub_listener.local_addr()?;
    let key = chatr_hub::random_access_key();
    let hub_connection_string = chatr_hub::connection_string(&format!("http://{hub_addr}"), &key);

    let mut config = Config::local(&backend_url);
    // The hub's events and health probes come to this address even when `tweak` sets another
    // public URL.
    config.allowed_hosts = vec![backend_listener.local_addr()?.to_string()];
    if let Some(path) = &database {
        config.session_secret = persistent_secret(path)?;
    }
    config.database = database;
    config.allowed_origins = vec![hub_addr.to_string()];
    config.hub = Some(HubSettings {
        connection_string: hub_connection_string.clone(),
        hub: DEFAULT_HUB.to_owned(),
        entra_tokens: None,
        event_issuer: None,
        event_caller: None,
    });
    tweak(&mut config);
    let state = AppState::new(config)?;

    let stop = CancellationToken::new();
    let hub_config = HubConfig::new(key).with_upstream(
        DEFAULT_HUB,
        UpstreamHandler::all_events(format!("{backend_url}{EVENT_HANDLER_PATH}")),
    );
    let hub_stop = stop.clone();
    tokio::spawn(async move {
        if let Err(err) =
            chatr_hub::serve(hub_listener, hub_config, hub_stop.cancelled_owned()).await
        {
            tracing::error!(cause = %err, "the embedded hub stopped");
        }
    });
    let backend_stop = stop.clone();
    tokio::spawn(async move {
        if let Err(err) =
            crate::serve(backend_listener, state, backend_stop.cancelled_owned()).await
        {
            tracing::error!(cause = %err, "the embedded backend stopped");
        }
    });
    let outer = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        outer.cancel();
    });
    Ok(Local {
        backend_url,
        hub_connection_string,
        stop,
    })
}
