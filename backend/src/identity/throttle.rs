//! Limits of the local sign-in provider against floods and guessing, per client (peer IP address)
//! and overall. Pure: the caller passes the time and the client; nothing here does I/O.
//!
//! - **Waiting grants**: one client may hold at most [`SignInLimits::pending_per_client`] grants
//!   that have not ended yet, far below the overall [`SignInLimits::pending_total`]; so one source
//!   cannot fill the table and lock everyone else out (it would need `total / per_client`
//!   addresses, and IPv6 clients count per /64 network, which is what one host usually gets).
//! - **Wrong user codes** on the verification page: each client has a bucket of failed attempts
//!   and all clients share one; an attempt is refused (without even looking at the code, so a
//!   throttled guesser learns nothing) while either bucket is empty. Only failures take from the
//!   buckets: the person who types the right code is never slowed down, and wrong guesses at a
//!   code never invalidate it for its real user.
//!
//! # Why guessing is infeasible
//! A user code is 8 characters from a 20-letter alphabet: 20⁸ ≈ 2.56 × 10¹⁰ codes. With the
//! default budgets every client together gets at most `burst + rate × lifetime` =
//! 60 + 1/s × 600 s = 660 failed guesses during one grant's 10-minute life. Hitting one given grant
//! needs 1.28 × 10¹⁰ guesses on average (half the space): at 1 guess/s that is about 400 years,
//! and the chance of hitting *any* of the at most 1,000 waiting grants within one grant's lifetime
//! is below 660 × 1,000 / 2.56 × 10¹⁰ ≈ 2.6 × 10⁻⁵.
//! One client alone gets 10 quick tries, then one every 6 s (a person who mistypes is fine).
//!
//! This module must never decide who is signed in; it only says "not now".

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use crate::chat::rate_limit::{TokenBucket, time_for};

/// The limits of local sign-in (defaults sized for people; configurable).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignInLimits {
    /// Grants that may wait at once, from everyone.
    pub pending_total: usize,
    /// Grants that may wait at once from one client.
    pub pending_per_client: usize,
    /// Wrong user codes one client may try in a burst, and per second after it.
    pub guesses_per_client: (u32, f64),
    /// Wrong user codes all clients together may try in a burst, and per second after it.
    pub guesses_total: (u32, f64),
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            pending_total: 1000,
            pending_per_client: 10,
            guesses_per_client: (10, 1.0 / 6.0),
            guesses_total: (60, 1.0),
        }
    }
}

/// Too many wrong codes: wait this long before trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// When a new attempt may succeed.
    pub retry_after: Duration,
}

/// The client a request counts against: its IPv4 address, or its IPv6 /64 network (IPv4-mapped
/// IPv6 addresses count as the IPv4 address).
pub fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(segments))
            }
        },
    }
}

/// Buckets of failed user-code attempts.
#[derive(Debug)]
pub struct GuessBudget {
    per_client: (u32, f64),
    clients: HashMap<IpAddr, TokenBucket>,
    total: TokenBucket,
    total_rate: f64,
}

/// Past this many clients with a bucket, full ones are forgotten (bounds memory).
const MAX_TRACKED: usize = 10_000;

impl GuessBudget {
    /// Full buckets at `now`.
    pub fn new(limits: &SignInLimits, now: Instant) -> Self {
        let (burst, rate) = limits.guesses_total;
        Self {
            per_client: limits.guesses_per_client,
            clients: HashMap::new(),
            total: TokenBucket::new(burst, rate, now),
            total_rate: rate,
        }
    }

    /// Whether `client` may make an attempt now (takes nothing).
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Throttled> {
        let (_, client_rate) = self.per_client;
        if let Some(bucket) = self.clients.get(&client)
            && !bucket.clone().try_take(now)
        {
            return Err(Throttled {
                retry_after: time_for(1, client_rate),
            });
        }
        if !self.total.clone().try_take(now) {
            return Err(Throttled {
                retry_after: time_for(1, self.total_rate),
            });
        }
        Ok(())
    }

    /// Records a failed attempt by `client`.
    pub fn failed(&mut self, client: IpAddr, now: Instant) {
        if self.clients.len() >= MAX_TRACKED {
            self.clients.retain(|_, bucket| !bucket.is_full_at(now));
        }
        let (burst, rate) = self.per_client;
        self.clients
            .entry(client)
            .or_insert_with(|| TokenBucket::new(burst, rate, now))
            .try_take(now);
        self.total.try_take(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn ipv6_clients_count_per_network() {
        assert_eq!(client_of(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            client_of(ip("2001:db8:1:2:bbbb::2")),
            client_of(ip("2001:db8:1:2:aaaa::1"))
        );
        assert_ne!(
            client_of(ip("2001:db8:1:3::1")),
            client_of(ip("2001:db8:1:2::1"))
        );
        assert_eq!(client_of(ip("::ffff:10.0.0.7")), ip("10.0.0.7"));
        assert_eq!(client_of(ip("10.0.0.7")), ip("10.0.0.7"));
    }

    #[test]
    fn a_guesser_is_slowed_to_the_rate_and_others_are_not() {
        let now = Instant::now();
        let limits = SignInLimits::default();
        let mut budget = GuessBudget::new(&limits, now);
        let guesser = ip("192.0.2.1");
        for _ in 0..limits.guesses_per_client.0 {
            assert!(budget.check(guesser, now).is_ok());
            budget.failed(guesser, now);
        }
        let refused = budget.check(guesser, now).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(6));
        // Someone else still may.
        assert!(budget.check(ip("192.0.2.2"), now).is_ok());
        // After the refill interval, one more.
        let later = now + Duration::from_secs(6);
        assert!(budget.check(guesser, later).is_ok());
        budget.failed(guesser, later);
        assert!(budget.check(guesser, later).is_err());
    }

    #[test]
    fn many_guessers_together_hit_the_overall_budget() {
        let now = Instant::now();
        let limits = SignInLimits::default();
        let mut budget = GuessBudget::new(&limits, now);
        for i in 0..limits.guesses_total.0 {
            let client = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert!(budget.check(client, now).is_ok());
            budget.failed(client, now);
        }
        assert!(budget.check(ip("192.0.2.9"), now).is_err());
        assert!(
            budget
                .check(ip("192.0.2.9"), now + Duration::from_secs(1))
                .is_ok()
        );
    }

    #[test]
    fn guessing_a_code_within_its_lifetime_is_infeasible() {
        let limits = SignInLimits::default();
        let lifetime = 600.0;
        let (burst, rate) = limits.guesses_total;
        let guesses = f64::from(burst) + rate * lifetime;
        let codes = 20f64.powi(8);
        // Every waiting grant at once, whole lifetime: still far below one in ten thousand.
        assert!(guesses * limits.pending_total as f64 / codes < 1e-4);
    }
}
