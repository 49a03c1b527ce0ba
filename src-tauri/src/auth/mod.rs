//! Signing in: the OAuth 2.0 device grant against a provider ([`device_login`]) and the refresh
//! tokens kept in the OS keyring ([`secrets`]). Tokens never go to files or logs.

pub mod device_login;
pub mod secrets;
