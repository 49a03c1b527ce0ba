//! The `chatr-backend` command line: parses flags, sets up tracing, builds the configuration,
//! binds, and serves. No server logic lives here.
//!
//! Two ways to run:
//! - **Local** (no `--webpubsub-connection-string`): chatr-hub and the backend in this process,
//!   SQLite, local sign-in on. What the desktop app embeds; also a one-command team server.
//! - **Against Web PubSub** (a connection string, Azure's or a standalone chatr-hub's; or, in
//!   Azure, only the endpoint and the host's managed identity): only the backend runs here; state in
//!   SQLite or Azure Table Storage; local sign-in off unless asked for.
//!   Under Azure Functions, `FUNCTIONS_CUSTOMHANDLER_PORT` chooses the port (custom handler).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use chatr_backend::azure_identity::{self, ManagedIdentity, TokenSource};
use chatr_backend::identity::github::{self, GitHub};
use chatr_backend::identity::oidc::OidcProvider;
use chatr_backend::identity::providers::{GitHubSignIn, Providers};
use chatr_backend::store::Store;
use chatr_backend::store::table::TableStore;
use chatr_backend::store::table::client::TableClient;
use chatr_backend::{AppState, Config, HubSettings};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Chatr's server: the REST API for the desktop app and the Web PubSub event handler.
#[derive(Debug, Parser)]
#[command(name = "chatr-backend", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve until Ctrl+C (or SIGTERM).
    Serve(Box<Serve>),
    /// Exit 0 if `url` answers 2xx within 5 s, else 1: a health check for images with no shell.
    Probe {
        /// The URL to ask, e.g. `http://127.0.0.1:8080/api/health`.
        url: String,
    },
}

#[derive(Debug, clap::Args)]
struct Serve {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "CHATR_LISTEN", default_value = "127.0.0.1:7071")]
    listen: SocketAddr,
    /// The URL clients reach this backend at, if not `http://<listen address>`.
    #[arg(long, env = "CHATR_PUBLIC_URL")]
    public_url: Option<String>,
    /// The SQLite database file; in memory when absent (and no Table Storage is configured).
    #[arg(long, env = "CHATR_DATABASE")]
    database: Option<std::path::PathBuf>,
    /// Web PubSub's connection string (`Endpoint=…;AccessKey=…;Version=1.0;`); absent: local mode.
    #[arg(
        long,
        env = "CHATR_WEBPUBSUB_CONNECTION_STRING",
        hide_env_values = true
    )]
    webpubsub_connection_string: Option<String>,
    /// Web PubSub's endpoint (`https://<name>.webpubsub.azure.com`) when it is reached with this
    /// host's managed identity instead of a connection string.
    #[arg(
        long,
        env = "CHATR_WEBPUBSUB_ENDPOINT",
        conflicts_with = "webpubsub_connection_string"
    )]
    webpubsub_endpoint: Option<String>,
    /// Issuer of the tokens Web PubSub's managed identity puts on events, e.g.
    /// `https://sts.windows.net/<tenant>/` (needed when no access key signs events).
    #[arg(long, env = "CHATR_EVENT_ISSUER", requires = "event_audience")]
    event_issuer: Option<String>,
    /// The audience those tokens carry (the event handler's `managedIdentity.resource`).
    #[arg(long, env = "CHATR_EVENT_AUDIENCE", requires = "event_issuer")]
    event_audience: Option<String>,
    /// The object id of Web PubSub's managed identity: event tokens issued to anyone else (for
    /// the same audience) are refused.
    #[arg(long, env = "CHATR_EVENT_CALLER", requires = "event_issuer")]
    event_caller: Option<String>,
    /// The Web PubSub hub.
    #[arg(long, env = "CHATR_WEBPUBSUB_HUB", default_value = chatr_protocol::webhook::DEFAULT_HUB)]
    hub: String,
    /// Azure Table Storage connection string; the state goes there instead of SQLite.
    #[arg(long, env = "CHATR_TABLE_CONNECTION_STRING", hide_env_values = true)]
    table_connection_string: Option<String>,
    /// Azure Table Storage endpoint (`https://<account>.table.core.windows.net`) reached with this
    /// host's managed identity instead of a connection string.
    #[arg(
        long,
        env = "CHATR_TABLE_ENDPOINT",
        conflicts_with = "table_connection_string"
    )]
    table_endpoint: Option<String>,
    /// Client id of the user-assigned managed identity to use (none: the system-assigned one).
    #[arg(long, env = "AZURE_CLIENT_ID")]
    managed_identity_client_id: Option<String>,
    /// Prefix of the Table Storage tables.
    #[arg(long, env = "CHATR_TABLE_PREFIX", default_value = "chatr")]
    table_prefix: String,
    /// Hosts allowed to send events (abuse protection), comma-separated; default: the Web PubSub
    /// endpoint's host.
    #[arg(long, env = "CHATR_ALLOWED_ORIGINS", value_delimiter = ',')]
    allowed_origins: Vec<String>,
    /// The secret that signs session tokens, shared by every instance (at least 32 characters).
    #[arg(long, env = "CHATR_SESSION_SECRET", hide_env_values = true)]
    session_secret: Option<String>,
    /// Turn the local sign-in provider on outside local mode (trusted networks only).
    #[arg(long, env = "CHATR_LOCAL_SIGNIN")]
    local_signin: bool,
    /// Host names (`name` or `name:port`, comma-separated) this backend answers for besides its
    /// public URL's; other `Host`s get 421. Checked when local sign-in is on or this is given.
    #[arg(
        long = "allowed-host",
        env = "CHATR_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    allowed_hosts: Vec<String>,
    /// Local sign-ins one address may have waiting at once (default 10).
    #[arg(long, env = "CHATR_SIGNIN_PENDING_PER_CLIENT", value_parser = clap::value_parser!(u32).range(1..))]
    signin_pending_per_client: Option<u32>,
    /// Local sign-ins that may wait at once, from everyone (default 1000).
    #[arg(long, env = "CHATR_SIGNIN_PENDING_TOTAL", value_parser = clap::value_parser!(u32).range(1..))]
    signin_pending_total: Option<u32>,
    /// Client id of the GitHub OAuth app (device flow enabled): turns GitHub sign-in on.
    #[arg(long, env = "CHATR_GITHUB_CLIENT_ID")]
    github_client_id: Option<String>,
    /// Microsoft Entra ID tenant (id or domain): with the client id, turns Microsoft sign-in on.
    #[arg(long, env = "CHATR_ENTRA_TENANT_ID", requires = "entra_client_id")]
    entra_tenant_id: Option<String>,
    /// Application (client) id of the Entra app registration (public client flows allowed).
    #[arg(long, env = "CHATR_ENTRA_CLIENT_ID", requires = "entra_tenant_id")]
    entra_client_id: Option<String>,
    /// Any OpenID Connect issuer with the device grant (Keycloak, Authentik, …): its issuer URL.
    #[arg(long, env = "CHATR_OIDC_ISSUER", requires = "oidc_client_id")]
    oidc_issuer: Option<String>,
    /// The app's client id at that issuer.
    #[arg(long, env = "CHATR_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    oidc_client_id: Option<String>,
    /// The name of that issuer, used as the prefix of its user ids.
    #[arg(long, env = "CHATR_OIDC_NAME", default_value = "oidc")]
    oidc_name: String,
    /// Messages one user may send at once before the flood control refuses (default 20).
    #[arg(long, env = "CHATR_MESSAGE_BURST", value_parser = clap::value_parser!(u32).range(1..))]
    message_burst: Option<u32>,
    /// Messages one user may send per second after the burst (default 10).
    #[arg(long, env = "CHATR_MESSAGES_PER_SECOND", value_parser = positive)]
    messages_per_second: Option<f64>,
}

fn positive(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{value:?} is not a positive number")),
    }
}

impl Serve {
    /// Applies the flood-control flags to `config`.
    fn send_rate(&self) -> impl Fn(&mut Config) + use<> {
        let (burst, per_second) = (self.message_burst, self.messages_per_second);
        move |config: &mut Config| {
            if let Some(burst) = burst {
                config.rate.send.burst = burst;
            }
            if let Some(per_second) = per_second {
                config.rate.send.per_second = per_second;
            }
        }
    }
}

impl Serve {
    /// Applies the sign-in hardening flags (allowed hosts, local sign-in limits) to `config`.
    fn sign_in_settings(&self) -> impl FnOnce(&mut Config) + use<> {
        let hosts = self.allowed_hosts.clone();
        let (per_client, total) = (self.signin_pending_per_client, self.signin_pending_total);
        move |config: &mut Config| {
            config.allowed_hosts.extend(hosts);
            if let Some(n) = per_client {
                config.signin_limits.pending_per_client = n as usize;
            }
            if let Some(n) = total {
                config.signin_limits.pending_total = n as usize;
            }
        }
    }
}

/// The external identity providers the flags turn on, their discovery documents read.
async fn providers(serve: &Serve) -> anyhow::Result<Providers> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()?;
    let mut providers = Providers {
        github: serve
            .github_client_id
            .clone()
            .map(|client_id| GitHubSignIn {
                verifier: GitHub::new(http.clone(), github::DEFAULT_API),
                client_id,
            }),
        oidc: Vec::new(),
    };
    if let (Some(tenant), Some(client_id)) = (&serve.entra_tenant_id, &serve.entra_client_id) {
        let issuer = format!("https://login.microsoftonline.com/{tenant}/v2.0");
        let entra = OidcProvider::discover(http.clone(), "microsoft", &issuer, client_id, None)
            .await
            .with_context(|| format!("cannot read Entra ID's configuration for tenant {tenant}"))?;
        providers.oidc.push(Arc::new(entra));
    }
    if let (Some(issuer), Some(client_id)) = (&serve.oidc_issuer, &serve.oidc_client_id) {
        anyhow::ensure!(
            !["local", "github", "microsoft"].contains(&serve.oidc_name.as_str()),
            "CHATR_OIDC_NAME must not be a built-in provider's name"
        );
        let oidc = OidcProvider::discover(http, &serve.oidc_name, issuer, client_id, None)
            .await
            .with_context(|| format!("cannot read the OpenID configuration of {issuer}"))?;
        providers.oidc.push(Arc::new(oidc));
    }
    Ok(providers)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let mut serve = match Cli::parse().command {
        Command::Serve(serve) => *serve,
        Command::Probe { url } => return probe(&url).await,
    };
    if let Some(port) = std::env::var("FUNCTIONS_CUSTOMHANDLER_PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
    {
        serve.listen = SocketAddr::from(([127, 0, 0, 1], port));
    }
    let connection_string = match (
        serve.webpubsub_connection_string.take(),
        &serve.webpubsub_endpoint,
    ) {
        (Some(connection_string), _) => connection_string,
        // Endpoint alone: the key-less connection string the hub client pairs with Entra tokens.
        (None, Some(endpoint)) => format!("Endpoint={endpoint};Version=1.0;"),
        (None, None) => return serve_local(serve).await,
    };
    serve_remote(serve, connection_string).await
}

async fn probe(url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?;
    let status = client.get(url).send().await?.status();
    anyhow::ensure!(status.is_success(), "{url} answered {status}");
    Ok(())
}

async fn serve_local(serve: Serve) -> anyhow::Result<()> {
    let providers = providers(&serve).await?;
    let send_rate = serve.send_rate();
    let sign_in = serve.sign_in_settings();
    let public_url = serve.public_url;
    let tweak = |config: &mut Config| {
        if let Some(url) = public_url {
            config.public_url = url;
        }
        config.providers = providers;
        send_rate(config);
        sign_in(config);
    };
    let local =
        chatr_backend::local::start(serve.listen, serve.database, tweak, std::future::pending())
            .await
            .with_context(|| format!("cannot start the backend on {}", serve.listen))?;
    // The first line on stdout is the URL, so scripts and tests can read it.
    println!("chatr-backend listening on {}", local.backend_url);
    tracing::info!(hub = %redact_key(&local.hub_connection_string), "embedded hub running");
    shutdown_signal().await;
    local.stop();
    tracing::info!("stopped");
    Ok(())
}

async fn serve_remote(serve: Serve, connection_string: String) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(serve.listen)
        .await
        .with_context(|| format!("cannot listen on {}", serve.listen))?;
    let addr = listener.local_addr()?;
    let mut config = Config::local(
        serve
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}")),
    );
    config.providers = providers(&serve).await?;
    serve.send_rate()(&mut config);
    config.local_signin = serve.local_signin;
    serve.sign_in_settings()(&mut config);
    if config.local_signin || !config.allowed_hosts.is_empty() {
        // The host check is on: health probes reach the listening address itself.
        config.allowed_hosts.push(addr.to_string());
    }
    config.database = serve.database;
    config.allowed_origins = if serve.allowed_origins.is_empty() {
        let endpoint =
            chatr_backend::hub_client::ConnectionString::parse(&connection_string)?.endpoint;
        vec![
            endpoint.host_str().unwrap_or_default().to_owned()
                + &endpoint.port().map(|p| format!(":{p}")).unwrap_or_default(),
        ]
    } else {
        serve.allowed_origins
    };
    match serve.session_secret {
        Some(secret) if secret.len() >= 32 => config.session_secret = secret.into_bytes(),
        Some(_) => anyhow::bail!("CHATR_SESSION_SECRET must have at least 32 characters"),
        None => tracing::warn!(
            "no CHATR_SESSION_SECRET: sessions end when this instance stops and do not span instances"
        ),
    }
    let client_id = serve.managed_identity_client_id;
    let entra_tokens = match &serve.webpubsub_endpoint {
        Some(_) => {
            let source = ManagedIdentity::new(
                azure_identity::Endpoint::from_env(),
                azure_identity::WEBPUBSUB_RESOURCE,
                client_id.clone(),
            )?;
            Some(Arc::new(source) as Arc<dyn TokenSource>)
        }
        None => None,
    };
    let event_issuer = match (serve.event_issuer, serve.event_audience) {
        (Some(issuer), Some(audience)) => Some(Arc::new(
            OidcProvider::discover(reqwest::Client::new(), "azure", &issuer, audience, None)
                .await
                .with_context(|| format!("cannot read the event token issuer {issuer}"))?,
        )),
        _ => None,
    };
    config.hub = Some(HubSettings {
        connection_string,
        hub: serve.hub,
        entra_tokens,
        event_issuer,
        event_caller: serve.event_caller,
    });
    let table_client = match (serve.table_connection_string, serve.table_endpoint) {
        (Some(connection), _) => Some(
            TableClient::from_connection_string(&connection)
                .context("invalid Table Storage connection string")?,
        ),
        (None, Some(endpoint)) => {
            let account = reqwest::Url::parse(&endpoint)
                .ok()
                .and_then(|url| {
                    url.host_str()
                        .and_then(|h| h.split('.').next().map(str::to_owned))
                })
                .context("CHATR_TABLE_ENDPOINT must be https://<account>.table.core.windows.net")?;
            Some(TableClient::with_managed_identity(
                &account,
                Some(&endpoint),
                client_id,
            )?)
        }
        (None, None) => None,
    };
    let state = match table_client {
        Some(client) => {
            let store: Arc<dyn Store> = Arc::new(
                TableStore::open(client, &serve.table_prefix)
                    .await
                    .context("cannot open Table Storage")?,
            );
            AppState::with_store(config, store)?
        }
        None => AppState::new(config)?,
    };
    println!("chatr-backend listening on http://{addr}");
    chatr_backend::serve(listener, state, shutdown_signal())
        .await
        .context("server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// The connection string with its access key hidden, for logs.
fn redact_key(connection_string: &str) -> String {
    connection_string
        .split(';')
        .map(|part| {
            if part.to_ascii_lowercase().starts_with("accesskey=") {
                "AccessKey=<redacted>"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Completes on Ctrl+C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(cause = %err, "cannot listen for Ctrl+C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(cause = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
