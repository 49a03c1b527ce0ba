//! Typing signals: whether one may be forwarded now. Pure: the caller passes the time and carries
//! out the decision (membership check, fan-out); nothing here does I/O or reads a clock.
//!
//! A typing signal says only "this person is typing in this chat"; recipients show it for a few
//! seconds. So one forwarded signal per person per chat per [`TypingLimits::window`] says all
//! there is to say, and the app sends one at most every 3 s while its user types: an honest client
//! is never throttled. On top, a per-person allowance across chats bounds someone who joined many
//! chats and signals in all of them at once. Like `rate_limit`, this holds per backend instance.
//!
//! This must never forward a signal because of what the client claims: the caller decides *who*
//! (the verified user) and checks membership; this only decides *when*.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::rate_limit::TokenBucket;

/// How often typing signals are forwarded. Sized for people: one every 2 s per chat (the app
/// sends one every 3 s), and across chats a burst of 5 then one a second (nobody types in more
/// than one chat at a time; switching chats quickly stays well within it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TypingLimits {
    /// At most one forwarded signal per person and chat in this window.
    pub window: Duration,
    /// Signals a person may have forwarded at once across all their chats.
    pub burst: u32,
    /// Signals per second across all their chats after the burst.
    pub per_second: f64,
}

impl Default for TypingLimits {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(2),
            burst: 5,
            per_second: 1.0,
        }
    }
}

/// What to do with one typing signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Forward it (the slot is taken).
    Forward,
    /// Too soon after the last one for this chat, or too many across chats: refuse it.
    TooSoon,
}

/// How many (person, chat) entries are kept before stale ones are swept.
const SWEEP_ABOVE: usize = 10_000;

/// The last forwarded signal of each person in each chat, and each person's allowance.
#[derive(Debug)]
pub struct TypingThrottle {
    limits: TypingLimits,
    last: HashMap<(String, String), Instant>,
    people: HashMap<String, TokenBucket>,
}

impl TypingThrottle {
    /// An empty throttle with `limits`.
    pub fn new(limits: TypingLimits) -> Self {
        Self {
            limits,
            last: HashMap::new(),
            people: HashMap::new(),
        }
    }

    /// Decides about a signal of `user` in `chat` at `now`, taking the slot when it is forwarded.
    /// A refused signal takes nothing, so it never delays the next honest one.
    pub fn check(&mut self, user: &str, chat: &str, now: Instant) -> Verdict {
        self.sweep(now);
        let window = self.limits.window;
        let key = (user.to_owned(), chat.to_owned());
        if self
            .last
            .get(&key)
            .is_some_and(|at| now.saturating_duration_since(*at) < window)
        {
            return Verdict::TooSoon;
        }
        let (burst, per_second) = (self.limits.burst, self.limits.per_second);
        let allowed = self
            .people
            .entry(user.to_owned())
            .or_insert_with(|| TokenBucket::new(burst, per_second, now))
            .try_take(now);
        if !allowed {
            return Verdict::TooSoon;
        }
        self.last.insert(key, now);
        Verdict::Forward
    }

    /// Forgets what no longer matters once the maps grow (memory stays bounded by the signals of
    /// the last window).
    fn sweep(&mut self, now: Instant) {
        if self.last.len() > SWEEP_ABOVE {
            let window = self.limits.window;
            self.last
                .retain(|_, at| now.saturating_duration_since(*at) < window);
        }
        if self.people.len() > SWEEP_ABOVE {
            self.people.retain(|_, bucket| !bucket.is_full_at(now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> TypingThrottle {
        TypingThrottle::new(TypingLimits::default())
    }

    #[test]
    fn one_signal_per_chat_per_window() {
        let start = Instant::now();
        let mut t = throttle();
        assert_eq!(t.check("ada", "c1", start), Verdict::Forward);
        for ms in [0, 10, 500, 1999] {
            let at = start + Duration::from_millis(ms);
            assert_eq!(t.check("ada", "c1", at), Verdict::TooSoon, "{ms} ms");
        }
        assert_eq!(
            t.check("ada", "c1", start + Duration::from_secs(2)),
            Verdict::Forward
        );
    }

    #[test]
    fn the_apps_cadence_is_never_throttled() {
        let start = Instant::now();
        let mut t = throttle();
        for i in 0..100 {
            let at = start + Duration::from_secs(3 * i);
            assert_eq!(t.check("ada", "c1", at), Verdict::Forward, "signal {i}");
        }
    }

    #[test]
    fn people_and_chats_do_not_share_a_slot() {
        let start = Instant::now();
        let mut t = throttle();
        assert_eq!(t.check("ada", "c1", start), Verdict::Forward);
        assert_eq!(t.check("bob", "c1", start), Verdict::Forward);
        assert_eq!(t.check("ada", "c2", start), Verdict::Forward);
    }

    #[test]
    fn a_flood_across_many_chats_is_bounded_too() {
        let start = Instant::now();
        let mut t = throttle();
        let forwarded = (0..1000)
            .filter(|i| t.check("ada", &format!("c{i}"), start) == Verdict::Forward)
            .count();
        assert_eq!(forwarded, 5, "the burst, then refusals");
        // Another person is not affected.
        assert_eq!(t.check("bob", "c1", start), Verdict::Forward);
        // The allowance comes back at one a second.
        let later = start + Duration::from_secs(1);
        assert_eq!(t.check("ada", "c-new", later), Verdict::Forward);
    }

    #[test]
    fn memory_stays_bounded() {
        let start = Instant::now();
        let mut t = throttle();
        for i in 0..(SWEEP_ABOVE + 10) {
            t.check(&format!("u{i}"), "c1", start);
        }
        let later = start + Duration::from_secs(60);
        t.check("ada", "c1", later);
        assert!(t.last.len() <= 2, "{} entries kept", t.last.len());
        assert!(t.people.len() <= 2, "{} people kept", t.people.len());
    }
}
