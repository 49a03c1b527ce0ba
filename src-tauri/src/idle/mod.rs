//! OS-level idle detection: how long since the person last touched keyboard or mouse anywhere on
//! the machine (not just in our window), and whether the screen is locked.
//!
//! # Layout
//! - [`IdlePolicy`] (pure): readings in, `EnterIdle` / `ExitIdle` transitions out, only on change.
//! - `linux.rs`: GNOME's `org.gnome.Mutter.IdleMonitor` and `org.freedesktop.ScreenSaver` over
//!   D-Bus first (they work on Wayland), then the X11 MIT-SCREEN-SAVER extension.
//! - `windows.rs`: `GetLastInputInfo`, and the session lock from `WTSQuerySessionInformationW`.
//! - `macos.rs`: `CGEventSourceSecondsSinceLastEventType`, and the screen lock from
//!   `CGSessionCopyCurrentDictionary`.
//! - Any other OS gets a source that answers [`Error::Unsupported`].
//! - [`watcher`]: the loop that polls a source and reports transitions.
//!
//! Each platform module exports `PlatformSource` with the same `connect` / `read` / `name`
//! signatures. A locked screen counts as idle at once on every OS that reports it.
//! Nothing here sends anything: the session decides what to do with a transition.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "macos")))]
mod unsupported;
pub mod watcher;
#[cfg(target_os = "windows")]
mod windows;

use std::time::Duration;

#[cfg(target_os = "linux")]
pub use linux::PlatformSource;
#[cfg(target_os = "macos")]
pub use macos::PlatformSource;
#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "macos")))]
pub use unsupported::PlatformSource;
#[cfg(target_os = "windows")]
pub use windows::PlatformSource;

/// The idle threshold unless the user sets another.
pub const DEFAULT_THRESHOLD: Duration = Duration::from_secs(60);

/// Why the OS could not tell us.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No idle source works on this system (no X server, no known D-Bus service, unknown OS).
    #[error("idle time is not available here: {0}")]
    Unsupported(String),
    /// The source worked before but failed now.
    #[error("cannot read the idle time: {0}")]
    Read(String),
}

/// One look at the OS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleReading {
    /// Time since the last keyboard or pointer input.
    pub idle_for: Duration,
    /// Whether the screen is locked (or the screensaver is on), where the OS tells us.
    pub locked: bool,
}

/// A change worth telling the backend about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// No input for the threshold, or the screen locked: send `userEnterIdle`.
    EnterIdle,
    /// Input again: send `userExitIdle`.
    ExitIdle,
}

/// Turns readings into transitions: idle when locked or when there was no input for the threshold.
#[derive(Debug, Clone)]
pub struct IdlePolicy {
    threshold: Duration,
    idle: bool,
}

impl IdlePolicy {
    /// A policy that starts active.
    pub fn new(threshold: Duration) -> Self {
        Self {
            threshold,
            idle: false,
        }
    }

    /// Changes the threshold; the next reading decides again.
    pub fn set_threshold(&mut self, threshold: Duration) {
        self.threshold = threshold;
    }

    /// The current threshold.
    pub fn threshold(&self) -> Duration {
        self.threshold
    }

    /// Whether the last reading made us idle (re-asserted to the backend after every reconnect).
    pub fn is_idle(&self) -> bool {
        self.idle
    }

    /// Takes a reading; returns a transition only when the state changes.
    pub fn observe(&mut self, reading: IdleReading) -> Option<Transition> {
        let idle = reading.locked || reading.idle_for >= self.threshold;
        if idle == self.idle {
            return None;
        }
        self.idle = idle;
        Some(if idle {
            Transition::EnterIdle
        } else {
            Transition::ExitIdle
        })
    }

    /// How often to read the OS: often enough to notice the threshold within a few seconds, and to
    /// notice input again quickly once idle.
    pub fn poll_interval(&self) -> Duration {
        if self.idle {
            Duration::from_secs(1)
        } else {
            (self.threshold / 4).clamp(Duration::from_secs(1), Duration::from_secs(5))
        }
    }
}

impl Default for IdlePolicy {
    fn default() -> Self {
        Self::new(DEFAULT_THRESHOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(secs: u64, locked: bool) -> IdleReading {
        IdleReading {
            idle_for: Duration::from_secs(secs),
            locked,
        }
    }

    #[test]
    fn idle_after_the_threshold_and_back_on_input() {
        let mut policy = IdlePolicy::default();
        assert_eq!(policy.observe(reading(10, false)), None);
        assert_eq!(policy.observe(reading(59, false)), None);
        assert_eq!(
            policy.observe(reading(60, false)),
            Some(Transition::EnterIdle)
        );
        assert!(policy.is_idle());
        assert_eq!(policy.observe(reading(75, false)), None);
        assert_eq!(
            policy.observe(reading(0, false)),
            Some(Transition::ExitIdle)
        );
        assert!(!policy.is_idle());
    }

    #[test]
    fn a_locked_screen_is_idle_at_once() {
        let mut policy = IdlePolicy::default();
        assert_eq!(
            policy.observe(reading(1, true)),
            Some(Transition::EnterIdle)
        );
        assert_eq!(
            policy.observe(reading(0, false)),
            Some(Transition::ExitIdle)
        );
    }

    #[test]
    fn transitions_are_sent_once_not_per_reading() {
        let mut policy = IdlePolicy::new(Duration::from_secs(5));
        let transitions: Vec<_> = [0, 3, 6, 9, 12, 0, 1, 2]
            .into_iter()
            .filter_map(|s| policy.observe(reading(s, false)))
            .collect();
        assert_eq!(transitions, [Transition::EnterIdle, Transition::ExitIdle]);
    }

    #[test]
    fn a_new_threshold_applies_to_the_next_reading() {
        let mut policy = IdlePolicy::default();
        assert_eq!(policy.observe(reading(30, false)), None);
        policy.set_threshold(Duration::from_secs(20));
        assert_eq!(
            policy.observe(reading(30, false)),
            Some(Transition::EnterIdle)
        );
    }

    #[test]
    fn polling_is_quick_when_idle_and_bounded_when_active() {
        let mut policy = IdlePolicy::new(Duration::from_secs(60));
        assert_eq!(policy.poll_interval(), Duration::from_secs(5));
        policy.observe(reading(60, false));
        assert_eq!(policy.poll_interval(), Duration::from_secs(1));
        assert_eq!(
            IdlePolicy::new(Duration::from_secs(2)).poll_interval(),
            Duration::from_secs(1)
        );
    }
}
