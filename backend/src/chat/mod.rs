//! Chat rules, as pure functions from values to decisions: validation of what users type, who may
//! do what, private-chat ids, presence transitions, rate limits and typing-signal throttling.
//!
//! Nothing here does I/O, awaits, reads a clock or touches the store: callers pass in what the rules
//! need (membership, connection states, `Instant`s) and carry out the decision. That keeps every rule
//! unit-tested on its own and the same on every backend instance.

pub mod permissions;
pub mod presence;
pub mod private;
pub mod rate_limit;
pub mod typing;
pub mod validate;

/// Why a request breaks a rule. Each maps to a protocol `ErrorCode` at the edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A field is empty, malformed or contains characters it may not.
    #[error("{0}")]
    Invalid(String),
    /// A field is longer than its limit.
    #[error("{what} is longer than {max} characters")]
    TooLong {
        /// What was too long (`message`, `chat name`).
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
}
