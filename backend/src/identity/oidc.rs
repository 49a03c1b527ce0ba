//! Verifying OpenID Connect id_tokens: Microsoft Entra ID and any OIDC issuer (Keycloak, Dex, …).
//!
//! At start-up the issuer's discovery document gives its JWKS URL; each id_token's signature is
//! checked against the key its header names (asymmetric algorithms only), then its issuer, audience
//! and expiry, and for Entra ID its tenant. Keys are cached and fetched again, at most once a minute,
//! when a token names a key we do not know (issuers rotate keys). Nothing here trusts a claim before
//! the signature is checked.

use std::time::{Duration, Instant};

use chatr_protocol::{AuthProvider, TokenKind};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::RwLock;

use super::VerifiedUser;

/// Algorithms we accept: asymmetric only, so a public key can never be used as an HMAC secret.
const ALLOWED: [Algorithm; 7] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::ES256,
    Algorithm::ES384,
];
/// The least time between two JWKS fetches caused by unknown key ids.
const REFETCH_AFTER: Duration = Duration::from_secs(60);
/// Leeway for clock differences with the issuer.
const LEEWAY_SECS: u64 = 60;

/// Why an id_token (or the issuer) was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The issuer's discovery document or keys could not be fetched.
    #[error("cannot reach the identity provider: {0}")]
    Fetch(#[from] reqwest::Error),
    /// The discovery document names another issuer than configured.
    #[error("the discovery document is for issuer {found:?}, not {expected:?}")]
    IssuerMismatch {
        /// What we configured.
        expected: String,
        /// What the document says.
        found: String,
    },
    /// The token is malformed, badly signed, expired, or for someone else.
    #[error("invalid id_token: {0}")]
    Invalid(String),
}

#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint: Option<String>,
    #[serde(default)]
    device_authorization_endpoint: Option<String>,
    #[serde(default)]
    revocation_endpoint: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IdClaims {
    sub: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
    /// Entra ID: the user's object id, stable across apps in the tenant.
    #[serde(default)]
    oid: Option<String>,
    /// Entra ID: the tenant that issued the token.
    #[serde(default)]
    tid: Option<String>,
}

#[derive(Debug)]
struct Keys {
    set: JwkSet,
    fetched: Instant,
}

/// One configured OpenID Connect issuer.
#[derive(Debug)]
pub struct OidcProvider {
    provider: String,
    issuer: String,
    audience: String,
    tenant: Option<String>,
    jwks_uri: String,
    /// The device-flow endpoints the app signs in with, if the issuer offers that grant.
    device_endpoints: Option<(String, String)>,
    /// The RFC 7009 revocation endpoint, if the issuer has one.
    revocation_endpoint: Option<String>,
    http: reqwest::Client,
    keys: RwLock<Keys>,
}

impl OidcProvider {
    /// Reads the issuer's discovery document and keys. `provider` prefixes user ids
    /// (`microsoft`, or the configured name of a generic issuer); `tenant`, if set, must match the
    /// token's `tid` (Entra ID).
    pub async fn discover(
        http: reqwest::Client,
        provider: impl Into<String>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        tenant: Option<String>,
    ) -> Result<Self, Error> {
        let issuer = issuer.into();
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let discovery: Discovery = http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if discovery.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(Error::IssuerMismatch {
                expected: issuer,
                found: discovery.issuer,
            });
        }
        let set = fetch_keys(&http, &discovery.jwks_uri).await?;
        Ok(Self {
            provider: provider.into(),
            issuer: discovery.issuer,
            audience: audience.into(),
            tenant,
            jwks_uri: discovery.jwks_uri,
            device_endpoints: discovery
                .device_authorization_endpoint
                .zip(discovery.token_endpoint),
            revocation_endpoint: discovery.revocation_endpoint,
            http,
            keys: RwLock::new(Keys {
                set,
                fetched: Instant::now(),
            }),
        })
    }

    /// The name user ids are prefixed with (`microsoft`, or the configured one).
    pub fn name(&self) -> &str {
        &self.provider
    }

    /// How the desktop app signs in with this issuer (its client id is the audience we check),
    /// or `None` if the issuer has no device authorization endpoint.
    pub fn auth_provider(&self) -> Option<AuthProvider> {
        let (device, token) = self.device_endpoints.clone()?;
        Some(AuthProvider {
            name: self.provider.clone(),
            token_kind: TokenKind::IdToken,
            device_authorization_url: device,
            token_url: token,
            client_id: self.audience.clone(),
            scopes: ["openid", "profile", "offline_access"]
                .map(String::from)
                .to_vec(),
            revocation_url: self.revocation_endpoint.clone(),
        })
    }

    /// Checks an id_token and returns the user it vouches for.
    pub async fn verify(&self, id_token: &str) -> Result<VerifiedUser, Error> {
        let header =
            jsonwebtoken::decode_header(id_token).map_err(|e| Error::Invalid(e.to_string()))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(Error::Invalid(format!(
                "algorithm {:?} is not allowed",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| Error::Invalid("the token names no key".into()))?;
        let key = self.key(&kid).await?;

        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
            .map_err(|e| Error::Invalid(e.to_string()))?
            .claims;

        if let Some(tenant) = &self.tenant
            && claims.tid.as_deref() != Some(tenant.as_str())
        {
            return Err(Error::Invalid("the token is from another tenant".into()));
        }
        let stable_id = claims.oid.as_deref().unwrap_or(&claims.sub);
        Ok(VerifiedUser {
            id: format!("{}:{stable_id}", self.provider),
            name: claims
                .name
                .or(claims.preferred_username)
                .unwrap_or_else(|| claims.sub.clone()),
            provider: self.provider.clone(),
        })
    }

    /// The key with id `kid`, fetching the JWKS again if it is unknown and the last fetch is old.
    async fn key(&self, kid: &str) -> Result<DecodingKey, Error> {
        {
            let keys = self.keys.read().await;
            if let Some(jwk) = keys.set.find(kid) {
                return DecodingKey::from_jwk(jwk).map_err(|e| Error::Invalid(e.to_string()));
            }
            if keys.fetched.elapsed() < REFETCH_AFTER {
                return Err(Error::Invalid(format!("unknown key {kid:?}")));
            }
        }
        let mut keys = self.keys.write().await;
        // Another request may have refreshed the keys while we waited for the lock.
        if keys.set.find(kid).is_none() && keys.fetched.elapsed() >= REFETCH_AFTER {
            keys.set = fetch_keys(&self.http, &self.jwks_uri).await?;
            keys.fetched = Instant::now();
        }
        let jwk = keys
            .set
            .find(kid)
            .ok_or_else(|| Error::Invalid(format!("unknown key {kid:?}")))?;
        DecodingKey::from_jwk(jwk).map_err(|e| Error::Invalid(e.to_string()))
    }
}

async fn fetch_keys(http: &reqwest::Client, url: &str) -> Result<JwkSet, Error> {
    Ok(http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}
