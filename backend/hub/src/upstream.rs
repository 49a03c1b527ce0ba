//! Calling the upstream event handler: CloudEvents over HTTP in binary content mode, as Azure Web
//! PubSub does. Blocking events (`connect`, user events) are awaited by the connection that raised
//! them only, so a slow or dead upstream never holds up anyone else; `connected` / `disconnected`
//! are sent in the background with retries. Each handler URL passes the abuse-protection check
//! (`OPTIONS` with `WebHook-Request-Origin`) before its first event.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use crate::config::{HubConfig, UpstreamHandler};
use crate::engine::lock;
use crate::frame::Payload;

/// How long the abuse-protection check may take.
const VALIDATE_TIMEOUT: Duration = Duration::from_secs(10);
/// Delays before retrying a non-blocking event (after 408, 5xx or a transport error).
const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(3),
    Duration::from_secs(5),
];

/// Why an upstream call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The handler did not pass abuse protection.
    #[error("the event handler at {0} failed abuse-protection validation")]
    NotValidated(String),
    /// The handler could not be reached or timed out.
    #[error("the event handler could not be reached: {0}")]
    Transport(#[from] reqwest::Error),
    /// The handler answered with an error status.
    #[error("the event handler answered {0}")]
    Status(StatusCode),
    /// The handler's answer is malformed.
    #[error("the event handler's answer is malformed: {0}")]
    BadAnswer(String),
}

/// Who raised an event.
#[derive(Debug, Clone)]
pub struct Origin<'a> {
    /// The hub.
    pub hub: &'a str,
    /// The connection.
    pub connection_id: &'a str,
    /// The user, if any.
    pub user_id: Option<&'a str>,
    /// The selected subprotocol, if any.
    pub subprotocol: Option<&'a str>,
    /// The connection state set earlier.
    pub state: Option<String>,
}

/// What the upstream said to `connect`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ConnectAnswer {
    /// Overrides the token's user id.
    pub user_id: Option<String>,
    /// Groups to join.
    pub groups: Option<Vec<String>>,
    /// Roles, replacing the token's.
    pub roles: Option<Vec<String>>,
    /// The subprotocol to use.
    pub subprotocol: Option<String>,
    /// `ce-connectionState` from the answer's headers.
    #[serde(skip)]
    pub state: Option<String>,
}

/// What the upstream answered to a user event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventAnswer {
    /// The body to send back to the client, if any.
    pub reply: Option<Payload>,
    /// A new connection state, if set.
    pub state: Option<String>,
}

/// The CloudEvents client.
#[derive(Debug)]
pub struct Upstream {
    http: reqwest::Client,
    keys: Vec<String>,
    origin: String,
    validated: Mutex<HashSet<String>>,
    next_event_id: AtomicU64,
}

impl Upstream {
    /// A client signing with `config`'s keys; `origin` is this server's host, sent as
    /// `WebHook-Request-Origin`.
    pub fn new(config: &HubConfig, origin: impl Into<String>, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            http,
            keys: config.access_keys.clone(),
            origin: origin.into(),
            validated: Mutex::new(HashSet::new()),
            next_event_id: AtomicU64::new(1),
        }
    }

    /// Sends `connect` and reads the answer; a non-2xx answer becomes `Err(Status)`.
    pub async fn connect(
        &self,
        handler: &UpstreamHandler,
        origin: &Origin<'_>,
        body: &Value,
    ) -> Result<ConnectAnswer, Error> {
        let response = self
            .post(
                handler,
                origin,
                "connect",
                "azure.webpubsub.sys.connect",
                "application/json",
                body.to_string().into_bytes(),
            )
            .await?;
        let state = header_string(&response, "ce-connectionstate");
        let status = response.status();
        let bytes = response.bytes().await?;
        if !status.is_success() {
            return Err(Error::Status(status));
        }
        let mut answer = if bytes.iter().all(u8::is_ascii_whitespace) {
            ConnectAnswer::default()
        } else {
            serde_json::from_slice(&bytes).map_err(|e| Error::BadAnswer(e.to_string()))?
        };
        answer.state = state;
        Ok(answer)
    }

    /// Sends a user event and returns what goes back to the client.
    pub async fn user_event(
        &self,
        handler: &UpstreamHandler,
        origin: &Origin<'_>,
        event: &str,
        payload: &Payload,
    ) -> Result<EventAnswer, Error> {
        let response = self
            .post(
                handler,
                origin,
                event,
                &format!("azure.webpubsub.user.{event}"),
                payload.content_type(),
                payload.to_bytes(),
            )
            .await?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::Status(status));
        }
        let state = header_string(&response, "ce-connectionstate");
        let content_type = header_string(&response, "content-type");
        let bytes = response.bytes().await?;
        let reply = if bytes.is_empty() {
            None
        } else {
            Some(Payload::from_http(content_type.as_deref(), &bytes).map_err(Error::BadAnswer)?)
        };
        Ok(EventAnswer { reply, state })
    }

    /// Sends `connected` or `disconnected` (with `body`), retrying on transient failures.
    pub async fn notify(
        &self,
        handler: &UpstreamHandler,
        origin: &Origin<'_>,
        event: &str,
        body: &Value,
    ) {
        let ce_type = format!("azure.webpubsub.sys.{event}");
        for delay in std::iter::once(Duration::ZERO).chain(RETRY_DELAYS) {
            tokio::time::sleep(delay).await;
            let result = self
                .post(
                    handler,
                    origin,
                    event,
                    &ce_type,
                    "application/json",
                    body.to_string().into_bytes(),
                )
                .await;
            match result {
                Ok(response) if response.status().is_success() => return,
                Ok(response)
                    if response.status() != StatusCode::REQUEST_TIMEOUT
                        && !response.status().is_server_error() =>
                {
                    tracing::warn!(event, status = %response.status(), "upstream refused a system event");
                    return;
                }
                Ok(response) => tracing::debug!(event, status = %response.status(), "retrying"),
                Err(err) => tracing::debug!(event, cause = %err, "retrying"),
            }
        }
        tracing::warn!(event, "upstream did not take a system event after retries");
    }

    async fn post(
        &self,
        handler: &UpstreamHandler,
        origin: &Origin<'_>,
        event: &str,
        ce_type: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, Error> {
        let url = handler.url(origin.hub, event);
        self.validate(handler, origin.hub).await?;
        let id = self.next_event_id.fetch_add(1, Ordering::Relaxed);
        let time = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let mut request = self
            .http
            .post(&url)
            .header("content-type", content_type)
            .header("webhook-request-origin", &self.origin)
            .header("ce-specversion", "1.0")
            .header("ce-awpsversion", "1.0")
            .header("ce-type", ce_type)
            .header(
                "ce-source",
                format!("/hubs/{}/client/{}", origin.hub, origin.connection_id),
            )
            .header("ce-id", id.to_string())
            .header("ce-time", time)
            .header("ce-signature", self.signature(origin.connection_id))
            .header("ce-connectionid", origin.connection_id)
            .header("ce-hub", origin.hub)
            .header("ce-eventname", event);
        if let Some(user) = origin.user_id {
            request = request.header("ce-userid", user);
        }
        if let Some(subprotocol) = origin.subprotocol {
            request = request.header("ce-subprotocol", subprotocol);
        }
        if let Some(state) = &origin.state {
            request = request.header("ce-connectionstate", state);
        }
        Ok(request.body(body).send().await?)
    }

    /// `sha256=<hex>` per access key, comma-separated.
    fn signature(&self, connection_id: &str) -> String {
        self.keys
            .iter()
            .filter_map(|key| {
                let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).ok()?;
                mac.update(connection_id.as_bytes());
                Some(format!(
                    "sha256={}",
                    hex::encode(mac.finalize().into_bytes())
                ))
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Abuse protection: asks the handler, once per URL template and hub, whether it accepts
    /// events from us.
    async fn validate(&self, handler: &UpstreamHandler, hub: &str) -> Result<(), Error> {
        let url = handler.url(hub, "validate");
        if lock(&self.validated).contains(&url) {
            return Ok(());
        }
        let mut response = self
            .http
            .request(reqwest::Method::OPTIONS, &url)
            .header("webhook-request-origin", &self.origin)
            .header("ce-awpsversion", "1.0")
            .timeout(VALIDATE_TIMEOUT)
            .send()
            .await;
        // Microsoft's emulator falls back to GET when OPTIONS is not routed.
        if matches!(&response, Ok(r) if r.status() == StatusCode::NOT_FOUND || r.status() == StatusCode::METHOD_NOT_ALLOWED)
        {
            response = self
                .http
                .get(&url)
                .header("webhook-request-origin", &self.origin)
                .header("ce-awpsversion", "1.0")
                .timeout(VALIDATE_TIMEOUT)
                .send()
                .await;
        }
        // The answer may list several origins, in one header or in several (the official
        // Express handler sends one header per allowed endpoint).
        let allowed = response
            .ok()
            .filter(|r| r.status().is_success())
            .is_some_and(|r| {
                r.headers()
                    .get_all("webhook-allowed-origin")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .map(str::trim)
                    .any(|o| o == "*" || o.eq_ignore_ascii_case(&self.origin))
            });
        if allowed {
            lock(&self.validated).insert(url);
            Ok(())
        } else {
            Err(Error::NotValidated(url))
        }
    }
}

fn header_string(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
