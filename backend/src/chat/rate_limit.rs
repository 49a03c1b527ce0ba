//! Flood control: a token bucket per user. Pure: the caller passes the time, so tests need no clock.
//!
//! Limits hold per backend instance (the bucket lives in its memory); with N instances behind a load
//! balancer a user gets at most N times the rate, which still bounds a flood.

use std::time::{Duration, Instant};

/// A refilling allowance of requests.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens that refills at `per_second`.
    pub fn new(burst: u32, per_second: f64, now: Instant) -> Self {
        Self {
            capacity: f64::from(burst),
            per_second,
            tokens: f64::from(burst),
            updated: now,
        }
    }

    /// Takes one token if there is one; `false` means "too fast, refuse this request".
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.per_second).min(self.capacity);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether the bucket is full again by `now` (and can be forgotten to save memory).
    pub fn is_full_at(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated);
        self.tokens + elapsed.as_secs_f64() * self.per_second >= self.capacity
    }
}

/// How long to wait for `tokens` more tokens at `per_second`.
pub fn time_for(tokens: u32, per_second: f64) -> Duration {
    Duration::from_secs_f64(f64::from(tokens) / per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(3, 1.0, start);
        assert!(bucket.try_take(start));
        assert!(bucket.try_take(start));
        assert!(bucket.try_take(start));
        assert!(!bucket.try_take(start));
    }

    #[test]
    fn tokens_come_back_at_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(1, 2.0, start);
        assert!(bucket.try_take(start));
        assert!(!bucket.try_take(start + Duration::from_millis(400)));
        assert!(bucket.try_take(start + Duration::from_millis(400) + time_for(1, 2.0)));
    }

    #[test]
    fn a_bucket_never_holds_more_than_its_burst() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(2, 10.0, start);
        let later = start + Duration::from_secs(3600);
        assert!(bucket.is_full_at(later));
        assert!(bucket.try_take(later));
        assert!(bucket.try_take(later));
        assert!(!bucket.try_take(later));
    }
}
