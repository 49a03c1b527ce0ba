//! How the desktop app signs in: the identity providers a backend accepts (`GET
//! /api/auth/providers`), each with what the app needs to run the OAuth 2.0 device authorization
//! grant (RFC 8628) against it, and the `POST /api/token` request that trades the provider's token
//! for a Chatr session.

use serde::{Deserialize, Serialize};

/// One identity provider the backend accepts tokens from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthProvider {
    /// What `POST /api/token` calls it, and the prefix of its user ids: `local`, `github`,
    /// `microsoft`, or the configured name of an OpenID Connect issuer.
    pub name: String,
    /// What the backend wants back: an OAuth access token (`local`, `github`) or an OpenID Connect
    /// id_token (`microsoft` and other issuers).
    pub token_kind: TokenKind,
    /// The device authorization endpoint.
    pub device_authorization_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// The app's client id at the provider.
    pub client_id: String,
    /// Scopes to ask for.
    pub scopes: Vec<String>,
    /// The OAuth 2.0 token revocation endpoint (RFC 7009), where the provider has one: sign-out
    /// revokes the refresh token there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_url: Option<String>,
}

/// The client id of the desktop app at the backend's local provider.
pub const LOCAL_CLIENT_ID: &str = "chatr-desktop";

impl AuthProvider {
    /// The local sign-in provider of the backend at `backend_url` (embedded / single-machine).
    pub fn local(backend_url: &str) -> Self {
        let base = backend_url.trim_end_matches('/');
        Self {
            name: "local".into(),
            token_kind: TokenKind::AccessToken,
            device_authorization_url: format!("{base}/api/auth/local/device"),
            token_url: format!("{base}/api/auth/local/token"),
            client_id: LOCAL_CLIENT_ID.into(),
            scopes: Vec::new(),
            revocation_url: Some(format!("{base}/api/auth/local/revoke")),
        }
    }

    /// GitHub's device flow for the OAuth app `client_id` (device flow enabled).
    pub fn github(client_id: &str) -> Self {
        Self {
            name: "github".into(),
            token_kind: TokenKind::AccessToken,
            device_authorization_url: "https://github.com/login/device/code".into(),
            token_url: "https://github.com/login/oauth/access_token".into(),
            client_id: client_id.into(),
            scopes: vec!["read:user".into()],
            // GitHub revokes only with the app's client secret, which a desktop app has not.
            revocation_url: None,
        }
    }

    /// Microsoft Entra ID's device flow for the app `client_id` in `tenant`.
    pub fn microsoft(tenant: &str, client_id: &str) -> Self {
        let base = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0");
        Self {
            name: "microsoft".into(),
            token_kind: TokenKind::IdToken,
            device_authorization_url: format!("{base}/devicecode"),
            token_url: format!("{base}/token"),
            client_id: client_id.into(),
            scopes: ["openid", "profile", "offline_access"]
                .map(String::from)
                .to_vec(),
            // Entra ID has no RFC 7009 endpoint; its refresh tokens are revoked per user by admins.
            revocation_url: None,
        }
    }
}

/// Which token of the provider's answer proves who the user is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// `access_token`.
    AccessToken,
    /// `id_token`.
    IdToken,
}

/// `POST /api/token`: a provider's token, to be verified and traded for a session.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    /// [`AuthProvider::name`].
    pub provider: String,
    /// The token named by [`AuthProvider::token_kind`].
    pub token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_serialize_in_camel_case_with_snake_case_kinds() {
        let provider = AuthProvider {
            name: "microsoft".into(),
            token_kind: TokenKind::IdToken,
            device_authorization_url: "https://login/devicecode".into(),
            token_url: "https://login/token".into(),
            client_id: "app".into(),
            scopes: vec!["openid".into()],
            revocation_url: None,
        };
        let json = serde_json::to_value(&provider).unwrap_or_default();
        assert_eq!(json["tokenKind"], "id_token");
        assert_eq!(json["deviceAuthorizationUrl"], "https://login/devicecode");
        assert_eq!(
            serde_json::from_value::<AuthProvider>(json).ok(),
            Some(provider)
        );
    }
}
