//! Reconnect delays: exponential backoff with full jitter, capped, so a fleet of clients that lost
//! the same server does not come back in lockstep. Pure: the caller supplies the random number.

use std::time::Duration;

/// Backoff settings.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The first delay's upper bound.
    pub base: Duration,
    /// The largest upper bound.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The delay before attempt `attempt` (0-based), with `unit` a random number in `[0, 1)`.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(self.cap);
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_up_to_the_cap() {
        let backoff = Backoff::default();
        let ceilings: Vec<_> = (0..8).map(|a| backoff.delay(a, 1.0)).collect();
        assert_eq!(ceilings[0], Duration::from_millis(500));
        assert_eq!(ceilings[1], Duration::from_secs(1));
        assert_eq!(ceilings[2], Duration::from_secs(2));
        assert_eq!(ceilings[7], Duration::from_secs(30));
        assert_eq!(backoff.delay(1000, 1.0), Duration::from_secs(30));
    }

    #[test]
    fn jitter_spreads_the_delay_below_the_ceiling() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(3, 0.0), Duration::ZERO);
        assert_eq!(backoff.delay(3, 0.5), Duration::from_secs(2));
        assert_eq!(backoff.delay(3, 7.0), Duration::from_secs(4));
    }
}
