//! The local provider's refresh tokens: rotated on every use, with reuse detection (RFC 6749
//! §10.4, OAuth 2.0 Security BCP §4.14). Pure: token text and stored state in, decisions out.
//!
//! A sign-in (one approved device grant) starts a **family**, stored as a
//! [`RefreshFamily`](crate::store::RefreshFamily): its user, and the generation of the one refresh
//! token that is currently valid. A token is `r1.<family>.<generation>.<mac>`, the MAC an
//! HMAC-SHA256 under a key derived from the session secret, so the store holds no token at all and
//! a forged or altered token is refused without touching it. Redeeming generation *g* while the
//! family is at *g* moves it to *g + 1* (compare-and-swap in the store) and hands out that token;
//! presenting an older, authentic generation means the token was copied: the whole family is
//! revoked, so the thief and the victim both have to sign in again (the victim notices).
//! Every rotation slides the family's expiry to [`LIFETIME`] from then.
//!
//! This module must never log or store a token, and never accept a token whose MAC does not verify.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::store::RefreshFamily;

/// How long a family lives after its last refresh (sliding: every refresh renews it). The desktop
/// app refreshes at every start and every hour it is signed in, so only a sign-in left unused for
/// this long expires.
pub const LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// How long after a rotation the token it replaced still answers — with the current token, not a
/// new one — instead of counting as reuse: a response lost on the way (a cut, the app killed
/// before its keyring write) must not cost a local user their identity. A copy used later than
/// this, or twice across a rotation, still revokes the family.
pub const REPEAT_GRACE: Duration = Duration::from_secs(60);

/// The format tag of our refresh tokens.
const PREFIX: &str = "r1";

type HmacSha256 = Hmac<Sha256>;

/// The key that signs refresh tokens (derived from the session secret; never logged).
#[derive(Clone)]
pub struct RefreshKey(Vec<u8>);

impl std::fmt::Debug for RefreshKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshKey(<secret>)")
    }
}

/// An authentic refresh token's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// The family (sign-in) it belongs to.
    pub family: String,
    /// Which token of the family it is.
    pub generation: u64,
}

/// What to do with a presented refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It is the family's current token: move the family from `from` to `from + 1` and issue that.
    Rotate {
        /// The generation presented (and expected in the store).
        from: u64,
    },
    /// The token the last rotation replaced, within [`REPEAT_GRACE`] of it: hand out the
    /// current generation's token again; nothing changes.
    Repeat,
    /// An older token of a live family: it was used before. Revoke the family.
    Reuse,
    /// Unknown, revoked or expired family: refuse (nothing to change).
    Refuse,
}

impl RefreshKey {
    /// The refresh key of a deployment whose session secret is `secret`.
    pub fn derive(secret: &[u8]) -> Self {
        let mut mac = mac(secret);
        mac.update(b"chatr local refresh token key v1");
        Self(mac.finalize().into_bytes().to_vec())
    }

    fn tag(&self, family: &str, generation: u64) -> String {
        let mut mac = mac(&self.0);
        mac.update(format!("{family}.{generation}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The token for `generation` of `family`.
    pub fn mint(&self, family: &str, generation: u64) -> String {
        format!(
            "{PREFIX}.{family}.{generation}.{}",
            self.tag(family, generation)
        )
    }

    /// The contents of `token` if it is one of ours and unaltered (constant-time MAC check).
    pub fn open(&self, token: &str) -> Option<Presented> {
        let mut parts = token.split('.');
        let (prefix, family, generation, tag) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if prefix != PREFIX || parts.next().is_some() || !is_family_id(family) {
            return None;
        }
        let generation: u64 = generation.parse().ok()?;
        let tag = hex::decode(tag).ok()?;
        let mut mac = mac(&self.0);
        mac.update(format!("{family}.{generation}").as_bytes());
        mac.verify_slice(&tag).ok()?;
        Some(Presented {
            family: family.to_owned(),
            generation,
        })
    }
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

/// A new random family id: 32 lowercase hex digits (128 bits).
pub fn new_family_id(rng: &mut impl rand::Rng) -> String {
    hex::encode(rng.random::<[u8; 16]>())
}

/// The family a refresh token of the previous, stateless format (a JWT) is moved into on its first
/// use: derived from the token, so a second use of the same old token finds the family and counts
/// as reuse.
pub fn legacy_family_id(jwt: &str) -> String {
    hex::encode(&Sha256::digest(jwt.as_bytes())[..16])
}

fn is_family_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What to do when `presented` arrives and the store holds `family` (`None`: unknown) at `now_ms`.
pub fn decide(family: Option<&RefreshFamily>, presented: &Presented, now_ms: i64) -> Decision {
    let Some(family) = family else {
        return Decision::Refuse;
    };
    if family.revoked || family.expires_at <= now_ms {
        return Decision::Refuse;
    }
    match presented.generation.cmp(&family.generation) {
        std::cmp::Ordering::Equal => Decision::Rotate {
            from: family.generation,
        },
        // The family's expiry was set at its last rotation, so that is when it happened.
        std::cmp::Ordering::Less
            if presented.generation + 1 == family.generation
                && family.expires_at.saturating_sub(expiry_from(0)) + millis(REPEAT_GRACE)
                    > now_ms =>
        {
            Decision::Repeat
        }
        std::cmp::Ordering::Less => Decision::Reuse,
        // Never handed out: the store lost state, or the key leaked. Refuse, change nothing.
        std::cmp::Ordering::Greater => Decision::Refuse,
    }
}

/// The expiry (ms since the epoch) a family gets when it is created or rotated at `now_ms`.
pub fn expiry_from(now_ms: i64) -> i64 {
    now_ms.saturating_add(millis(LIFETIME))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RefreshKey {
        RefreshKey::derive(b"0123456789abcdef0123456789abcdef")
    }

    fn family(generation: u64) -> RefreshFamily {
        RefreshFamily {
            id: "0123456789abcdef0123456789abcdef".into(),
            user_id: "local:1".into(),
            name: "Ada".into(),
            provider: "local".into(),
            generation,
            expires_at: 10_000,
            revoked: false,
        }
    }

    #[test]
    fn a_minted_token_opens_to_its_family_and_generation() {
        let id = new_family_id(&mut rand::rng());
        let token = key().mint(&id, 3);
        assert_eq!(
            key().open(&token),
            Some(Presented {
                family: id,
                generation: 3
            })
        );
    }

    #[test]
    fn altered_or_foreign_tokens_do_not_open() {
        let id = "0123456789abcdef0123456789abcdef";
        let token = key().mint(id, 1);
        // Claiming a later generation with the old MAC.
        let bumped = token.replacen(".1.", ".2.", 1);
        assert_eq!(key().open(&bumped), None);
        assert_eq!(
            RefreshKey::derive(b"another secret, other backend!!").open(&token),
            None
        );
        assert_eq!(key().open("eyJhbGciOi.eyJzdWIi.sig"), None);
        assert_eq!(key().open(""), None);
        assert_eq!(key().open(&format!("{token}.x")), None);
    }

    #[test]
    fn the_current_token_rotates_an_old_one_revokes() {
        let presented = |generation| Presented {
            family: family(0).id,
            generation,
        };
        assert_eq!(
            decide(Some(&family(2)), &presented(2), 0),
            Decision::Rotate { from: 2 }
        );
        // `family(2)` was last rotated long before `now`.
        let now = family(2).expires_at - expiry_from(0) + millis(REPEAT_GRACE) + 1;
        assert_eq!(
            decide(Some(&family(2)), &presented(1), now),
            Decision::Reuse
        );
        assert_eq!(decide(Some(&family(3)), &presented(1), 0), Decision::Reuse);
        assert_eq!(decide(Some(&family(2)), &presented(3), 0), Decision::Refuse);
        assert_eq!(decide(None, &presented(1), 0), Decision::Refuse);
    }

    #[test]
    fn the_replaced_token_repeats_the_current_one_briefly_after_a_rotation() {
        let rotated_at = 1_000_000;
        let mut rotated = family(2);
        rotated.expires_at = expiry_from(rotated_at);
        let previous = Presented {
            family: rotated.id.clone(),
            generation: 1,
        };
        assert_eq!(
            decide(Some(&rotated), &previous, rotated_at + 5_000),
            Decision::Repeat
        );
        assert_eq!(
            decide(
                Some(&rotated),
                &previous,
                rotated_at + millis(REPEAT_GRACE) + 1
            ),
            Decision::Reuse
        );
    }

    #[test]
    fn revoked_and_expired_families_refuse() {
        let presented = Presented {
            family: family(0).id,
            generation: 1,
        };
        let mut revoked = family(1);
        revoked.revoked = true;
        assert_eq!(decide(Some(&revoked), &presented, 0), Decision::Refuse);
        assert_eq!(
            decide(Some(&family(1)), &presented, 10_000),
            Decision::Refuse
        );
        assert_eq!(expiry_from(0), 30 * 24 * 3600 * 1000);
    }

    #[test]
    fn legacy_tokens_map_to_one_family_each() {
        assert_eq!(legacy_family_id("a.b.c"), legacy_family_id("a.b.c"));
        assert_ne!(legacy_family_id("a.b.c"), legacy_family_id("a.b.d"));
        assert!(is_family_id(&legacy_family_id("a.b.c")));
    }
}
