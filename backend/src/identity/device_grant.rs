//! The OAuth 2.0 device authorization grant (RFC 8628) of the local sign-in provider, as a pure
//! state machine: codes in, decisions out, time passed in by the caller.
//!
//! A desktop app asks for a grant and shows the user code; the person types it with a display name
//! on the verification page; meanwhile the app polls. Each local user gets a random id
//! (`local:<uuid>`) at approval, never one derived from the name, so two people called "Ben" are
//! two users. Grants live in memory: local sign-in exists only for the single embedded backend.
//!
//! Every grant remembers the client (peer address) that started it, so one client can hold only a
//! few waiting grants, and wrong user codes are budgeted per client and overall
//! ([`throttle`](super::throttle) has the limits and the arithmetic of why guessing fails).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::distr::Alphanumeric;

use super::throttle::{GuessBudget, SignInLimits, Throttled};

/// The alphabet of user codes: consonants only (RFC 8628 §6.1), so no words and no 0/O or 1/I.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
/// User codes are 8 characters, shown as `XXXX-XXXX`.
const USER_CODE_LEN: usize = 8;

/// Timing of grants.
#[derive(Debug, Clone, Copy)]
pub struct GrantTiming {
    /// How long a grant may wait for approval.
    pub expires_in: Duration,
    /// The minimum time between two polls; polling faster gets `slow_down`.
    pub interval: Duration,
}

impl Default for GrantTiming {
    fn default() -> Self {
        Self {
            expires_in: Duration::from_secs(600),
            interval: Duration::from_secs(5),
        }
    }
}

/// A user the local provider vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUser {
    /// `local:<uuid>`.
    pub id: String,
    /// The display name typed at approval.
    pub name: String,
}

/// A new grant, for the device authorization response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    /// The secret the app polls with.
    pub device_code: String,
    /// What the person types, `XXXX-XXXX`.
    pub user_code: String,
}

/// The answer to one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Not approved yet; poll again after the interval.
    Pending,
    /// Polled too fast; the interval grows by 5 s (RFC 8628 §3.5).
    SlowDown,
    /// Approved: issue tokens for this user. The grant is consumed.
    Approved(LocalUser),
    /// The person refused.
    Denied,
    /// Too late, or never existed (unknown codes are answered like expired ones).
    Expired,
}

/// Why an approval was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApproveError {
    /// No waiting grant has this user code.
    #[error("that code is unknown or has expired")]
    UnknownCode,
    /// The display name is empty or too long.
    #[error("{0}")]
    BadName(String),
    /// Too many wrong codes lately (from this client, or from everyone): the code was not even
    /// looked at.
    #[error("too many attempts; wait {} seconds and try again", .0.retry_after.as_secs().max(1))]
    TooManyAttempts(Throttled),
}

/// Why a grant could not be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// Too many grants are waiting, from everyone.
    #[error("too many sign-ins are waiting; try again in a minute")]
    Busy,
    /// This client already has as many grants waiting as it may.
    #[error("too many sign-ins from this address are waiting; finish or cancel one first")]
    TooManyFromClient,
}

#[derive(Debug)]
enum State {
    Pending,
    Approved(LocalUser),
    Denied,
}

#[derive(Debug)]
struct Grant {
    user_code: String,
    client: IpAddr,
    expires_at: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
    state: State,
}

/// All grants of the local provider.
#[derive(Debug)]
pub struct DeviceGrants {
    timing: GrantTiming,
    limits: SignInLimits,
    by_device_code: HashMap<String, Grant>,
    by_user_code: HashMap<String, String>,
    /// How many grants each client has waiting.
    per_client: HashMap<IpAddr, usize>,
    guesses: GuessBudget,
}

impl DeviceGrants {
    /// An empty set of grants with the given timing and the default limits.
    pub fn new(timing: GrantTiming) -> Self {
        Self::with_limits(timing, SignInLimits::default())
    }

    /// An empty set of grants with the given timing and limits.
    pub fn with_limits(timing: GrantTiming, limits: SignInLimits) -> Self {
        Self {
            timing,
            limits,
            by_device_code: HashMap::new(),
            by_user_code: HashMap::new(),
            per_client: HashMap::new(),
            guesses: GuessBudget::new(&limits, Instant::now()),
        }
    }

    /// The timing grants get.
    pub fn timing(&self) -> GrantTiming {
        self.timing
    }

    /// Starts a grant for `client` (see [`client_of`](super::throttle::client_of)).
    pub fn start(
        &mut self,
        client: IpAddr,
        now: Instant,
        rng: &mut impl Rng,
    ) -> Result<NewGrant, StartError> {
        self.forget_expired(now);
        if self.per_client.get(&client).copied().unwrap_or(0) >= self.limits.pending_per_client {
            return Err(StartError::TooManyFromClient);
        }
        if self.by_device_code.len() >= self.limits.pending_total {
            return Err(StartError::Busy);
        }
        let device_code: String = rng
            .sample_iter(&Alphanumeric)
            .take(43)
            .map(char::from)
            .collect();
        let user_code = loop {
            let code: String = (0..USER_CODE_LEN)
                .map(|_| {
                    char::from(USER_CODE_ALPHABET[rng.random_range(0..USER_CODE_ALPHABET.len())])
                })
                .collect();
            if !self.by_user_code.contains_key(&code) {
                break code;
            }
        };
        self.by_user_code
            .insert(user_code.clone(), device_code.clone());
        *self.per_client.entry(client).or_default() += 1;
        self.by_device_code.insert(
            device_code.clone(),
            Grant {
                user_code: user_code.clone(),
                client,
                expires_at: now + self.timing.expires_in,
                interval: self.timing.interval,
                last_poll: None,
                state: State::Pending,
            },
        );
        Ok(NewGrant {
            device_code,
            user_code: format_user_code(&user_code),
        })
    }

    /// Approves the grant with `user_code` (as typed: case, spaces and dashes do not matter) for a
    /// new local user called `name`; `client` is who typed it (for the wrong-code budget).
    pub fn approve(
        &mut self,
        user_code: &str,
        name: &str,
        client: IpAddr,
        now: Instant,
        rng: &mut impl Rng,
    ) -> Result<LocalUser, ApproveError> {
        let name = display_name(name)?;
        let grant = self.pending_grant(user_code, client, now)?;
        let user = LocalUser {
            id: format!(
                "local:{}",
                uuid::Builder::from_random_bytes(rng.random()).into_uuid()
            ),
            name,
        };
        grant.state = State::Approved(user.clone());
        Ok(user)
    }

    /// Refuses the grant with `user_code` (typed by `client`).
    pub fn deny(
        &mut self,
        user_code: &str,
        client: IpAddr,
        now: Instant,
    ) -> Result<(), ApproveError> {
        self.pending_grant(user_code, client, now)?.state = State::Denied;
        Ok(())
    }

    /// The app polls with its device code.
    pub fn poll(&mut self, device_code: &str, now: Instant) -> Poll {
        let Some(grant) = self.by_device_code.get_mut(device_code) else {
            return Poll::Expired;
        };
        if now >= grant.expires_at {
            self.remove(device_code);
            return Poll::Expired;
        }
        let too_fast = grant
            .last_poll
            .is_some_and(|last| now.saturating_duration_since(last) < grant.interval);
        grant.last_poll = Some(now);
        if too_fast {
            grant.interval += Duration::from_secs(5);
            return Poll::SlowDown;
        }
        match &grant.state {
            State::Pending => Poll::Pending,
            State::Denied => {
                self.remove(device_code);
                Poll::Denied
            }
            State::Approved(user) => {
                let user = user.clone();
                self.remove(device_code);
                Poll::Approved(user)
            }
        }
    }

    /// The waiting grant with `user_code`, if the wrong-code budget allows looking; a miss is
    /// charged to `client`.
    fn pending_grant(
        &mut self,
        user_code: &str,
        client: IpAddr,
        now: Instant,
    ) -> Result<&mut Grant, ApproveError> {
        self.guesses
            .check(client, now)
            .map_err(ApproveError::TooManyAttempts)?;
        let code = normalise_user_code(user_code);
        let found = self.by_user_code.get(&code).and_then(|device_code| {
            self.by_device_code
                .get(device_code)
                .filter(|g| now < g.expires_at && matches!(g.state, State::Pending))
                .map(|_| device_code.clone())
        });
        match found.and_then(|device_code| self.by_device_code.get_mut(&device_code)) {
            Some(grant) => Ok(grant),
            None => {
                self.guesses.failed(client, now);
                Err(ApproveError::UnknownCode)
            }
        }
    }

    fn remove(&mut self, device_code: &str) {
        if let Some(grant) = self.by_device_code.remove(device_code) {
            self.by_user_code.remove(&grant.user_code);
            if let Some(count) = self.per_client.get_mut(&grant.client) {
                *count -= 1;
                if *count == 0 {
                    self.per_client.remove(&grant.client);
                }
            }
        }
    }

    fn forget_expired(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .by_device_code
            .iter()
            .filter(|(_, g)| now >= g.expires_at)
            .map(|(code, _)| code.clone())
            .collect();
        for code in expired {
            self.remove(&code);
        }
    }
}

/// A display name: [sanitised](super::names::sanitise) (no invisible, control or reordering
/// characters; whitespace collapsed), then 1..=64 characters.
pub fn display_name(name: &str) -> Result<String, ApproveError> {
    let name = super::names::sanitise(name);
    if name.is_empty() {
        return Err(ApproveError::BadName("please enter a name".into()));
    }
    if name.chars().count() > super::names::MAX_NAME_CHARS {
        return Err(ApproveError::BadName(
            "a name has at most 64 characters".into(),
        ));
    }
    Ok(name)
}

fn format_user_code(code: &str) -> String {
    format!("{}-{}", &code[..4], &code[4..])
}

fn normalise_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use std::net::Ipv4Addr;

    const ME: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn setup() -> (DeviceGrants, Instant, StdRng) {
        (
            DeviceGrants::new(GrantTiming::default()),
            Instant::now(),
            StdRng::seed_from_u64(7),
        )
    }

    #[test]
    fn user_codes_are_readable_and_unambiguous() {
        let (mut grants, now, mut rng) = setup();
        let grant = grants.start(ME, now, &mut rng).unwrap();
        assert_eq!(grant.user_code.len(), 9);
        assert_eq!(&grant.user_code[4..5], "-");
        assert!(
            grant
                .user_code
                .bytes()
                .filter(|b| *b != b'-')
                .all(|b| USER_CODE_ALPHABET.contains(&b))
        );
        assert!(grant.device_code.len() >= 40);
    }

    #[test]
    fn the_app_waits_until_the_person_approves() {
        let (mut grants, now, mut rng) = setup();
        let grant = grants.start(ME, now, &mut rng).unwrap();
        assert_eq!(grants.poll(&grant.device_code, now), Poll::Pending);

        let typed = grant.user_code.to_lowercase().replace('-', " ");
        let user = grants.approve(&typed, "  Ada ", ME, now, &mut rng).unwrap();
        assert_eq!(user.name, "Ada");
        assert!(user.id.starts_with("local:"));

        let later = now + Duration::from_secs(5);
        assert_eq!(grants.poll(&grant.device_code, later), Poll::Approved(user));
        // A grant is used once.
        assert_eq!(
            grants.poll(&grant.device_code, later + Duration::from_secs(5)),
            Poll::Expired
        );
    }

    #[test]
    fn the_same_name_gets_a_different_user_each_time() {
        let (mut grants, now, mut rng) = setup();
        let a = grants.start(ME, now, &mut rng).unwrap();
        let b = grants.start(ME, now, &mut rng).unwrap();
        let ben1 = grants
            .approve(&a.user_code, "Ben", ME, now, &mut rng)
            .unwrap();
        let ben2 = grants
            .approve(&b.user_code, "Ben", ME, now, &mut rng)
            .unwrap();
        assert_ne!(ben1.id, ben2.id);
    }

    #[test]
    fn polling_faster_than_the_interval_slows_the_app_down() {
        let (mut grants, now, mut rng) = setup();
        let grant = grants.start(ME, now, &mut rng).unwrap();
        assert_eq!(grants.poll(&grant.device_code, now), Poll::Pending);
        let soon = now + Duration::from_secs(1);
        assert_eq!(grants.poll(&grant.device_code, soon), Poll::SlowDown);
        // The interval is now 10 s: 6 s later is still too fast.
        assert_eq!(
            grants.poll(&grant.device_code, soon + Duration::from_secs(6)),
            Poll::SlowDown
        );
    }

    #[test]
    fn denied_and_expired_grants_end() {
        let (mut grants, now, mut rng) = setup();
        let denied = grants.start(ME, now, &mut rng).unwrap();
        grants.deny(&denied.user_code, ME, now).unwrap();
        assert_eq!(grants.poll(&denied.device_code, now), Poll::Denied);

        let late = grants.start(ME, now, &mut rng).unwrap();
        let after = now + GrantTiming::default().expires_in;
        assert_eq!(
            grants.approve(&late.user_code, "Ada", ME, after, &mut rng),
            Err(ApproveError::UnknownCode)
        );
        assert_eq!(grants.poll(&late.device_code, after), Poll::Expired);
    }

    #[test]
    fn unknown_codes_are_refused() {
        let (mut grants, now, mut rng) = setup();
        assert_eq!(grants.poll("nope", now), Poll::Expired);
        assert_eq!(
            grants.approve("BCDF-GHJK", "Ada", ME, now, &mut rng),
            Err(ApproveError::UnknownCode)
        );
    }

    #[test]
    fn names_must_be_real() {
        let (mut grants, now, mut rng) = setup();
        let grant = grants.start(ME, now, &mut rng).unwrap();
        assert!(matches!(
            grants.approve(&grant.user_code, "   ", ME, now, &mut rng),
            Err(ApproveError::BadName(_))
        ));
        assert!(matches!(
            grants.approve(&grant.user_code, &"x".repeat(65), ME, now, &mut rng),
            Err(ApproveError::BadName(_))
        ));
        // A failed approval leaves the grant waiting.
        assert!(
            grants
                .approve(&grant.user_code, "Ada", ME, now, &mut rng)
                .is_ok()
        );
    }

    fn client(i: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))
    }

    #[test]
    fn a_flood_of_grants_is_bounded() {
        let (mut grants, now, mut rng) = setup();
        let limits = SignInLimits::default();
        let clients = u32::try_from(limits.pending_total / limits.pending_per_client).unwrap();
        for i in 0..clients {
            for _ in 0..limits.pending_per_client {
                grants.start(client(i), now, &mut rng).unwrap();
            }
        }
        assert_eq!(
            grants.start(client(clients), now, &mut rng),
            Err(StartError::Busy)
        );
        // Once they expire there is room again.
        let later = now + GrantTiming::default().expires_in;
        assert!(grants.start(ME, later, &mut rng).is_ok());
    }

    #[test]
    fn one_client_cannot_lock_out_the_others() {
        let (mut grants, now, mut rng) = setup();
        let limits = SignInLimits::default();
        let flooder = client(1);
        for _ in 0..limits.pending_per_client {
            grants.start(flooder, now, &mut rng).unwrap();
        }
        for _ in 0..limits.pending_total {
            assert_eq!(
                grants.start(flooder, now, &mut rng),
                Err(StartError::TooManyFromClient)
            );
        }
        // Everyone else still signs in.
        let mine = grants.start(ME, now, &mut rng).unwrap();
        grants
            .approve(&mine.user_code, "Ada", ME, now, &mut rng)
            .unwrap();
        // A grant that ends gives its client the slot back.
        let theirs = grants.start(client(2), now, &mut rng).unwrap();
        grants.deny(&theirs.user_code, ME, now).unwrap();
        assert_eq!(grants.poll(&theirs.device_code, now), Poll::Denied);
        for _ in 0..limits.pending_per_client {
            grants.start(client(2), now, &mut rng).unwrap();
        }
    }

    #[test]
    fn guessing_codes_is_throttled_without_hurting_the_real_user() {
        let (mut grants, now, mut rng) = setup();
        let grant = grants.start(ME, now, &mut rng).unwrap();
        let guesser = client(9);
        let (burst, _) = SignInLimits::default().guesses_per_client;
        for _ in 0..burst {
            assert_eq!(
                grants.approve("BCDF-GHJK", "Eve", guesser, now, &mut rng),
                Err(ApproveError::UnknownCode)
            );
        }
        // Now even the right code is not looked at for the guesser: it learns nothing.
        assert!(matches!(
            grants.approve(&grant.user_code, "Eve", guesser, now, &mut rng),
            Err(ApproveError::TooManyAttempts(_))
        ));
        assert!(matches!(
            grants.deny(&grant.user_code, guesser, now),
            Err(ApproveError::TooManyAttempts(_))
        ));
        // The code still works for the person it belongs to.
        let user = grants
            .approve(&grant.user_code, "Ada", ME, now, &mut rng)
            .unwrap();
        assert_eq!(grants.poll(&grant.device_code, now), Poll::Approved(user));
    }

    #[test]
    fn names_are_sanitised_at_approval() {
        let (mut grants, now, mut rng) = setup();
        let grant = grants.start(ME, now, &mut rng).unwrap();
        assert!(matches!(
            grants.approve(&grant.user_code, "\u{200B}\u{202E}", ME, now, &mut rng),
            Err(ApproveError::BadName(_))
        ));
        let user = grants
            .approve(
                &grant.user_code,
                " Ada\u{202E}\u{200D}  Lovelace ",
                ME,
                now,
                &mut rng,
            )
            .unwrap();
        assert_eq!(user.name, "Ada Lovelace");
    }
}
