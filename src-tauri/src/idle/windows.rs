//! Idle detection on Windows: `GetLastInputInfo` gives the tick count of the last input in the
//! session; the difference to `GetTickCount` is the idle time. (Windows reports a locked session
//! through session notifications, not here; while locked there is no input, so the idle time grows
//! past the threshold.) Compiles only on Windows.

#![allow(unsafe_code)] // FFI to user32/kernel32; each call's safety is argued below.

use std::time::Duration;

use windows_sys::Win32::System::SystemInformation::GetTickCount;
use windows_sys::Win32::UI::Input::KeyboardAndMouse::{GetLastInputInfo, LASTINPUTINFO};

use super::{Error, IdleReading};

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
        let mut info = LASTINPUTINFO {
            cbSize: std::mem::size_of::<LASTINPUTINFO>() as u32,
            dwTime: 0,
        };
        // SAFETY: `info` is a valid, writable LASTINPUTINFO with cbSize set, as the API requires.
        let ok = unsafe { GetLastInputInfo(&mut info) };
        if ok == 0 {
            return Err(Error::Read("GetLastInputInfo failed".into()));
        }
        // SAFETY: GetTickCount takes no arguments and cannot fail.
        let now = unsafe { GetTickCount() };
        // Both are 32-bit millisecond tick counts that wrap every 49.7 days: subtract with wrapping.
        let idle_ms = now.wrapping_sub(info.dwTime);
        Ok(IdleReading {
            idle_for: Duration::from_millis(u64::from(idle_ms)),
            locked: false,
        })
    }
}
