//! Idle detection on macOS: `CGEventSourceSecondsSinceLastEventType` for any input event in the
//! combined session state (the same value the system's own idle timers use), and the screen lock
//! from `CGSessionCopyCurrentDictionary`, whose `CGSSessionScreenIsLocked` key is present and true
//! while the login window covers the session. So "away" follows a locked screen at once instead of
//! after the threshold. Compiles only on macOS.
//!
//! Never blocks (both are local queries) and never panics on an unexpected answer.

#![allow(unsafe_code)] // FFI to CoreGraphics; each call's safety is argued below.

use std::time::Duration;

use core_foundation::base::{CFType, TCFType};
use core_foundation::boolean::CFBoolean;
use core_foundation::dictionary::{CFDictionary, CFDictionaryRef};
use core_foundation::string::CFString;

use super::{Error, IdleReading};

/// `kCGEventSourceStateCombinedSessionState`.
const COMBINED_SESSION_STATE: i32 = 0;
/// `kCGAnyInputEventType` (`~0`).
const ANY_INPUT_EVENT: u32 = u32::MAX;
/// The session dictionary's key for a locked screen (absent when unlocked).
const SCREEN_IS_LOCKED: &str = "CGSSessionScreenIsLocked";

#[link(name = "CoreGraphics", kind = "framework")]
unsafe extern "C" {
    fn CGEventSourceSecondsSinceLastEventType(state_id: i32, event_type: u32) -> f64;
    fn CGSessionCopyCurrentDictionary() -> CFDictionaryRef;
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

    /// Which source answered, for logs.
    pub fn name(&self) -> &'static str {
        "macos-coregraphics"
    }

    /// Reads the idle time and the screen lock.
    pub async fn read(&self) -> Result<IdleReading, Error> {
        // SAFETY: a pure query with two plain integer arguments; it has no pointers or preconditions.
        let seconds = unsafe {
            CGEventSourceSecondsSinceLastEventType(COMBINED_SESSION_STATE, ANY_INPUT_EVENT)
        };
        Ok(IdleReading {
            idle_for: idle_from_seconds(seconds)?,
            locked: screen_locked(),
        })
    }
}

/// CoreGraphics' answer as a duration; NaN, infinities and negatives are errors.
fn idle_from_seconds(seconds: f64) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| Error::Read(format!("CoreGraphics answered {seconds}")))
}

/// Whether the screen is locked; `false` when there is no session dictionary (no GUI session).
fn screen_locked() -> bool {
    // SAFETY: takes no arguments; returns a dictionary we own (the Create rule) or null.
    let raw = unsafe { CGSessionCopyCurrentDictionary() };
    if raw.is_null() {
        return false;
    }
    // SAFETY: `raw` is a non-null CFDictionary we own; wrapping it releases it once, on drop.
    let session: CFDictionary<CFString, CFType> =
        unsafe { CFDictionary::wrap_under_create_rule(raw) };
    session
        .find(CFString::from_static_string(SCREEN_IS_LOCKED))
        .and_then(|value| value.downcast::<CFBoolean>())
        .is_some_and(bool::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_durations_are_accepted() {
        assert_eq!(
            idle_from_seconds(1.5).ok(),
            Some(Duration::from_millis(1500))
        );
        assert!(idle_from_seconds(f64::NAN).is_err());
        assert!(idle_from_seconds(-1.0).is_err());
        assert!(idle_from_seconds(f64::INFINITY).is_err());
    }
}
