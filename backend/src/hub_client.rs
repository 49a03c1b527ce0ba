//! The data-plane REST client for Azure Web PubSub (or chatr-hub, which speaks the same API): the
//! only outbound HTTP from the backend to the hub.
//!
//! It sends messages to everyone, a group, a user or a connection; manages group membership and
//! per-group permissions; and mints client access URLs. Two credentials, as the service takes them:
//! - **Access key** (connection string with `AccessKey=`; chatr-hub, or Azure with local auth on):
//!   each request carries a short-lived HS256 JWT whose audience is the request URL, and client URLs
//!   are signed here.
//! - **Entra ID** (Azure with managed identity, no key anywhere): each request carries a token for
//!   `https://webpubsub.azure.com` from a [`TokenSource`], and client URLs come from the service's
//!   `:generateToken` operation (which takes no custom claims: the `connect` handler then reads the
//!   user's name from the store, where `/api/token` put it).
//!
//! It never retries on its own (callers decide), never logs message bodies or tokens, and accepts
//! any 2xx as success because the service's API versions disagree on exact codes.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header};
use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize};

use crate::azure_identity::{self, TokenSource};

/// The API version we speak.
pub const API_VERSION: &str = "2024-01-01";

/// How long a REST token lives (it only needs to outlive one request).
const REST_TOKEN_TTL: Duration = Duration::from_secs(300);
/// How long a call may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a hub call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connection string is malformed.
    #[error("invalid Web PubSub connection string: {0}")]
    ConnectionString(&'static str),
    /// The request could not be sent or timed out.
    #[error("cannot reach the hub: {0}")]
    Transport(#[from] reqwest::Error),
    /// The hub answered with an error status.
    #[error("the hub answered {status} to {operation}")]
    Status {
        /// What we asked.
        operation: &'static str,
        /// What it answered.
        status: StatusCode,
    },
    /// Signing a token failed (cannot happen with an HMAC key, kept for completeness).
    #[error("cannot sign a token: {0}")]
    Token(#[from] jsonwebtoken::errors::Error),
    /// No Entra token could be had for the service.
    #[error(transparent)]
    Identity(#[from] azure_identity::Error),
    /// The service answered something we cannot use.
    #[error("unexpected answer from the hub to {0}")]
    Answer(&'static str),
}

impl Error {
    /// Whether the hub answered 404: the connection, user or group named is not there (a
    /// connection that closed, perhaps before its `disconnected` event reached us).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Status { status, .. } if *status == StatusCode::NOT_FOUND)
    }
}

/// A parsed `Endpoint=…;AccessKey=…;Version=1.0;[Port=…]` connection string.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionString {
    /// `http(s)://host[:port]`, no trailing slash.
    pub endpoint: Url,
    /// The access key; `None` for managed-identity deployments.
    pub access_key: Option<String>,
}

impl std::fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionString")
            .field("endpoint", &self.endpoint.as_str())
            .field(
                "access_key",
                &self.access_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl ConnectionString {
    /// Parses a connection string: `;`-separated `key=value` pairs, keys case-insensitive.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let mut endpoint = None;
        let mut access_key = None;
        let mut port = None;
        for segment in s.split(';').map(str::trim).filter(|seg| !seg.is_empty()) {
            let (key, value) = segment
                .split_once('=')
                .ok_or(Error::ConnectionString("a segment has no '='"))?;
            match key.trim().to_ascii_lowercase().as_str() {
                "endpoint" => endpoint = Some(value.trim().trim_end_matches('/').to_owned()),
                "accesskey" => access_key = Some(value.trim().to_owned()),
                "port" => {
                    port = Some(
                        value
                            .trim()
                            .parse::<u16>()
                            .map_err(|_| Error::ConnectionString("Port is not a port number"))?,
                    );
                }
                // Version and unknown keys are ignored, like the official SDKs do.
                _ => {}
            }
        }
        let endpoint = endpoint.ok_or(Error::ConnectionString("Endpoint is missing"))?;
        let mut endpoint =
            Url::parse(&endpoint).map_err(|_| Error::ConnectionString("Endpoint is not a URL"))?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.host().is_none() {
            return Err(Error::ConnectionString("Endpoint must be http(s)://host"));
        }
        if let Some(port) = port {
            endpoint
                .set_port(Some(port))
                .map_err(|()| Error::ConnectionString("Port cannot apply to Endpoint"))?;
        }
        endpoint.set_path("");
        Ok(Self {
            endpoint,
            access_key: access_key.filter(|k| !k.is_empty()),
        })
    }
}

/// Which connection a message must not reach (e.g. its sender), or none.
pub type Excluded<'a> = &'a [&'a str];

/// A per-group permission a connection can be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// May send to the group.
    SendToGroup,
    /// May join and leave the group by itself.
    JoinLeaveGroup,
}

impl Permission {
    fn as_str(self) -> &'static str {
        match self {
            Self::SendToGroup => "sendToGroup",
            Self::JoinLeaveGroup => "joinLeaveGroup",
        }
    }
}

/// How requests to the service are authorised.
#[derive(Clone)]
enum Credential {
    /// HS256 JWTs signed with the resource's access key.
    AccessKey(String),
    /// Entra ID bearer tokens (managed identity).
    Entra(Arc<dyn TokenSource>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AccessKey(_) => f.write_str("AccessKey(<redacted>)"),
            Self::Entra(source) => f.debug_tuple("Entra").field(source).finish(),
        }
    }
}

/// A client of one hub of one Web PubSub resource.
#[derive(Debug, Clone)]
pub struct HubClient {
    http: reqwest::Client,
    endpoint: Url,
    hub: String,
    credential: Credential,
}

/// The answer of `:generateToken`.
#[derive(Deserialize)]
struct GeneratedToken {
    token: String,
}

#[derive(Serialize)]
struct RestClaims<'a> {
    aud: &'a str,
    exp: u64,
    iat: u64,
}

#[derive(Serialize)]
struct ClientClaims<'a> {
    aud: String,
    sub: &'a str,
    exp: u64,
    iat: u64,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    role: &'a [String],
    /// Profile claims the service forwards to our `connect` handler (signed, so trustworthy).
    #[serde(flatten)]
    profile: std::collections::BTreeMap<&'a str, &'a str>,
}

impl HubClient {
    /// A client for `hub` on the resource of `connection`, authorised by its access key.
    pub fn new(connection: ConnectionString, hub: impl Into<String>) -> Result<Self, Error> {
        let key = connection.access_key.ok_or(Error::ConnectionString(
            "AccessKey is missing (for managed identity give the endpoint alone)",
        ))?;
        Self::build(connection.endpoint, hub.into(), Credential::AccessKey(key))
    }

    /// A client for `hub` at `endpoint` (`https://<name>.webpubsub.azure.com`) authorised by Entra
    /// tokens from `tokens` (managed identity in Azure).
    pub fn with_entra(
        endpoint: Url,
        hub: impl Into<String>,
        tokens: Arc<dyn TokenSource>,
    ) -> Result<Self, Error> {
        Self::build(endpoint, hub.into(), Credential::Entra(tokens))
    }

    fn build(mut endpoint: Url, hub: String, credential: Credential) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        endpoint.set_path("");
        endpoint.set_query(None);
        Ok(Self {
            http,
            endpoint,
            hub,
            credential,
        })
    }

    /// The hub's name.
    pub fn hub(&self) -> &str {
        &self.hub
    }

    /// Sends `message` (JSON) to every connection of the hub, except `excluded`.
    pub async fn send_to_all<T: Serialize + ?Sized>(
        &self,
        message: &T,
        excluded: Excluded<'_>,
    ) -> Result<(), Error> {
        let url = self.url(&[":send"], &excluded_query(excluded));
        self.send_json("send to all", url, message).await
    }

    /// Sends `message` to every connection in `group`, except `excluded`.
    pub async fn send_to_group<T: Serialize + ?Sized>(
        &self,
        group: &str,
        message: &T,
        excluded: Excluded<'_>,
    ) -> Result<(), Error> {
        let url = self.url(&["groups", group, ":send"], &excluded_query(excluded));
        self.send_json("send to group", url, message).await
    }

    /// Sends `message` to every connection of `user`.
    pub async fn send_to_user<T: Serialize + ?Sized>(
        &self,
        user: &str,
        message: &T,
    ) -> Result<(), Error> {
        let url = self.url(&["users", user, ":send"], &[]);
        self.send_json("send to user", url, message).await
    }

    /// Sends `message` to one connection.
    pub async fn send_to_connection<T: Serialize + ?Sized>(
        &self,
        connection: &str,
        message: &T,
    ) -> Result<(), Error> {
        let url = self.url(&["connections", connection, ":send"], &[]);
        self.send_json("send to connection", url, message).await
    }

    /// Whether the connection is open (a reliable one waiting to be resumed counts as open).
    pub async fn connection_exists(&self, connection: &str) -> Result<bool, Error> {
        let url = self.url(&["connections", connection], &[]);
        match self.call("check connection", Method::HEAD, url).await {
            Ok(()) => Ok(true),
            Err(err) if err.is_not_found() => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Adds one connection to a group.
    pub async fn add_connection_to_group(
        &self,
        group: &str,
        connection: &str,
    ) -> Result<(), Error> {
        let url = self.url(&["groups", group, "connections", connection], &[]);
        self.call("add connection to group", Method::PUT, url).await
    }

    /// Adds every current connection of `user` to a group. (Future connections are re-admitted by
    /// the backend on `connected`; the service does not promise to remember this.) A user with no
    /// connection is not an error.
    pub async fn add_user_to_group(&self, group: &str, user: &str) -> Result<(), Error> {
        let url = self.url(&["users", user, "groups", group], &[]);
        match self.call("add user to group", Method::PUT, url).await {
            Err(Error::Status { status, .. }) if status == StatusCode::NOT_FOUND => Ok(()),
            other => other,
        }
    }

    /// Removes every connection of `user` from a group.
    pub async fn remove_user_from_group(&self, group: &str, user: &str) -> Result<(), Error> {
        let url = self.url(&["users", user, "groups", group], &[]);
        self.call("remove user from group", Method::DELETE, url)
            .await
    }

    /// Closes every connection of `user`; the clients get `reason`. A closed connection cannot be
    /// resumed: its clients connect afresh.
    pub async fn close_user_connections(&self, user: &str, reason: &str) -> Result<(), Error> {
        let url = self.url(&["users", user, ":closeConnections"], &[("reason", reason)]);
        self.call("close user connections", Method::POST, url).await
    }

    /// Removes every connection from a group (the group then ceases to exist).
    pub async fn empty_group(&self, group: &str) -> Result<(), Error> {
        let url = self.url(&[":removeFromGroups"], &[]);
        let filter = format!("'{}' in groups", group.replace('\'', "''"));
        let body = serde_json::json!({ "groups": [group], "filter": filter });
        self.send_json("remove everyone from group", url, &body)
            .await
    }

    /// Grants `permission` on `group` to one connection.
    pub async fn grant_permission(
        &self,
        permission: Permission,
        connection: &str,
        group: &str,
    ) -> Result<(), Error> {
        let url = self.permission_url(permission, connection, group);
        self.call("grant permission", Method::PUT, url).await
    }

    /// Revokes `permission` on `group` from one connection.
    pub async fn revoke_permission(
        &self,
        permission: Permission,
        connection: &str,
        group: &str,
    ) -> Result<(), Error> {
        let url = self.permission_url(permission, connection, group);
        self.call("revoke permission", Method::DELETE, url).await
    }

    fn permission_url(&self, permission: Permission, connection: &str, group: &str) -> Url {
        self.url(
            &[
                "permissions",
                permission.as_str(),
                "connections",
                connection,
            ],
            &[("targetName", group)],
        )
    }

    /// A WebSocket URL with which `user_id` can connect to the hub for `ttl`, holding `roles` (none:
    /// Chatr clients only receive; the backend puts them in their chats' groups and they never
    /// publish to one). With an access key the token is
    /// signed here and also carries `profile` claims (name, provider) that come back in the
    /// `connect` event; with Entra the service mints it (`:generateToken`) and `profile` is dropped.
    pub async fn client_url(
        &self,
        user_id: &str,
        roles: &[String],
        profile: &[(&str, &str)],
        ttl: Duration,
    ) -> Result<Url, Error> {
        let mut base = self.endpoint.clone();
        if let Ok(mut path) = base.path_segments_mut() {
            path.clear().extend(["client", "hubs", &self.hub]);
        }
        let token = match &self.credential {
            Credential::AccessKey(key) => {
                self.sign_client_token(key, &base, user_id, roles, profile, ttl)?
            }
            Credential::Entra(_) => self.generate_token(user_id, roles, ttl).await?,
        };
        let scheme = if base.scheme() == "https" {
            "wss"
        } else {
            "ws"
        };
        // Both schemes are special in the URL standard, so switching between them always works.
        let _ = base.set_scheme(scheme);
        base.query_pairs_mut().append_pair("access_token", &token);
        Ok(base)
    }

    /// A client token signed with the access key; its audience is the client URL.
    fn sign_client_token(
        &self,
        key: &str,
        base: &Url,
        user_id: &str,
        roles: &[String],
        profile: &[(&str, &str)],
        ttl: Duration,
    ) -> Result<String, Error> {
        let now = unix_now();
        let claims = ClientClaims {
            aud: base.to_string(),
            sub: user_id,
            iat: now,
            exp: now + ttl.as_secs(),
            role: roles,
            profile: profile.iter().copied().collect(),
        };
        Ok(jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(key.as_bytes()),
        )?)
    }

    /// A client token minted by the service (`POST …/:generateToken`).
    async fn generate_token(
        &self,
        user_id: &str,
        roles: &[String],
        ttl: Duration,
    ) -> Result<String, Error> {
        let minutes = ttl.as_secs().div_ceil(60).max(1).to_string();
        let mut query = vec![("userId", user_id), ("minutesToExpire", minutes.as_str())];
        query.extend(roles.iter().map(|role| ("role", role.as_str())));
        let url = self.url(&[":generateToken"], &query);
        let authorization = self.authorization(&url).await?;
        let response = self
            .http
            .post(url)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .send()
            .await?;
        check("generate a client token", response.status())?;
        let generated: GeneratedToken = response
            .json()
            .await
            .map_err(|_| Error::Answer("generate a client token"))?;
        Ok(generated.token)
    }

    /// `{endpoint}/api/hubs/{hub}/{segments…}?api-version=…&{query…}`, segments percent-encoded.
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.endpoint.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.clear()
                .extend(["api", "hubs", &self.hub])
                .extend(segments);
        }
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("api-version", API_VERSION);
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
        }
        url
    }

    /// The `Authorization` header value for a request to `url`.
    async fn authorization(&self, url: &Url) -> Result<String, Error> {
        let token = match &self.credential {
            Credential::AccessKey(key) => {
                let now = unix_now();
                let claims = RestClaims {
                    aud: url.as_str(),
                    iat: now,
                    exp: now + REST_TOKEN_TTL.as_secs(),
                };
                jsonwebtoken::encode(
                    &Header::default(),
                    &claims,
                    &EncodingKey::from_secret(key.as_bytes()),
                )?
            }
            Credential::Entra(source) => source.token().await?,
        };
        Ok(format!("Bearer {token}"))
    }

    async fn send_json<T: Serialize + ?Sized>(
        &self,
        operation: &'static str,
        url: Url,
        body: &T,
    ) -> Result<(), Error> {
        let authorization = self.authorization(&url).await?;
        let response = self
            .http
            .post(url)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .json(body)
            .send()
            .await?;
        check(operation, response.status())
    }

    async fn call(&self, operation: &'static str, method: Method, url: Url) -> Result<(), Error> {
        let authorization = self.authorization(&url).await?;
        let response = self
            .http
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .send()
            .await?;
        check(operation, response.status())
    }
}

fn excluded_query<'a>(excluded: Excluded<'a>) -> Vec<(&'static str, &'a str)> {
    excluded.iter().map(|id| ("excluded", *id)).collect()
}

fn check(operation: &'static str, status: StatusCode) -> Result<(), Error> {
    if status.is_success() {
        Ok(())
    } else {
        Err(Error::Status { operation, status })
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";

    fn client() -> HubClient {
        let cs = ConnectionString::parse(&format!(
            "Endpoint=http://127.0.0.1:8080/;AccessKey={KEY};Version=1.0;"
        ))
        .unwrap();
        HubClient::new(cs, "chat").unwrap()
    }

    #[test]
    fn connection_strings_parse_like_the_sdks() {
        let cs = ConnectionString::parse(
            " endpoint=https://demo.webpubsub.azure.com/ ; ACCESSKEY=k=ey; Version=1.0; Port=8443",
        )
        .unwrap();
        assert_eq!(
            cs.endpoint.as_str(),
            "https://demo.webpubsub.azure.com:8443/"
        );
        // Values keep everything after the first '='.
        assert_eq!(cs.access_key.as_deref(), Some("k=ey"));
        let no_key = ConnectionString::parse("Endpoint=https://x.webpubsub.azure.com").unwrap();
        assert_eq!(no_key.access_key, None);
    }

    #[test]
    fn bad_connection_strings_are_rejected() {
        for bad in [
            "",
            "AccessKey=k",
            "Endpoint=ftp://x;AccessKey=k",
            "Endpoint=not a url",
            "Endpoint=http://x;Port=99999",
            "Endpoint",
        ] {
            assert!(ConnectionString::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debug_output_hides_the_key() {
        let cs = ConnectionString::parse(&format!("Endpoint=http://h;AccessKey={KEY}")).unwrap();
        assert!(!format!("{cs:?}").contains(KEY));
    }

    #[test]
    fn urls_encode_names_and_carry_the_api_version() {
        let url = client().url(&["groups", "a b/c?", ":send"], &[("excluded", "c 1")]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/api/hubs/chat/groups/a%20b%2Fc%3F/:send?api-version=2024-01-01&excluded=c+1"
        );
    }

    #[tokio::test]
    async fn rest_tokens_are_audience_bound_to_the_url() {
        let client = client();
        let url = client.url(&[":send"], &[]);
        let authorization = client.authorization(&url).await.unwrap();
        let token = authorization.strip_prefix("Bearer ").unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_audience(&[url.as_str()]);
        let decoded = jsonwebtoken::decode::<serde_json::Value>(
            token,
            &jsonwebtoken::DecodingKey::from_secret(KEY.as_bytes()),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.claims["aud"], url.as_str());
    }

    #[tokio::test]
    async fn client_urls_carry_the_user_and_no_roles() {
        let url = client()
            .client_url(
                "github:1",
                &[],
                &[("name", "Ada")],
                Duration::from_secs(3600),
            )
            .await
            .unwrap();
        assert_eq!(url.scheme(), "ws");
        assert_eq!(url.path(), "/client/hubs/chat");
        let token = url
            .query_pairs()
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_audience(&["http://127.0.0.1:8080/client/hubs/chat"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(KEY.as_bytes()),
            &validation,
        )
        .unwrap()
        .claims;
        assert_eq!(claims["sub"], "github:1");
        assert_eq!(claims["name"], "Ada");
        assert!(claims.get("role").is_none());
    }
}
