//! Which backend the app talks to, and the HTTP calls to it.
//!
//! With no server configured the app starts `chatr-backend` in-process on a loopback port (the
//! embedded default, so Chatr works with nothing else installed). `--server=URL` (or
//! `CHATR_SERVER_URL`, or the server setting) points it at a remote backend instead. A second app
//! instance on the same machine (another profile, `--data-dir`) joins the embedded backend the
//! first one runs, found through a small file ([`SharedEmbedded`]), so the two can chat with
//! nothing else installed. This module knows nothing of Tauri and never blocks the UI thread.

use std::time::Duration;

use chatr_protocol::Health;
use serde::Serialize;

/// The environment variable that points the app at a remote backend.
pub const SERVER_URL_VAR: &str = "CHATR_SERVER_URL";

/// The server name of accounts on the embedded backend (see [`Backend::account_server`]).
pub const EMBEDDED_SERVER: &str = "embedded";

/// How long a call to the backend may take before it counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the backend could not be configured, started or reached.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `CHATR_SERVER_URL` is not an absolute http(s) URL.
    #[error("{SERVER_URL_VAR} must be an http:// or https:// URL, not {0:?}")]
    BadServerUrl(String),
    /// The embedded backend could not start.
    #[error("cannot start the embedded backend: {0}")]
    Start(#[from] chatr_backend::local::Error),
    /// The backend did not answer, or answered something other than its health document.
    #[error("backend at {url} is unreachable: {source}")]
    Unreachable {
        /// The base URL that was called.
        url: String,
        /// What went wrong.
        source: reqwest::Error,
    },
}

/// Where the backend comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// Started by this app, in-process, on loopback.
    Embedded,
    /// Configured by the user.
    Remote,
    /// The embedded backend of another Chatr instance on this machine.
    Joined,
}

/// The file through which app instances on one machine share one embedded backend: the first
/// writes its URL, later ones join it while it answers. Holds a loopback URL only.
#[derive(Debug, Clone)]
pub struct SharedEmbedded {
    path: std::path::PathBuf,
}

#[derive(Debug, serde::Deserialize, Serialize)]
struct SharedRecord {
    url: String,
    pid: u32,
}

impl SharedEmbedded {
    /// The file in `dir` (a per-user folder every instance agrees on, not a profile's).
    pub fn in_dir(dir: &std::path::Path) -> Self {
        Self {
            path: dir.join("embedded-backend.json"),
        }
    }

    fn read(&self) -> Option<SharedRecord> {
        let bytes = std::fs::read(&self.path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn publish(&self, url: &str) {
        let record = SharedRecord {
            url: url.to_owned(),
            pid: std::process::id(),
        };
        let written = serde_json::to_vec(&record)
            .map_err(std::io::Error::other)
            .and_then(|bytes| crate::settings::write_atomically(&self.path, &bytes));
        if let Err(err) = written {
            tracing::warn!(cause = %err, "other instances cannot join this backend");
        }
    }

    /// Removes the file if it still names this process.
    fn withdraw(&self) {
        if self.read().is_some_and(|r| r.pid == std::process::id()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// What the user configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendConfig {
    /// No server configured: run one in-process (its database in this file, or in memory).
    Embedded(Option<std::path::PathBuf>),
    /// Talk to this backend (base URL without a trailing slash).
    Remote(String),
}

impl BackendConfig {
    /// Interprets a configured server URL; `None` or blank means embedded.
    pub fn from_value(value: Option<&str>) -> Result<Self, Error> {
        let Some(url) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(Self::Embedded(None));
        };
        let parsed = reqwest::Url::parse(url).map_err(|_| Error::BadServerUrl(url.to_owned()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(Error::BadServerUrl(url.to_owned()));
        }
        Ok(Self::Remote(url.trim_end_matches('/').to_owned()))
    }
}

/// The backend this app talks to. Managed as Tauri state; cheap to share.
#[derive(Debug)]
pub struct Backend {
    base_url: String,
    mode: Mode,
    http: reqwest::Client,
    /// The embedded hub and backend; `None` for a remote backend.
    embedded: Option<chatr_backend::local::Local>,
    /// Where this instance announced its embedded backend, if it did.
    shared: Option<SharedEmbedded>,
}

impl Backend {
    /// Like [`Backend::start`], but an embedded configuration first joins the backend another
    /// instance announced in `shared` (if it answers), and announces its own otherwise.
    pub async fn start_or_join(
        config: BackendConfig,
        shared: &SharedEmbedded,
    ) -> Result<Self, Error> {
        if !matches!(config, BackendConfig::Embedded(_)) {
            return Self::start(config).await;
        }
        if let Some(record) = shared.read() {
            let mut joined = Self::start(BackendConfig::Remote(record.url.clone())).await?;
            joined.mode = Mode::Joined;
            if joined.health().await.is_ok() {
                tracing::info!(url = %record.url, "joining the embedded backend of another instance");
                return Ok(joined);
            }
        }
        let mut started = Self::start(config).await?;
        shared.publish(&started.base_url);
        started.shared = Some(shared.clone());
        Ok(started)
    }

    /// Connects to the configured backend, starting the embedded one if none is configured.
    pub async fn start(config: BackendConfig) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|source| Error::Unreachable {
                url: String::new(),
                source,
            })?;
        match config {
            BackendConfig::Remote(base_url) => Ok(Self {
                base_url,
                mode: Mode::Remote,
                http,
                embedded: None,
                shared: None,
            }),
            BackendConfig::Embedded(database) => {
                let local = chatr_backend::local::start(
                    ([127, 0, 0, 1], 0).into(),
                    database,
                    |_| {},
                    std::future::pending(),
                )
                .await?;
                Ok(Self {
                    base_url: local.backend_url.clone(),
                    mode: Mode::Embedded,
                    http,
                    embedded: Some(local),
                    shared: None,
                })
            }
        }
    }

    /// The backend's base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether this backend is embedded or remote.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Which server remembered accounts belong to: the URL of a remote backend, or
    /// [`EMBEDDED_SERVER`] for the embedded one, whose port changes at every start.
    pub fn account_server(&self) -> &str {
        match self.mode {
            Mode::Remote => &self.base_url,
            Mode::Embedded | Mode::Joined => EMBEDDED_SERVER,
        }
    }

    /// Calls `GET /api/health`.
    pub async fn health(&self) -> Result<Health, Error> {
        let url = format!("{}/api/health", self.base_url);
        let unreachable = |source| Error::Unreachable {
            url: self.base_url.clone(),
            source,
        };
        self.http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unreachable)?
            .json::<Health>()
            .await
            .map_err(unreachable)
    }

    /// Stops the embedded backend, if this app started one.
    pub fn shutdown(&self) {
        if let Some(local) = &self.embedded {
            local.stop();
        }
        if let Some(shared) = &self.shared {
            shared.withdraw();
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatr_protocol::HealthStatus;

    #[test]
    fn no_or_blank_server_url_means_embedded() {
        assert_eq!(
            BackendConfig::from_value(None).unwrap(),
            BackendConfig::Embedded(None)
        );
        assert_eq!(
            BackendConfig::from_value(Some("  ")).unwrap(),
            BackendConfig::Embedded(None)
        );
    }

    #[test]
    fn server_url_is_trimmed_of_its_trailing_slash() {
        assert_eq!(
            BackendConfig::from_value(Some("https://chatr.example.com/")).unwrap(),
            BackendConfig::Remote("https://chatr.example.com".into())
        );
    }

    #[test]
    fn server_url_must_be_http_or_https() {
        for bad in ["ftp://example.com", "example.com", "http://", "not a url"] {
            assert!(
                matches!(
                    BackendConfig::from_value(Some(bad)),
                    Err(Error::BadServerUrl(_))
                ),
                "{bad} was accepted"
            );
        }
    }

    #[tokio::test]
    async fn embedded_backend_answers_health_over_http() {
        let backend = Backend::start(BackendConfig::Embedded(None)).await.unwrap();
        assert_eq!(backend.mode(), Mode::Embedded);
        assert!(backend.base_url().starts_with("http://127.0.0.1:"));

        let health = backend.health().await.unwrap();
        assert_eq!(health.status, HealthStatus::Ok);
        assert_eq!(health.service, "chatr-backend");
    }

    #[tokio::test]
    async fn accounts_of_the_embedded_backend_outlive_its_port() {
        let first = Backend::start(BackendConfig::Embedded(None)).await.unwrap();
        let second = Backend::start(BackendConfig::Embedded(None)).await.unwrap();
        assert_ne!(first.base_url(), second.base_url());
        assert_eq!(first.account_server(), second.account_server());
        let remote = Backend::start(BackendConfig::Remote("https://chat.example.com".into()))
            .await
            .unwrap();
        assert_eq!(remote.account_server(), "https://chat.example.com");
    }

    #[tokio::test]
    async fn a_second_instance_joins_the_first_ones_embedded_backend() {
        let dir = std::env::temp_dir().join(format!("chatr-shared-{}", uuid::Uuid::new_v4()));
        let shared = SharedEmbedded::in_dir(&dir);
        let first = Backend::start_or_join(BackendConfig::Embedded(None), &shared)
            .await
            .unwrap();
        assert_eq!(first.mode(), Mode::Embedded);
        let second = Backend::start_or_join(BackendConfig::Embedded(None), &shared)
            .await
            .unwrap();
        assert_eq!(second.mode(), Mode::Joined);
        assert_eq!(second.base_url(), first.base_url());
        second.shutdown();
        assert!(
            shared.read().is_some(),
            "a joiner never withdraws the host's file"
        );

        // Once the first is gone, a newcomer starts its own instead of joining a dead one.
        first.shutdown();
        assert!(shared.read().is_none());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("embedded-backend.json"),
            br#"{"url":"http://127.0.0.1:9","pid":1}"#,
        )
        .unwrap();
        let third = Backend::start_or_join(BackendConfig::Embedded(None), &shared)
            .await
            .unwrap();
        assert_eq!(third.mode(), Mode::Embedded);
        assert_eq!(shared.read().unwrap().url, third.base_url());
    }

    #[tokio::test]
    async fn stopped_backend_is_reported_unreachable() {
        let backend = Backend::start(BackendConfig::Embedded(None)).await.unwrap();
        backend.shutdown();
        // Wait for the server to let go of its port, then expect a clear error.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            match backend.health().await {
                Err(Error::Unreachable { url, .. }) => {
                    assert_eq!(url, backend.base_url());
                    break;
                }
                Ok(_) if tokio::time::Instant::now() < deadline => tokio::task::yield_now().await,
                other => panic!("expected unreachable, got {other:?}"),
            }
        }
    }
}
