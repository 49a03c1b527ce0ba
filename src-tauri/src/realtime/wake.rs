//! Why: after the laptop sleeps, a WebSocket can look open for minutes while the server long
//! forgot it. How: a timer ticks on the monotonic clock, which stops during sleep on most systems,
//! while the wall clock keeps going; when wall time advanced much more than monotonic time between
//! two ticks, the machine slept (or the clock jumped) and the session reconnects at once.

use std::time::{Duration, Instant, SystemTime};

/// A wall-clock gap beyond the monotonic one larger than this means "we slept".
pub const SLEEP_THRESHOLD: Duration = Duration::from_secs(10);

/// Compares consecutive ticks.
#[derive(Debug, Clone, Copy)]
pub struct WakeDetector {
    last_monotonic: Instant,
    last_wall: SystemTime,
}

impl WakeDetector {
    /// Starts from this moment.
    pub fn new(monotonic: Instant, wall: SystemTime) -> Self {
        Self {
            last_monotonic: monotonic,
            last_wall: wall,
        }
    }

    /// Records a tick; `true` if the machine slept (or the wall clock jumped) since the last one.
    pub fn tick(&mut self, monotonic: Instant, wall: SystemTime) -> bool {
        let mono = monotonic.saturating_duration_since(self.last_monotonic);
        let jumped = match wall.duration_since(self.last_wall) {
            Ok(elapsed) => elapsed.saturating_sub(mono) > SLEEP_THRESHOLD,
            // The wall clock went backwards: resynchronise too.
            Err(back) => back.duration() > SLEEP_THRESHOLD,
        };
        self.last_monotonic = monotonic;
        self.last_wall = wall;
        jumped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_in_step_are_not_sleep() {
        let (m, w) = (Instant::now(), SystemTime::now());
        let mut detector = WakeDetector::new(m, w);
        let step = Duration::from_secs(5);
        assert!(!detector.tick(m + step, w + step));
        assert!(!detector.tick(m + step * 2, w + step * 2 + Duration::from_secs(2)));
    }

    #[test]
    fn a_wall_clock_jump_means_we_slept() {
        let (m, w) = (Instant::now(), SystemTime::now());
        let mut detector = WakeDetector::new(m, w);
        assert!(detector.tick(m + Duration::from_secs(5), w + Duration::from_secs(3600)));
        // The next ordinary tick is calm again.
        assert!(!detector.tick(m + Duration::from_secs(10), w + Duration::from_secs(3605)));
    }

    #[test]
    fn a_clock_set_backwards_resynchronises() {
        let (m, w) = (Instant::now(), SystemTime::now());
        let mut detector = WakeDetector::new(m, w);
        assert!(detector.tick(m + Duration::from_secs(5), w - Duration::from_secs(600)));
    }
}
