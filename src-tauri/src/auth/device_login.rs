//! Signing in with the OAuth 2.0 device authorization grant (RFC 8628) through the `oauth2` crate:
//! ask the provider for a code, show it, poll until the person approves, and refresh later without
//! asking again. Works with the backend's local provider, GitHub, Entra ID and any OIDC issuer;
//! only the endpoints differ ([`Provider`]).

use std::future::Future;
use std::time::Duration;

use chatr_protocol::TokenKind;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    ClientId, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet, ExtraTokenFields, RefreshToken,
    Scope, StandardDeviceAuthorizationResponse, StandardRevocableToken, StandardTokenResponse,
    TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

pub use chatr_protocol::auth::LOCAL_CLIENT_ID;

/// Why signing in failed, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The provider's endpoints are misconfigured.
    #[error("the sign-in provider is misconfigured: {0}")]
    Config(String),
    /// The provider could not be reached.
    #[error("cannot reach the sign-in provider: {0}")]
    Offline(String),
    /// The code expired before it was approved.
    #[error("the code expired before it was approved; start again")]
    Expired,
    /// The person refused.
    #[error("sign-in was refused")]
    Denied,
    /// The saved sign-in is no longer valid.
    #[error("the saved sign-in is no longer valid; sign in again")]
    Revoked,
    /// Anything else the provider said.
    #[error("the sign-in provider answered: {0}")]
    Provider(String),
}

/// Where a provider's device-flow endpoints are: the backend's description of it
/// (`GET /api/auth/providers`), or one of its constructors (`local`, `github`, `microsoft`).
pub use chatr_protocol::AuthProvider as Provider;

/// What to show the person while we wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The code to type.
    pub user_code: String,
    /// Where to type it.
    pub verification_uri: String,
    /// The page with the code already filled in, where the provider offers one.
    pub verification_uri_complete: Option<String>,
    /// How long the code is valid.
    pub expires_in: Duration,
}

/// Tokens from a successful sign-in or refresh.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The OAuth access token.
    pub access_token: String,
    /// The OpenID Connect id_token, from providers that issue one.
    pub id_token: Option<String>,
    /// For silent sign-in next time; goes to the keyring, never to a file.
    pub refresh_token: Option<String>,
}

impl Tokens {
    /// The token the backend's `POST /api/token` wants for a provider of `kind`, if we have it.
    pub fn proof(&self, kind: TokenKind) -> Option<&str> {
        match kind {
            TokenKind::AccessToken => Some(&self.access_token),
            TokenKind::IdToken => self.id_token.as_deref(),
        }
    }
}

/// The extra field OpenID Connect adds to a token response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenField {
    /// The id_token, if the provider sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

/// A token response that keeps the id_token (the crate's basic one drops unknown fields).
type TokenAnswer = StandardTokenResponse<IdTokenField, BasicTokenType>;

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(<secret>)")
    }
}

type Client = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// A device sign-in in progress or a refresh, against one provider.
#[derive(Debug, Clone)]
pub struct DeviceLogin {
    provider: Provider,
    client: Client,
    http: reqwest::Client,
}

impl DeviceLogin {
    /// Prepares a sign-in with `provider`.
    pub fn new(provider: Provider) -> Result<Self, Error> {
        let client: Client = oauth2::Client::new(ClientId::new(provider.client_id.clone()))
            .set_device_authorization_url(
                DeviceAuthorizationUrl::new(provider.device_authorization_url.clone())
                    .map_err(|e| Error::Config(e.to_string()))?,
            )
            .set_token_uri(
                TokenUrl::new(provider.token_url.clone())
                    .map_err(|e| Error::Config(e.to_string()))?,
            );
        // No redirects: following them from a token endpoint opens the door to SSRF.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Self {
            provider,
            client,
            http,
        })
    }

    /// The provider this login talks to.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Asks the provider for a code.
    pub async fn start(&self) -> Result<(Pending, StandardDeviceAuthorizationResponse), Error> {
        let details: StandardDeviceAuthorizationResponse = self
            .client
            .exchange_device_code()
            .add_scopes(self.provider.scopes.iter().cloned().map(Scope::new))
            .request_async(&self.http)
            .await
            .map_err(classify)?;
        let pending = Pending {
            user_code: details.user_code().secret().clone(),
            verification_uri: details.verification_uri().to_string(),
            verification_uri_complete: details
                .verification_uri_complete()
                .map(|uri| uri.secret().clone()),
            expires_in: details.expires_in(),
        };
        Ok((pending, details))
    }

    /// Polls until the person approves, refuses, or the code expires. `sleep` waits between polls
    /// (tests pass a short one); the provider's `interval` and `slow_down` are honoured.
    pub async fn wait<S, F>(
        &self,
        details: &StandardDeviceAuthorizationResponse,
        sleep: S,
    ) -> Result<Tokens, Error>
    where
        S: Fn(Duration) -> F,
        F: Future<Output = ()>,
    {
        let response: TokenAnswer = self
            .client
            .exchange_device_access_token(details)
            .request_async(&self.http, sleep, None)
            .await
            .map_err(classify)?;
        Ok(tokens(&response))
    }

    /// Exchanges a saved refresh token for fresh tokens (silent sign-in).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, Error> {
        let response = self
            .client
            .exchange_refresh_token(&RefreshToken::new(refresh_token.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|err| match classify(err) {
                Error::Provider(_) | Error::Expired | Error::Denied => Error::Revoked,
                other => other,
            })?;
        let mut fresh = tokens(&response);
        // Providers that do not rotate refresh tokens keep the old one valid.
        fresh
            .refresh_token
            .get_or_insert_with(|| refresh_token.to_owned());
        Ok(fresh)
    }
}

impl DeviceLogin {
    /// Revokes `refresh_token` at the provider's RFC 7009 endpoint (sign-out; the local provider
    /// has one). `Ok(false)` when the provider has none (GitHub, Entra ID): the token then simply
    /// stays unused until it expires, and the app deletes its copy.
    pub async fn revoke(&self, refresh_token: &str) -> Result<bool, Error> {
        let Some(url) = &self.provider.revocation_url else {
            return Ok(false);
        };
        // RFC 7009 by hand: the `oauth2` crate refuses any revocation URL but https, and the
        // providers of a single machine (and of our tests) live on plain-http loopback.
        let parsed = reqwest::Url::parse(url).map_err(|e| Error::Config(e.to_string()))?;
        let host = parsed.host_str().unwrap_or_default();
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if parsed.scheme() != "https" && !loopback {
            return Err(Error::Config(
                "the revocation endpoint must use https".into(),
            ));
        }
        let response = self
            .http
            .post(parsed)
            .form(&[
                ("token", refresh_token),
                ("token_type_hint", "refresh_token"),
                ("client_id", self.provider.client_id.as_str()),
            ])
            .send()
            .await
            .map_err(|e| Error::Offline(e.to_string()))?;
        if !response.status().is_success() {
            return Err(Error::Provider(format!(
                "revocation answered {}",
                response.status()
            )));
        }
        Ok(true)
    }
}

fn tokens(response: &TokenAnswer) -> Tokens {
    Tokens {
        access_token: response.access_token().secret().clone(),
        id_token: response.extra_fields().id_token.clone(),
        refresh_token: response.refresh_token().map(|t| t.secret().clone()),
    }
}

fn classify<RE, T>(err: oauth2::RequestTokenError<RE, T>) -> Error
where
    RE: std::error::Error + 'static,
    T: oauth2::ErrorResponse + 'static,
{
    use oauth2::RequestTokenError as E;
    match err {
        E::ServerResponse(response) => {
            let text = response.to_string();
            if text.contains("expired_token") {
                Error::Expired
            } else if text.contains("access_denied") {
                Error::Denied
            } else {
                Error::Provider(text)
            }
        }
        E::Request(err) => Error::Offline(err.to_string()),
        E::Parse(err, _) => Error::Provider(err.to_string()),
        E::Other(text) => Error::Provider(text),
    }
}
