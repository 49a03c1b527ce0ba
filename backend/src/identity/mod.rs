//! Who a caller is: the local sign-in provider (RFC 8628 device grant) and, later, verification of
//! GitHub, Entra ID and OIDC tokens, and the backend's own session tokens. Identity only ever comes
//! from something verified here, never from a query string or a request body.

pub mod device_grant;
pub mod tokens;
