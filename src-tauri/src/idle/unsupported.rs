//! Idle detection on an OS we have no source for: always [`Error::Unsupported`], so every target
//! builds and the app simply never reports idle.

use super::{Error, IdleReading};

/// The idle source of this platform.
#[derive(Debug)]
pub struct PlatformSource(());

impl PlatformSource {
    /// Always fails: no source on this OS.
    pub async fn connect() -> Result<Self, Error> {
        Err(Error::Unsupported(std::env::consts::OS.to_owned()))
    }

    /// Which source answered, for logs (none does here).
    pub fn name(&self) -> &'static str {
        "unsupported"
    }

    /// Never called (connect fails), but keeps the signature identical to the other platforms.
    pub async fn read(&self) -> Result<IdleReading, Error> {
        Err(Error::Unsupported(std::env::consts::OS.to_owned()))
    }
}
