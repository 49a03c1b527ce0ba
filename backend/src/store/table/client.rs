//! A small Azure Table Storage REST client on reqwest: entity CRUD with ETags, queries with
//! continuation, table creation. It owns request building and authentication; it never logs keys,
//! tokens, signatures or entity contents, and knows nothing about chats.

use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde_json::{Map, Value};

use super::sign;
use crate::azure_identity::{self, TokenSource};
use crate::store::Error;

/// The storage API version sent with every request (2019-02-02 is the first that accepts bearer
/// tokens for tables).
const API_VERSION: &str = "2019-02-02";
/// Entities come back as plain JSON objects (no `odata.*` annotations).
const ACCEPT: &str = "application/json;odata=nometadata";
/// The most entities one query page may return (the service's own cap).
const MAX_PAGE: usize = 1000;

/// An entity: its properties as JSON (`PartitionKey`, `RowKey` and strings/numbers/booleans).
pub type Entity = Map<String, Value>;

/// How requests prove who we are.
#[derive(Clone)]
pub enum Auth {
    /// SharedKeyLite with the account key (Azurite, or accounts that allow key access).
    SharedKey {
        /// The decoded account key.
        key: Vec<u8>,
    },
    /// `Authorization: Bearer …` from a token source (managed identity in Azure).
    Bearer(Arc<dyn TokenSource>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SharedKey { .. } => f.write_str("SharedKey(<redacted>)"),
            Self::Bearer(source) => f.debug_tuple("Bearer").field(source).finish(),
        }
    }
}

impl Auth {
    /// Shared-key auth from the base64 account key.
    pub fn shared_key(base64_key: &str) -> Result<Self, Error> {
        let key = STANDARD
            .decode(base64_key.trim())
            .map_err(|_| Error::Invalid("the storage account key is not base64".into()))?;
        Ok(Self::SharedKey { key })
    }
}

/// The service address and credentials.
#[derive(Debug, Clone)]
pub struct TableClient {
    http: reqwest::Client,
    /// Base URL with no trailing slash: `https://<account>.table.core.windows.net` or, path-style,
    /// `http://127.0.0.1:10002/devstoreaccount1`.
    endpoint: Url,
    account: String,
    auth: Auth,
}

/// An entity read with its ETag.
#[derive(Debug, Clone)]
pub struct Tagged {
    /// The properties.
    pub entity: Entity,
    /// The ETag to send back in `If-Match`.
    pub etag: String,
}

/// What a conditional write found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It was applied.
    Done,
    /// The entity changed since it was read (412), or already exists (409 on insert).
    Lost,
    /// The entity does not exist (404).
    Missing,
}

fn backend(err: impl std::fmt::Display) -> Error {
    Error::Backend(err.to_string())
}

/// Why one attempt at a request failed.
#[derive(Debug)]
enum SendError {
    /// The HTTP exchange failed (maybe before reaching the service).
    Http(reqwest::Error),
    /// Building the request failed (a bad header value, no token).
    Other(Error),
}

impl SendError {
    fn is_connect(&self) -> bool {
        matches!(self, Self::Http(e) if e.is_connect())
    }

    fn is_timeout(&self) -> bool {
        matches!(self, Self::Http(e) if e.is_timeout())
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(e) => write!(f, "{e}"),
            Self::Other(e) => write!(f, "{e}"),
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (spaces become `%20`, never `+`).
fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A key as it appears inside `(PartitionKey='…',RowKey='…')`: quotes doubled, then encoded.
fn key_literal(key: &str) -> String {
    encode_component(&key.replace('\'', "''"))
}

/// An OData string literal for `$filter`: `'…'` with quotes doubled.
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

impl TableClient {
    /// A client for the table service at `endpoint` (see the field doc) in `account`.
    pub fn new(endpoint: &str, account: &str, auth: Auth) -> Result<Self, Error> {
        let endpoint = Url::parse(endpoint.trim_end_matches('/'))
            .map_err(|e| Error::Invalid(format!("table endpoint: {e}")))?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(Error::Invalid("table endpoint must be http(s)".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(backend)?;
        Ok(Self {
            http,
            endpoint,
            account: account.to_owned(),
            auth,
        })
    }

    /// A client from a storage connection string: `AccountName=…;AccountKey=…` with optional
    /// `TableEndpoint`, `DefaultEndpointsProtocol` (default `https`) and `EndpointSuffix` (default
    /// `core.windows.net`), or `UseDevelopmentStorage=true` for Azurite on its default port.
    /// Keys are matched case-insensitively; the error never repeats the string (it holds a key).
    pub fn from_connection_string(connection: &str) -> Result<Self, Error> {
        let mut fields = std::collections::HashMap::new();
        for part in connection.split(';').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| {
                Error::Invalid("storage connection string: expected key=value parts".into())
            })?;
            fields.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
        let field = |name: &str| fields.get(name).map(String::as_str);
        if field("usedevelopmentstorage").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Self::new(
                &format!("http://127.0.0.1:10002/{}", super::azurite::ACCOUNT),
                super::azurite::ACCOUNT,
                Auth::shared_key(super::azurite::KEY)?,
            );
        }
        let account = field("accountname")
            .ok_or_else(|| Error::Invalid("storage connection string has no AccountName".into()))?;
        let key = field("accountkey").ok_or_else(|| {
            Error::Invalid(
                "storage connection string has no AccountKey (use managed identity instead)".into(),
            )
        })?;
        let endpoint = match field("tableendpoint") {
            Some(endpoint) => endpoint.to_owned(),
            None => format!(
                "{}://{account}.table.{}",
                field("defaultendpointsprotocol").unwrap_or("https"),
                field("endpointsuffix").unwrap_or("core.windows.net")
            ),
        };
        Self::new(&endpoint, account, Auth::shared_key(key)?)
    }

    /// A client for `account` authenticated by this host's managed identity (see
    /// [`azure_identity::Endpoint::from_env`]); `endpoint` defaults to the public cloud's
    /// `https://<account>.table.core.windows.net`.
    pub fn with_managed_identity(
        account: &str,
        endpoint: Option<&str>,
        client_id: Option<String>,
    ) -> Result<Self, Error> {
        let source = azure_identity::ManagedIdentity::new(
            azure_identity::Endpoint::from_env(),
            azure_identity::STORAGE_RESOURCE,
            client_id,
        )
        .map_err(|e| Error::Backend(e.to_string()))?;
        let endpoint = endpoint
            .map(str::to_owned)
            .unwrap_or_else(|| format!("https://{account}.table.core.windows.net"));
        Self::new(&endpoint, account, Auth::Bearer(Arc::new(source)))
    }

    /// The URL of `resource` (already encoded) under the endpoint, with an encoded `query`.
    fn url(&self, resource: &str, query: &[(&str, String)]) -> Url {
        let mut url = self.endpoint.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/{resource}"));
        if query.is_empty() {
            url.set_query(None);
        } else {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
                .collect();
            url.set_query(Some(&q.join("&")));
        }
        url
    }

    /// Sends a request, retrying (freshly signed) what is safe to retry: any request that never
    /// reached the service, and reads that met a busy or failing service (500, 503) or a timeout.
    /// Writes that may have been applied are never repeated: an insert's 409 must mean "someone
    /// else", not "our own first attempt".
    async fn send(
        &self,
        method: Method,
        url: Url,
        if_match: Option<&str>,
        body: Option<&Entity>,
    ) -> Result<reqwest::Response, Error> {
        const ATTEMPTS: u32 = 3;
        let read = method == Method::GET;
        let mut attempt = 1;
        loop {
            match self
                .send_once(method.clone(), url.clone(), if_match, body)
                .await
            {
                Ok(response)
                    if read
                        && matches!(
                            response.status(),
                            StatusCode::INTERNAL_SERVER_ERROR | StatusCode::SERVICE_UNAVAILABLE
                        )
                        && attempt < ATTEMPTS => {}
                Ok(response) => return Ok(response),
                Err(err)
                    if (err.is_connect() || (read && err.is_timeout())) && attempt < ATTEMPTS => {}
                Err(SendError::Other(err)) => return Err(err),
                Err(err) => return Err(backend(err)),
            }
            tracing::debug!(attempt, "table request failed; retrying");
            tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        method: Method,
        url: Url,
        if_match: Option<&str>,
        body: Option<&Entity>,
    ) -> Result<reqwest::Response, SendError> {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let mut headers = HeaderMap::new();
        let value = |s: &str| HeaderValue::from_str(s).map_err(|e| SendError::Other(backend(e)));
        headers.insert("x-ms-date", value(&date)?);
        headers.insert("x-ms-version", HeaderValue::from_static(API_VERSION));
        headers.insert("accept", HeaderValue::from_static(ACCEPT));
        headers.insert("dataserviceversion", HeaderValue::from_static("3.0;NetFx"));
        headers.insert(
            "maxdataserviceversion",
            HeaderValue::from_static("3.0;NetFx"),
        );
        if let Some(etag) = if_match {
            headers.insert("if-match", value(etag)?);
        }
        let authorization = match &self.auth {
            Auth::SharedKey { key } => {
                let comp = url
                    .query_pairs()
                    .find(|(k, _)| k == "comp")
                    .map(|(_, v)| v.into_owned());
                sign::authorization(&self.account, key, &date, url.path(), comp.as_deref())
            }
            Auth::Bearer(source) => {
                format!(
                    "Bearer {}",
                    source
                        .token()
                        .await
                        .map_err(|e| SendError::Other(Error::Backend(e.to_string())))?
                )
            }
        };
        let mut auth_value = value(&authorization)?;
        auth_value.set_sensitive(true);
        headers.insert("authorization", auth_value);
        let mut request = self.http.request(method, url).headers(headers);
        if let Some(entity) = body {
            request = request
                .header("content-type", "application/json")
                .header("prefer", "return-no-content")
                .body(serde_json::to_vec(entity).map_err(|e| SendError::Other(backend(e)))?);
        }
        request.send().await.map_err(SendError::Http)
    }

    /// Turns an unexpected response into an error that names the operation and the service's
    /// error code (never the request's headers).
    async fn unexpected(what: &str, response: reqwest::Response) -> Error {
        let status = response.status();
        let code = response
            .headers()
            .get("x-ms-error-code")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        Error::Backend(format!("table {what}: {status} {code}"))
    }

    /// Creates `table`; succeeds if it already exists.
    pub async fn create_table(&self, table: &str) -> Result<(), Error> {
        let mut body = Entity::new();
        body.insert("TableName".into(), Value::String(table.into()));
        let response = self
            .send(Method::POST, self.url("Tables", &[]), None, Some(&body))
            .await?;
        match response.status() {
            s if s.is_success() => Ok(()),
            StatusCode::CONFLICT => Ok(()),
            _ => Err(Self::unexpected("create table", response).await),
        }
    }

    fn entity_url(&self, table: &str, pk: &str, rk: &str) -> Url {
        self.url(
            &format!(
                "{table}(PartitionKey='{}',RowKey='{}')",
                key_literal(pk),
                key_literal(rk)
            ),
            &[],
        )
    }

    /// Reads one entity with its ETag; `None` when it does not exist.
    pub async fn get(&self, table: &str, pk: &str, rk: &str) -> Result<Option<Tagged>, Error> {
        let response = self
            .send(Method::GET, self.entity_url(table, pk, rk), None, None)
            .await?;
        match response.status() {
            StatusCode::OK => {
                let etag = response
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("*")
                    .to_owned();
                let entity: Entity = response.json().await.map_err(backend)?;
                Ok(Some(Tagged { entity, etag }))
            }
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(Self::unexpected("get", response).await),
        }
    }

    /// Inserts `entity` (which carries its keys); [`Outcome::Lost`] if one with its keys exists.
    pub async fn insert(&self, table: &str, entity: &Entity) -> Result<Outcome, Error> {
        let response = self
            .send(Method::POST, self.url(table, &[]), None, Some(entity))
            .await?;
        match response.status() {
            s if s.is_success() => Ok(Outcome::Done),
            StatusCode::CONFLICT => Ok(Outcome::Lost),
            StatusCode::NOT_FOUND => Ok(Outcome::Missing),
            _ => Err(Self::unexpected("insert", response).await),
        }
    }

    /// Replaces the entity at `pk`/`rk`: only if its ETag is still `etag` when given (412 →
    /// [`Outcome::Lost`], 404 → [`Outcome::Missing`]), otherwise inserting or replacing it.
    pub async fn replace(
        &self,
        table: &str,
        pk: &str,
        rk: &str,
        entity: &Entity,
        etag: Option<&str>,
    ) -> Result<Outcome, Error> {
        let response = self
            .send(
                Method::PUT,
                self.entity_url(table, pk, rk),
                etag,
                Some(entity),
            )
            .await?;
        match response.status() {
            s if s.is_success() => Ok(Outcome::Done),
            StatusCode::PRECONDITION_FAILED => Ok(Outcome::Lost),
            StatusCode::NOT_FOUND => Ok(Outcome::Missing),
            _ => Err(Self::unexpected("replace", response).await),
        }
    }

    /// Deletes the entity if its ETag is still `etag` (`*` = whatever it is now).
    pub async fn delete(
        &self,
        table: &str,
        pk: &str,
        rk: &str,
        etag: &str,
    ) -> Result<Outcome, Error> {
        let response = self
            .send(
                Method::DELETE,
                self.entity_url(table, pk, rk),
                Some(etag),
                None,
            )
            .await?;
        match response.status() {
            s if s.is_success() => Ok(Outcome::Done),
            StatusCode::PRECONDITION_FAILED => Ok(Outcome::Lost),
            StatusCode::NOT_FOUND => Ok(Outcome::Missing),
            _ => Err(Self::unexpected("delete", response).await),
        }
    }

    /// The entities matching `filter` in key order, following continuations, stopping after
    /// `limit` entities when given.
    pub async fn query(
        &self,
        table: &str,
        filter: &str,
        limit: Option<usize>,
    ) -> Result<Vec<Entity>, Error> {
        let mut found = Vec::new();
        let mut next: Option<(String, Option<String>)> = None;
        loop {
            let want = limit.map_or(MAX_PAGE, |l| (l - found.len()).min(MAX_PAGE));
            let mut query = vec![("$filter", filter.to_owned()), ("$top", want.to_string())];
            if let Some((pk, rk)) = &next {
                query.push(("NextPartitionKey", pk.clone()));
                if let Some(rk) = rk {
                    query.push(("NextRowKey", rk.clone()));
                }
            }
            let response = self
                .send(
                    Method::GET,
                    self.url(&format!("{table}()"), &query),
                    None,
                    None,
                )
                .await?;
            if !response.status().is_success() {
                return Err(Self::unexpected("query", response).await);
            }
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            next = header("x-ms-continuation-NextPartitionKey")
                .map(|pk| (pk, header("x-ms-continuation-NextRowKey")));
            #[derive(serde::Deserialize)]
            struct Page {
                value: Vec<Entity>,
            }
            let page: Page = response.json().await.map_err(backend)?;
            found.extend(page.value);
            if let Some(limit) = limit
                && found.len() >= limit
            {
                found.truncate(limit);
                return Ok(found);
            }
            if next.is_none() {
                return Ok(found);
            }
        }
    }
}

/// A string property of an entity (empty if missing or not a string).
pub fn text(entity: &Entity, name: &str) -> String {
    entity
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_literals_double_quotes_and_encode() {
        assert_eq!(key_literal("o'brien"), "o%27%27brien");
        assert_eq!(key_literal("github:1"), "github%3A1");
        assert_eq!(key_literal("a b%"), "a%20b%25");
    }

    #[test]
    fn connection_strings_name_the_endpoint() {
        let cloud = TableClient::from_connection_string(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=AAAA;EndpointSuffix=core.chinacloudapi.cn",
        )
        .unwrap();
        assert_eq!(
            cloud.endpoint.as_str(),
            "https://acct.table.core.chinacloudapi.cn/"
        );
        assert_eq!(cloud.account, "acct");
        let explicit = TableClient::from_connection_string(
            "accountname=devstoreaccount1;accountkey=AAAA;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;",
        )
        .unwrap();
        assert_eq!(explicit.url("t", &[]).path(), "/devstoreaccount1/t");
        let dev = TableClient::from_connection_string("UseDevelopmentStorage=true").unwrap();
        assert_eq!(dev.endpoint.port(), Some(10002));
    }

    #[test]
    fn bad_connection_strings_do_not_echo_the_key() {
        for bad in [
            "AccountName=acct",
            "AccountKey=c2VjcmV0",
            "AccountName=acct;AccountKey=not base64!",
            "garbage",
        ] {
            let err = TableClient::from_connection_string(bad).unwrap_err();
            assert!(!err.to_string().contains("c2VjcmV0"), "{err}");
            assert!(matches!(err, Error::Invalid(_)), "{bad}");
        }
    }

    #[test]
    fn debug_output_hides_the_key() {
        let client = TableClient::new(
            "http://127.0.0.1:1/a",
            "a",
            Auth::SharedKey {
                key: b"topsecret".to_vec(),
            },
        )
        .unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("topsecret") && !shown.contains("116, 111, 112"));
    }

    #[test]
    fn filter_literals_double_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
    }

    #[test]
    fn path_style_urls_keep_the_account_segment() {
        let client = TableClient::new(
            "http://127.0.0.1:10002/devstoreaccount1/",
            "devstoreaccount1",
            Auth::SharedKey { key: vec![1] },
        )
        .unwrap();
        let url = client.entity_url("t", "p", "r");
        assert_eq!(
            url.path(),
            "/devstoreaccount1/t(PartitionKey='p',RowKey='r')"
        );
        let cloud = TableClient::new(
            "https://acct.table.core.windows.net",
            "acct",
            Auth::SharedKey { key: vec![1] },
        )
        .unwrap();
        assert_eq!(
            cloud.url("Tables", &[("$top", "5".into())]).as_str(),
            "https://acct.table.core.windows.net/Tables?%24top=5"
        );
    }
}
