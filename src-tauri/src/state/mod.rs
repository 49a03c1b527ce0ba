//! Managed state, one struct per concern. Commands read and change it; nothing here does I/O of
//! its own beyond the settings and accounts files.
//!
//! - [`Profile`]: the data folder, settings and remembered accounts.
//! - [`SessionState`]: the signed-in session (if any), its inbox, the chat on screen, and a device
//!   sign-in in progress.

pub(crate) mod profile;
pub(crate) mod session;

pub(crate) use profile::Profile;
pub(crate) use session::SessionState;
