//! Idle detection on macOS: `CGEventSourceSecondsSinceLastEventType` for any input event in the
//! combined session state (the same value the system's own idle timers use). Screen lock is not
//! read here; while locked there is no input, so the idle time grows past the threshold.
//! Compiles only on macOS.

#![allow(unsafe_code)] // FFI to CoreGraphics; the call's safety is argued below.

use std::time::Duration;

use super::{Error, IdleReading};

/// `kCGEventSourceStateCombinedSessionState`.
const COMBINED_SESSION_STATE: i32 = 0;
/// `kCGAnyInputEventType` (`~0`).
const ANY_INPUT_EVENT: u32 = u32::MAX;

#[link(name = "CoreGraphics", kind = "framework")]
unsafe extern "C" {
    fn CGEventSourceSecondsSinceLastEventType(state_id: i32, event_type: u32) -> f64;
}

/// The idle source of this platform.
#[derive(Debug)]
pub struct PlatformSource(());

impl PlatformSource {
    /// Checks that the API answers.
    pub async fn connect() -> Result<Self, Error> {
        let source = Self(());
        source.read().await?;
        Ok(source)
    }

    /// Reads the idle time.
    pub async fn read(&self) -> Result<IdleReading, Error> {
        // SAFETY: a pure query with two plain integer arguments; it has no pointers or preconditions.
        let seconds = unsafe {
            CGEventSourceSecondsSinceLastEventType(COMBINED_SESSION_STATE, ANY_INPUT_EVENT)
        };
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(Error::Read(format!("CoreGraphics answered {seconds}")));
        }
        Ok(IdleReading {
            idle_for: Duration::from_secs_f64(seconds),
            locked: false,
        })
    }
}
