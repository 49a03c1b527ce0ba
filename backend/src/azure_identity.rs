//! Entra ID bearer tokens for Azure services (Table Storage, Web PubSub's REST API): the pluggable
//! [`TokenSource`] and an Azure managed-identity source that caches its token until shortly before
//! it expires. Never logs a token or the identity header's secret.
//!
//! Two endpoints are supported, picked from the environment the way Azure sets it:
//! - App Service / Container Apps / Functions: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`
//!   (`GET $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=…` with `X-IDENTITY-HEADER`);
//! - virtual machines (IMDS): `GET http://169.254.169.254/metadata/identity/oauth2/token
//!   ?api-version=2018-02-01&resource=…` with `Metadata: true`.
//!
//! Both answer `{"access_token": "…", "expires_on": <unix seconds, number or string>}` (IMDS also
//! sends `expires_in`). This cannot be exercised against Azure here; the tests stand a loopback
//! server in for the endpoint.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The identity endpoint could not be reached or answered an error.
    #[error("managed identity: {0}")]
    Endpoint(String),
    /// The endpoint's answer is not a usable token.
    #[error("managed identity answer: {0}")]
    Answer(String),
}

/// The resource (audience) of Azure Storage tokens.
pub const STORAGE_RESOURCE: &str = "https://storage.azure.com/";
/// The resource (audience) of Azure Web PubSub data-plane tokens.
pub const WEBPUBSUB_RESOURCE: &str = "https://webpubsub.azure.com";
/// The instance metadata service's token endpoint.
pub const IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
/// A cached token is replaced this long before it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Something that hands out bearer tokens for one resource.
#[async_trait]
pub trait TokenSource: Send + Sync + std::fmt::Debug {
    /// A currently valid access token (without the `Bearer ` prefix).
    async fn token(&self) -> Result<String, Error>;
}

/// Which managed-identity endpoint to ask.
#[derive(Clone)]
pub enum Endpoint {
    /// IMDS at `url` (normally [`IMDS_ENDPOINT`]).
    Imds {
        /// The token URL.
        url: String,
    },
    /// App Service / Container Apps: `IDENTITY_ENDPOINT` and the `IDENTITY_HEADER` secret.
    AppService {
        /// The token URL.
        url: String,
        /// Sent as `X-IDENTITY-HEADER`.
        header: String,
    },
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Imds { url } => f.debug_struct("Imds").field("url", url).finish(),
            Self::AppService { url, .. } => f
                .debug_struct("AppService")
                .field("url", url)
                .field("header", &"<redacted>")
                .finish(),
        }
    }
}

impl Endpoint {
    /// The endpoint Azure configured for this process: App Service style when `IDENTITY_ENDPOINT`
    /// and `IDENTITY_HEADER` are set, IMDS otherwise.
    pub fn from_env() -> Self {
        match (
            std::env::var("IDENTITY_ENDPOINT"),
            std::env::var("IDENTITY_HEADER"),
        ) {
            (Ok(url), Ok(header)) => Self::AppService { url, header },
            _ => Self::Imds {
                url: IMDS_ENDPOINT.into(),
            },
        }
    }
}

/// A cached token and when it stops being usable.
#[derive(Debug, Clone)]
struct Cached {
    token: String,
    expires_at: SystemTime,
}

/// Tokens from an Azure managed identity, cached until five minutes before they expire.
pub struct ManagedIdentity {
    http: reqwest::Client,
    endpoint: Endpoint,
    resource: String,
    /// `client_id` of a user-assigned identity; `None` for the system-assigned one.
    client_id: Option<String>,
    /// A `std` mutex: held only to read or swap the cache, never across an `.await`.
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for ManagedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedIdentity")
            .field("endpoint", &self.endpoint)
            .field("resource", &self.resource)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The token response of both endpoints (the fields Chatr needs).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// Unix seconds; IMDS and App Service send it as a string, some versions as a number.
    expires_on: Option<Value>,
    /// Seconds from now (IMDS), as a string or number.
    expires_in: Option<Value>,
}

fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// When a token from `body` (received at `now`) expires. Pure, so the parsing is unit-tested.
fn parse_response(body: &[u8], now: SystemTime) -> Result<(String, SystemTime), Error> {
    let response: TokenResponse =
        serde_json::from_slice(body).map_err(|e| Error::Answer(e.to_string()))?;
    let expires_at = if let Some(on) = response.expires_on.as_ref().and_then(number) {
        UNIX_EPOCH + Duration::from_secs(on)
    } else if let Some(within) = response.expires_in.as_ref().and_then(number) {
        now + Duration::from_secs(within)
    } else {
        return Err(Error::Answer("no expiry".into()));
    };
    if response.access_token.is_empty() {
        return Err(Error::Answer("an empty token".into()));
    }
    Ok((response.access_token, expires_at))
}

impl ManagedIdentity {
    /// A source of tokens for `resource` (e.g. [`STORAGE_RESOURCE`]) from `endpoint`; `client_id`
    /// picks a user-assigned identity.
    pub fn new(
        endpoint: Endpoint,
        resource: &str,
        client_id: Option<String>,
    ) -> Result<Self, Error> {
        // Identity endpoints are local to the host: never send their secrets through a proxy.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .map_err(|e| Error::Endpoint(e.to_string()))?;
        Ok(Self {
            http,
            endpoint,
            resource: resource.into(),
            client_id,
            cache: Mutex::new(None),
        })
    }

    fn cached(&self, now: SystemTime) -> Option<String> {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .as_ref()
            .filter(|c| c.expires_at > now + REFRESH_MARGIN)
            .map(|c| c.token.clone())
    }

    async fn fetch(&self) -> Result<(String, SystemTime), Error> {
        let mut query = vec![("resource", self.resource.clone())];
        let request = match &self.endpoint {
            Endpoint::Imds { url } => {
                query.push(("api-version", "2018-02-01".into()));
                if let Some(id) = &self.client_id {
                    query.push(("client_id", id.clone()));
                }
                self.http.get(url).header("Metadata", "true")
            }
            Endpoint::AppService { url, header } => {
                query.push(("api-version", "2019-08-01".into()));
                if let Some(id) = &self.client_id {
                    query.push(("client_id", id.clone()));
                }
                self.http.get(url).header("X-IDENTITY-HEADER", header)
            }
        };
        let response = request
            .query(&query)
            .send()
            .await
            .map_err(|e| Error::Endpoint(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::Endpoint(format!("answered {status}")));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::Endpoint(e.to_string()))?;
        parse_response(&body, SystemTime::now())
    }
}

#[async_trait]
impl TokenSource for ManagedIdentity {
    async fn token(&self) -> Result<String, Error> {
        if let Some(token) = self.cached(SystemTime::now()) {
            return Ok(token);
        }
        let (token, expires_at) = self.fetch().await?;
        tracing::debug!(resource = %self.resource, "fetched a managed identity token");
        *self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Cached {
            token: token.clone(),
            expires_at,
        });
        Ok(token)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn expires_on_as_string_or_number() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let (token, at) =
            parse_response(br#"{"access_token":"t","expires_on":"5000"}"#, now).unwrap();
        assert_eq!(token, "t");
        assert_eq!(at, UNIX_EPOCH + Duration::from_secs(5_000));
        let (_, at) = parse_response(br#"{"access_token":"t","expires_on":6000}"#, now).unwrap();
        assert_eq!(at, UNIX_EPOCH + Duration::from_secs(6_000));
    }

    #[test]
    fn expires_in_counts_from_now() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let (_, at) = parse_response(br#"{"access_token":"t","expires_in":"3599"}"#, now).unwrap();
        assert_eq!(at, UNIX_EPOCH + Duration::from_secs(4_599));
    }

    #[test]
    fn answers_without_token_or_expiry_are_errors() {
        let now = SystemTime::now();
        assert!(parse_response(br#"{"access_token":"t"}"#, now).is_err());
        assert!(parse_response(br#"{"access_token":"","expires_in":5}"#, now).is_err());
        assert!(parse_response(b"not json", now).is_err());
    }

    #[test]
    fn debug_output_hides_the_identity_header() {
        let endpoint = Endpoint::AppService {
            url: "http://x".into(),
            header: "s3cret".into(),
        };
        assert!(!format!("{endpoint:?}").contains("s3cret"));
    }
}
