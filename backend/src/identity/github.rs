//! Verifying a GitHub user access token (from GitHub's device flow) by asking GitHub who it belongs
//! to: `GET /user`. The id is GitHub's numeric user id (stable across renames), the name the
//! profile name or login. The API base is configurable so tests can stand in for GitHub, which
//! cannot be reached from CI.

use reqwest::header::{ACCEPT, USER_AGENT};
use serde::Deserialize;

use super::VerifiedUser;

/// GitHub's REST API.
pub const DEFAULT_API: &str = "https://api.github.com";

/// Why a GitHub token was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// GitHub could not be reached.
    #[error("cannot reach GitHub: {0}")]
    Fetch(#[from] reqwest::Error),
    /// GitHub says the token is not valid.
    #[error("GitHub refused the token")]
    Rejected,
}

#[derive(Debug, Deserialize)]
struct GitHubUser {
    id: u64,
    login: String,
    #[serde(default)]
    name: Option<String>,
}

/// Asks GitHub who a token belongs to.
#[derive(Debug, Clone)]
pub struct GitHub {
    http: reqwest::Client,
    api: String,
}

impl GitHub {
    /// A verifier using the API at `api` (normally [`DEFAULT_API`]).
    pub fn new(http: reqwest::Client, api: impl Into<String>) -> Self {
        Self {
            http,
            api: api.into().trim_end_matches('/').to_owned(),
        }
    }

    /// The GitHub user the token belongs to.
    pub async fn verify(&self, token: &str) -> Result<VerifiedUser, Error> {
        let response = self
            .http
            .get(format!("{}/user", self.api))
            .bearer_auth(token)
            .header(ACCEPT, "application/vnd.github+json")
            .header(USER_AGENT, "chatr-backend")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .send()
            .await?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED
            || response.status() == reqwest::StatusCode::FORBIDDEN
        {
            return Err(Error::Rejected);
        }
        let user: GitHubUser = response.error_for_status()?.json().await?;
        Ok(VerifiedUser {
            id: format!("github:{}", user.id),
            name: user
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or(user.login),
            provider: "github".to_owned(),
        })
    }
}
