//! The identity providers this backend accepts, as configured at start-up: which ones the app may
//! offer (`GET /api/auth/providers`) and verifying a provider's token for `POST /api/token`.
//! The local provider is not here: it lives with the backend's own tokens (`local_signin`).

use std::sync::Arc;

use chatr_protocol::AuthProvider;

use super::VerifiedUser;
use super::github::{self, GitHub};
use super::oidc::OidcProvider;

/// GitHub sign-in: the verifier and the OAuth app the desktop app uses.
#[derive(Debug, Clone)]
pub struct GitHubSignIn {
    /// Asks GitHub who a token belongs to.
    pub verifier: GitHub,
    /// The OAuth app's client id (device flow enabled).
    pub client_id: String,
}

/// Every external provider that is on.
#[derive(Debug, Clone, Default)]
pub struct Providers {
    /// GitHub, if configured.
    pub github: Option<GitHubSignIn>,
    /// Entra ID (named `microsoft`) and other OpenID Connect issuers.
    pub oidc: Vec<Arc<OidcProvider>>,
}

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// No provider of that name is on.
    #[error("unknown or disabled identity provider")]
    Unknown,
    /// The provider says no, or the token is malformed or expired.
    #[error("the provider token is invalid or expired")]
    Invalid,
    /// The provider could not be asked.
    #[error("cannot reach the identity provider")]
    Unreachable,
}

impl Providers {
    /// What the app needs to sign in with each provider.
    pub fn list(&self) -> Vec<AuthProvider> {
        self.github
            .iter()
            .map(|g| AuthProvider::github(&g.client_id))
            .chain(self.oidc.iter().filter_map(|p| p.auth_provider()))
            .collect()
    }

    /// Verifies `token` with the provider called `name`. The display name it claims comes back
    /// [sanitised](super::names::stored_name) (the user id when nothing visible is left).
    pub async fn verify(&self, name: &str, token: &str) -> Result<VerifiedUser, Refused> {
        self.verify_raw(name, token).await.map(|mut user| {
            user.name = super::names::stored_name(&user.name, &user.id);
            user
        })
    }

    async fn verify_raw(&self, name: &str, token: &str) -> Result<VerifiedUser, Refused> {
        if name == "github" {
            let github = self.github.as_ref().ok_or(Refused::Unknown)?;
            return github
                .verifier
                .verify(token)
                .await
                .map_err(|err| match err {
                    github::Error::Rejected => Refused::Invalid,
                    github::Error::Fetch(_) => Refused::Unreachable,
                });
        }
        let issuer = self
            .oidc
            .iter()
            .find(|p| p.name() == name)
            .ok_or(Refused::Unknown)?;
        issuer.verify(token).await.map_err(|err| match err {
            super::oidc::Error::Fetch(_) => Refused::Unreachable,
            _ => Refused::Invalid,
        })
    }
}
