//! Who a caller is: the local sign-in provider (RFC 8628 device grant), verification of OpenID
//! Connect id_tokens (Entra ID, any OIDC issuer), and the backend's own tokens. Identity only ever
//! comes from something verified here, never from a query string or a request body.

pub mod device_grant;
pub mod github;
pub mod names;
pub mod oidc;
pub mod providers;
pub mod refresh;
pub mod throttle;
pub mod tokens;

/// A user an identity provider vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedUser {
    /// Provider-prefixed, stable id (`local:<uuid>`, `github:<id>`, `microsoft:<oid>`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The provider's name.
    pub provider: String,
}
