//! The OAuth 2.0 device authorization grant (RFC 8628) of the local sign-in provider, as a pure
//! state machine: codes in, decisions out, time passed in by the caller.
//!
//! A desktop app asks for a grant and shows the user code; the person types it with a display name
//! on the verification page; meanwhile the app polls. Each local user gets a random id
//! (`local:<uuid>`) at approval, never one derived from the name, so two people called "Ben" are
//! two users. Grants live in memory: local sign-in exists only for the single embedded backend.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::distr::Alphanumeric;

/// The alphabet of user codes: consonants only (RFC 8628 §6.1), so no words and no 0/O or 1/I.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
/// User codes are 8 characters, shown as `XXXX-XXXX`.
const USER_CODE_LEN: usize = 8;
/// At most this many grants wait at once; more are refused (bounds memory against floods).
pub const MAX_PENDING: usize = 1000;

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
}

/// Why a grant could not be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// Too many grants are waiting.
    #[error("too many sign-ins are waiting; try again in a minute")]
    Busy,
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
    expires_at: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
    state: State,
}

/// All grants of the local provider.
#[derive(Debug, Default)]
pub struct DeviceGrants {
    timing: GrantTiming,
    by_device_code: HashMap<String, Grant>,
    by_user_code: HashMap<String, String>,
}

impl DeviceGrants {
    /// An empty set of grants with the given timing.
    pub fn new(timing: GrantTiming) -> Self {
        Self {
            timing,
            ..Self::default()
        }
    }

    /// The timing grants get.
    pub fn timing(&self) -> GrantTiming {
        self.timing
    }

    /// Starts a grant.
    pub fn start(&mut self, now: Instant, rng: &mut impl Rng) -> Result<NewGrant, StartError> {
        self.forget_expired(now);
        if self.by_device_code.len() >= MAX_PENDING {
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
        self.by_device_code.insert(
            device_code.clone(),
            Grant {
                user_code: user_code.clone(),
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
    /// new local user called `name`.
    pub fn approve(
        &mut self,
        user_code: &str,
        name: &str,
        now: Instant,
        rng: &mut impl Rng,
    ) -> Result<LocalUser, ApproveError> {
        let name = display_name(name)?;
        let grant = self.pending_grant(user_code, now)?;
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

    /// Refuses the grant with `user_code`.
    pub fn deny(&mut self, user_code: &str, now: Instant) -> Result<(), ApproveError> {
        self.pending_grant(user_code, now)?.state = State::Denied;
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

    fn pending_grant(&mut self, user_code: &str, now: Instant) -> Result<&mut Grant, ApproveError> {
        let code = normalise_user_code(user_code);
        let device_code = self
            .by_user_code
            .get(&code)
            .ok_or(ApproveError::UnknownCode)?;
        match self.by_device_code.get_mut(device_code) {
            Some(grant) if now < grant.expires_at && matches!(grant.state, State::Pending) => {
                Ok(grant)
            }
            _ => Err(ApproveError::UnknownCode),
        }
    }

    fn remove(&mut self, device_code: &str) {
        if let Some(grant) = self.by_device_code.remove(device_code) {
            self.by_user_code.remove(&grant.user_code);
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

/// A display name: trimmed, 1..=64 characters, no control characters.
pub fn display_name(name: &str) -> Result<String, ApproveError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApproveError::BadName("please enter a name".into()));
    }
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApproveError::BadName(
            "a name has at most 64 characters and no control characters".into(),
        ));
    }
    Ok(name.to_owned())
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
        let grant = grants.start(now, &mut rng).unwrap();
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
        let grant = grants.start(now, &mut rng).unwrap();
        assert_eq!(grants.poll(&grant.device_code, now), Poll::Pending);

        let typed = grant.user_code.to_lowercase().replace('-', " ");
        let user = grants.approve(&typed, "  Ada ", now, &mut rng).unwrap();
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
        let a = grants.start(now, &mut rng).unwrap();
        let b = grants.start(now, &mut rng).unwrap();
        let ben1 = grants.approve(&a.user_code, "Ben", now, &mut rng).unwrap();
        let ben2 = grants.approve(&b.user_code, "Ben", now, &mut rng).unwrap();
        assert_ne!(ben1.id, ben2.id);
    }

    #[test]
    fn polling_faster_than_the_interval_slows_the_app_down() {
        let (mut grants, now, mut rng) = setup();
        let grant = grants.start(now, &mut rng).unwrap();
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
        let denied = grants.start(now, &mut rng).unwrap();
        grants.deny(&denied.user_code, now).unwrap();
        assert_eq!(grants.poll(&denied.device_code, now), Poll::Denied);

        let late = grants.start(now, &mut rng).unwrap();
        let after = now + GrantTiming::default().expires_in;
        assert_eq!(
            grants.approve(&late.user_code, "Ada", after, &mut rng),
            Err(ApproveError::UnknownCode)
        );
        assert_eq!(grants.poll(&late.device_code, after), Poll::Expired);
    }

    #[test]
    fn unknown_codes_are_refused() {
        let (mut grants, now, mut rng) = setup();
        assert_eq!(grants.poll("nope", now), Poll::Expired);
        assert_eq!(
            grants.approve("BCDF-GHJK", "Ada", now, &mut rng),
            Err(ApproveError::UnknownCode)
        );
    }

    #[test]
    fn names_must_be_real() {
        let (mut grants, now, mut rng) = setup();
        let grant = grants.start(now, &mut rng).unwrap();
        assert!(matches!(
            grants.approve(&grant.user_code, "   ", now, &mut rng),
            Err(ApproveError::BadName(_))
        ));
        assert!(matches!(
            grants.approve(&grant.user_code, &"x".repeat(65), now, &mut rng),
            Err(ApproveError::BadName(_))
        ));
        // A failed approval leaves the grant waiting.
        assert!(
            grants
                .approve(&grant.user_code, "Ada", now, &mut rng)
                .is_ok()
        );
    }

    #[test]
    fn a_flood_of_grants_is_bounded() {
        let (mut grants, now, mut rng) = setup();
        for _ in 0..MAX_PENDING {
            grants.start(now, &mut rng).unwrap();
        }
        assert_eq!(grants.start(now, &mut rng), Err(StartError::Busy));
        // Once they expire there is room again.
        let later = now + GrantTiming::default().expires_in;
        assert!(grants.start(later, &mut rng).is_ok());
    }
}
