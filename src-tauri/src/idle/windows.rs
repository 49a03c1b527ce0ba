//! Idle detection on Windows: `GetLastInputInfo` gives the tick count of the last input in the
//! session; the difference to `GetTickCount` is the idle time. Whether the session is locked
//! comes from `WTSQuerySessionInformationW(WTSSessionInfoEx)`, whose session flags say
//! locked/unlocked, so "away" follows the lock at once instead of after the threshold. Where the
//! lock cannot be read (an old Windows, a terminal server that refuses, Wine), the reading says
//! unlocked and the idle time alone decides. Compiles only on Windows.
//!
//! Never blocks for long (both calls are local queries) and never panics on a failed call.

#![allow(unsafe_code)] // FFI to user32/kernel32/wtsapi32; each call's safety is argued below.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use windows_sys::Win32::System::RemoteDesktop::{
    WTS_CURRENT_SERVER_HANDLE, WTS_CURRENT_SESSION, WTS_SESSIONSTATE_LOCK, WTS_SESSIONSTATE_UNLOCK,
    WTSFreeMemory, WTSINFOEXW, WTSQuerySessionInformationW, WTSSessionInfoEx,
};
use windows_sys::Win32::System::SystemInformation::GetTickCount;
use windows_sys::Win32::UI::Input::KeyboardAndMouse::{GetLastInputInfo, LASTINPUTINFO};

use super::{Error, IdleReading};

/// The idle source of this platform.
#[derive(Debug)]
pub struct PlatformSource {
    /// The lock state could not be read once already (logged once, not at every poll).
    lock_unreadable: AtomicBool,
}

impl PlatformSource {
    /// Checks that the API answers.
    pub async fn connect() -> Result<Self, Error> {
        let source = Self {
            lock_unreadable: AtomicBool::new(false),
        };
        source.read().await?;
        Ok(source)
    }

    /// Which source answered, for logs.
    pub fn name(&self) -> &'static str {
        "windows-last-input"
    }

    /// Reads the idle time and the session's lock state.
    pub async fn read(&self) -> Result<IdleReading, Error> {
        let idle_for = idle_time()?;
        let locked = match session_locked() {
            Ok(locked) => locked,
            Err(err) => {
                if !self.lock_unreadable.swap(true, Ordering::Relaxed) {
                    tracing::info!(cause = %err, "the session's lock state is unknown; idle time alone decides");
                }
                false
            }
        };
        Ok(IdleReading { idle_for, locked })
    }
}

/// Time since the last keyboard or mouse input in this session.
fn idle_time() -> Result<Duration, Error> {
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
    Ok(Duration::from_millis(u64::from(ticks_since(
        now,
        info.dwTime,
    ))))
}

/// Milliseconds from tick `then` to tick `now`: both are 32-bit tick counts that wrap every
/// 49.7 days, so the difference wraps too.
fn ticks_since(now: u32, then: u32) -> u32 {
    now.wrapping_sub(then)
}

/// Whether the current session is locked, from its `WTSINFOEX` session flags.
fn session_locked() -> Result<bool, Error> {
    let mut buffer: *mut u16 = std::ptr::null_mut();
    let mut bytes = 0u32;
    // SAFETY: the out-pointers are valid for writes; on success the API hands us a buffer it
    // allocated, which we free below with WTSFreeMemory and do not use afterwards.
    let ok = unsafe {
        WTSQuerySessionInformationW(
            WTS_CURRENT_SERVER_HANDLE,
            WTS_CURRENT_SESSION,
            WTSSessionInfoEx,
            &mut buffer,
            &mut bytes,
        )
    };
    if ok == 0 || buffer.is_null() {
        return Err(Error::Read(format!(
            "WTSQuerySessionInformationW failed: {}",
            std::io::Error::last_os_error()
        )));
    }
    let flags = if (bytes as usize) >= std::mem::size_of::<WTSINFOEXW>() {
        // SAFETY: the buffer holds at least one WTSINFOEXW (checked just above); the API writes
        // level 1 (the only level there is), and `read_unaligned` copes with any alignment.
        let info = unsafe { std::ptr::read_unaligned(buffer.cast::<WTSINFOEXW>()) };
        // SAFETY: level 1 is the union's only member, plain integers and arrays.
        let flags = unsafe { info.Data.WTSInfoExLevel1.SessionFlags };
        (info.Level == 1).then_some(flags)
    } else {
        None
    };
    // SAFETY: `buffer` came from WTSQuerySessionInformationW and is freed exactly once.
    unsafe { WTSFreeMemory(buffer.cast()) };
    flags
        .and_then(locked_from_flags)
        .ok_or_else(|| Error::Read(format!("unexpected session information ({bytes} bytes)")))
}

/// The lock state the session flags say, if they say one (`WTS_SESSIONSTATE_UNKNOWN` does not).
fn locked_from_flags(flags: i32) -> Option<bool> {
    match flags as u32 {
        WTS_SESSIONSTATE_LOCK => Some(true),
        WTS_SESSIONSTATE_UNLOCK => Some(false),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is the failure report
mod tests {
    //! Run for real under Wine in CI (`scripts/cross`): the calls go to Wine's user32, kernel32
    //! and wtsapi32, the same entry points as on Windows.

    use super::*;

    #[test]
    fn tick_differences_survive_the_49_day_wrap() {
        assert_eq!(ticks_since(5_000, 1_000), 4_000);
        assert_eq!(ticks_since(500, u32::MAX - 499), 1_000);
        assert_eq!(ticks_since(7, 7), 0);
    }

    #[test]
    fn session_flags_map_to_the_lock_state() {
        assert_eq!(locked_from_flags(WTS_SESSIONSTATE_LOCK as i32), Some(true));
        assert_eq!(
            locked_from_flags(WTS_SESSIONSTATE_UNLOCK as i32),
            Some(false)
        );
        assert_eq!(locked_from_flags(-1), None);
        assert_eq!(locked_from_flags(7), None);
    }

    #[tokio::test]
    async fn the_idle_time_is_plausible_and_grows_while_nothing_happens() {
        let source = PlatformSource::connect().await.unwrap();
        let first = source.read().await.unwrap();
        // Below the tick counter's whole range (49.7 days): a real duration, not garbage.
        assert!(
            first.idle_for < Duration::from_millis(u64::from(u32::MAX)),
            "{first:?}"
        );
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        let second = source.read().await.unwrap();
        // Nobody touches a CI machine's keyboard: the idle time grew by about the sleep
        // (the tick count's resolution is 10–16 ms).
        let grown = second.idle_for.saturating_sub(first.idle_for);
        assert!(
            grown >= Duration::from_millis(1_000) && grown <= Duration::from_secs(30),
            "idle time went from {first:?} to {second:?}"
        );
        assert!(!second.locked, "a CI session is not locked: {second:?}");
    }

    #[test]
    fn the_lock_state_is_read_or_fails_cleanly() {
        // Windows answers `false` for an unlocked desktop; Wine may not implement the class. Either
        // way the call returns instead of crashing, and never claims a lock that is not there.
        match session_locked() {
            Ok(locked) => assert!(!locked),
            Err(Error::Read(why)) => assert!(!why.is_empty()),
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
}
