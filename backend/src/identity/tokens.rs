//! Tokens the backend itself signs (HS256 with a secret shared by all instances): the local
//! provider's access and refresh tokens, and the short-lived session tokens the REST API accepts.
//! Each kind has its own audience, so one can never stand in for another. The same secret also
//! keys (through derived keys) the local provider's rotating refresh tokens
//! ([`refresh`](super::refresh)) and the verification page's anti-forgery tokens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The issuer of every token the backend signs.
const ISSUER: &str = "chatr-backend";
/// Leeway for clock differences between instances.
const LEEWAY_SECS: u64 = 30;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The local provider's access token: exchanged at `POST /api/token`.
    LocalAccess,
    /// The local provider's refresh token of the previous, stateless format: no longer issued
    /// (refresh tokens rotate now, see [`refresh`](super::refresh)); one still in a keyring is
    /// accepted once and traded for a rotating one.
    LocalRefresh,
    /// A backend session: sent as `Authorization: Bearer` to the REST API.
    Session,
}

impl Kind {
    fn audience(self) -> &'static str {
        match self {
            Self::LocalAccess => "chatr-local-access",
            Self::LocalRefresh => "chatr-local-refresh",
            Self::Session => "chatr-session",
        }
    }

    /// How long a token of this kind lives.
    pub fn lifetime(self) -> Duration {
        match self {
            Self::LocalAccess | Self::Session => Duration::from_secs(3600),
            Self::LocalRefresh => Duration::from_secs(90 * 24 * 3600),
        }
    }
}

/// The claims of our tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, provider-prefixed.
    pub sub: String,
    /// The display name.
    pub name: String,
    /// The provider that verified the user (`local`, `github`, …).
    pub provider: String,
    /// Audience: the token's [`Kind`].
    pub aud: String,
    /// Issuer.
    pub iss: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid token: {0}")]
pub struct InvalidToken(#[from] jsonwebtoken::errors::Error);

/// Signs and checks the backend's own tokens.
#[derive(Clone)]
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    refresh: super::refresh::RefreshKey,
    /// Keys the verification page's anti-forgery tokens.
    form: super::refresh::RefreshKey,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenIssuer(<secret>)")
    }
}

impl TokenIssuer {
    /// An issuer with this secret (at least 32 random bytes; every instance must share it).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            refresh: super::refresh::RefreshKey::derive(secret),
            form: super::refresh::RefreshKey::derive(&[secret, b"verification page form"].concat()),
        }
    }

    /// The key of the local provider's refresh tokens.
    pub fn refresh_key(&self) -> &super::refresh::RefreshKey {
        &self.refresh
    }

    /// The anti-forgery token that goes with the page nonce `nonce` (kept in the page's cookie).
    pub fn form_token(&self, nonce: &str) -> String {
        self.form.mint(nonce, 0)
    }

    /// Whether `token` is the anti-forgery token of `nonce` (constant-time).
    pub fn form_token_matches(&self, nonce: &str, token: &str) -> bool {
        self.form
            .open(token)
            .is_some_and(|p| p.family == nonce && p.generation == 0)
    }

    /// Signs a token of `kind` for the user, valid from `now` for the kind's lifetime.
    pub fn issue(
        &self,
        kind: Kind,
        user_id: &str,
        name: &str,
        provider: &str,
        now: SystemTime,
    ) -> Result<String, InvalidToken> {
        let iat = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let claims = Claims {
            sub: user_id.to_owned(),
            name: name.to_owned(),
            provider: provider.to_owned(),
            aud: kind.audience().to_owned(),
            iss: ISSUER.to_owned(),
            iat,
            exp: iat + kind.lifetime().as_secs(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Checks signature, issuer, audience and expiry, and returns the claims.
    pub fn verify(&self, kind: Kind, token: &str) -> Result<Claims, InvalidToken> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[kind.audience()]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Ok(jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)?.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> TokenIssuer {
        TokenIssuer::new(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn a_token_verifies_as_its_own_kind() {
        let token = issuer()
            .issue(Kind::Session, "local:1", "Ada", "local", SystemTime::now())
            .unwrap();
        let claims = issuer().verify(Kind::Session, &token).unwrap();
        assert_eq!(claims.sub, "local:1");
        assert_eq!(claims.name, "Ada");
        assert_eq!(claims.provider, "local");
    }

    #[test]
    fn a_token_of_another_kind_is_refused() {
        let refresh = issuer()
            .issue(
                Kind::LocalRefresh,
                "local:1",
                "Ada",
                "local",
                SystemTime::now(),
            )
            .unwrap();
        assert!(issuer().verify(Kind::Session, &refresh).is_err());
        assert!(issuer().verify(Kind::LocalAccess, &refresh).is_err());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let long_ago = SystemTime::now() - Duration::from_secs(2 * 3600);
        let token = issuer()
            .issue(Kind::Session, "local:1", "Ada", "local", long_ago)
            .unwrap();
        assert!(issuer().verify(Kind::Session, &token).is_err());
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let token = issuer()
            .issue(Kind::Session, "local:1", "Ada", "local", SystemTime::now())
            .unwrap();
        let other = TokenIssuer::new(b"another secret, another backend!");
        assert!(other.verify(Kind::Session, &token).is_err());

        // Swap the payload for one claiming another user: the signature no longer matches.
        let forged_payload = issuer()
            .issue(
                Kind::Session,
                "github:admin",
                "Admin",
                "github",
                SystemTime::now(),
            )
            .unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_parts: Vec<&str> = forged_payload.split('.').collect();
        parts[1] = forged_parts[1];
        assert!(issuer().verify(Kind::Session, &parts.join(".")).is_err());
        assert!(issuer().verify(Kind::Session, "not.a.token").is_err());
    }
}
