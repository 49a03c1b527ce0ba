//! The machinery of the fault suite (`tests/faults.rs`): the strict client's bookkeeping
//! ([`tally`], pure), the server processes it kills and restarts ([`procs`]), and the chat member
//! whose socket it cuts ([`member`]). Test code: it counts what it observes and never repairs it.

pub mod member;
pub mod procs;
pub mod tally;
