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

/// What a limit counts: each operation that writes or broadcasts has a bucket of its own per user,
/// so a flood of one kind never blocks another (typing never stops a message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `sendMessage` (a resend of a stored message takes nothing).
    Send,
    /// `createChat` and `createPrivateChat`: each is stored and announced to every online user.
    CreateChat,
    /// `joinChat`, `leaveChat`, `deleteChat`: each is broadcast to a chat or to everyone.
    Membership,
    /// `userEnterIdle` / `userExitIdle`: each flip may be broadcast to everyone.
    Presence,
}

impl Operation {
    /// What the refusal tells the user.
    pub fn refusal(self) -> &'static str {
        match self {
            Self::Send => "you are sending too fast; wait a moment",
            Self::CreateChat => "you are creating chats too fast; wait a moment",
            Self::Membership => "you are joining and leaving chats too fast; wait a moment",
            Self::Presence => "your status is changing too often; wait a moment",
        }
    }
}

/// A burst and the rate it refills at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests allowed at once.
    pub burst: u32,
    /// Requests per second after the burst.
    pub per_second: f64,
}

impl Rate {
    /// `burst` at once, then `per_second`.
    pub const fn new(burst: u32, per_second: f64) -> Self {
        Self { burst, per_second }
    }
}

/// The per-user limit of each [`Operation`], sized for people: a fast typist sends a few
/// messages a second; nobody creates more than a handful of chats a minute, joins and leaves
/// dozens, or goes idle and back more than a few times a minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// `sendMessage`: 20 at once, then 10/s.
    pub send: Rate,
    /// New chats: 10 at once, then one every 6 s (10 a minute).
    pub create_chat: Rate,
    /// Joins, leaves, deletes: 20 at once, then one a second.
    pub membership: Rate,
    /// Idle/active flips: 10 at once, then one every 5 s.
    pub presence: Rate,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            send: Rate::new(20, 10.0),
            create_chat: Rate::new(10, 1.0 / 6.0),
            membership: Rate::new(20, 1.0),
            presence: Rate::new(10, 0.2),
        }
    }
}

impl RateLimits {
    /// The limit of `operation`.
    pub fn of(&self, operation: Operation) -> Rate {
        match operation {
            Operation::Send => self.send,
            Operation::CreateChat => self.create_chat,
            Operation::Membership => self.membership,
            Operation::Presence => self.presence,
        }
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
    fn each_operation_has_a_human_sized_limit_of_its_own() {
        let limits = RateLimits::default();
        // Nobody creates 300 chats a second: the 11th in one burst is refused.
        let start = Instant::now();
        let rate = limits.of(Operation::CreateChat);
        let mut bucket = TokenBucket::new(rate.burst, rate.per_second, start);
        let allowed = (0..300).filter(|_| bucket.try_take(start)).count();
        assert_eq!(allowed, 10);
        // ... but ten a minute go through.
        let minute = start + Duration::from_secs(60);
        assert_eq!((0..300).filter(|_| bucket.try_take(minute)).count(), 10);
        // 400 idle flips in half a second: ten become broadcasts.
        let rate = limits.of(Operation::Presence);
        let mut bucket = TokenBucket::new(rate.burst, rate.per_second, start);
        let half = start + Duration::from_millis(500);
        assert_eq!((0..400).filter(|_| bucket.try_take(half)).count(), 10);
        for op in [
            Operation::Send,
            Operation::CreateChat,
            Operation::Membership,
            Operation::Presence,
        ] {
            assert!(limits.of(op).burst >= 10, "{op:?} allows a human burst");
            assert!(!op.refusal().is_empty());
        }
    }

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
