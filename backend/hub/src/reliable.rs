//! The reliable subprotocol's send side for one connection: numbering messages, keeping the ones
//! not yet acknowledged for replay after a resume, and refusing to hold more than the service does
//! (1000 messages or 16 MB; past that the connection cannot be recovered). Pure.

use std::collections::VecDeque;
use std::sync::Arc;

/// The most un-acked messages a connection may have.
pub const MAX_MESSAGES: usize = 1000;
/// The most un-acked bytes a connection may have.
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

/// The buffer overflowed: close the connection with 1008, it cannot be recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

/// Numbered frames waiting for the client's `sequenceAck`.
#[derive(Debug, Default)]
pub struct ReplayBuffer {
    next: u64,
    unacked: VecDeque<(u64, Arc<str>)>,
    bytes: usize,
}

impl ReplayBuffer {
    /// Numbers `frame` with the next sequence id (via `number`) and keeps it until acked.
    pub fn push(&mut self, number: impl FnOnce(u64) -> String) -> Result<Arc<str>, Overflow> {
        self.next += 1;
        let framed: Arc<str> = number(self.next).into();
        if self.unacked.len() >= MAX_MESSAGES || self.bytes + framed.len() > MAX_BYTES {
            return Err(Overflow);
        }
        self.bytes += framed.len();
        self.unacked.push_back((self.next, framed.clone()));
        Ok(framed)
    }

    /// The client has every message up to `sequence_id`.
    pub fn ack(&mut self, sequence_id: u64) {
        while let Some((id, frame)) = self.unacked.front() {
            if *id > sequence_id {
                break;
            }
            self.bytes -= frame.len();
            self.unacked.pop_front();
        }
    }

    /// What to send again, in order, after a resume.
    pub fn replay(&self) -> Vec<Arc<str>> {
        self.unacked.iter().map(|(_, f)| f.clone()).collect()
    }

    /// How many messages wait for an ack.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.unacked.len()
    }

    /// Whether nothing waits for an ack.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.unacked.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_start_at_one_and_acks_are_cumulative() {
        let mut buffer = ReplayBuffer::default();
        for _ in 0..5 {
            buffer.push(|id| format!("m{id}")).unwrap();
        }
        buffer.ack(3);
        assert_eq!(buffer.replay(), vec![Arc::from("m4"), Arc::from("m5")]);
        buffer.ack(2); // stale ack changes nothing
        assert_eq!(buffer.len(), 2);
        buffer.ack(99);
        assert!(buffer.is_empty());
    }

    #[test]
    fn more_than_the_service_holds_overflows() {
        let mut buffer = ReplayBuffer::default();
        for _ in 0..MAX_MESSAGES {
            buffer.push(|id| id.to_string()).unwrap();
        }
        assert_eq!(buffer.push(|id| id.to_string()), Err(Overflow));
        let mut big = ReplayBuffer::default();
        assert_eq!(big.push(|_| "x".repeat(MAX_BYTES + 1)), Err(Overflow));
    }
}
