//! Reliable-subprotocol bookkeeping on the receiving side: drop duplicates (ids at or below the
//! largest seen, as the service replays after a resume) and decide when to send the cumulative
//! `sequenceAck`. Pure; the caller passes the time.

use std::time::{Duration, Instant};

/// Send an ack at least this often while messages arrive…
const ACK_EVERY: Duration = Duration::from_millis(500);
/// …or as soon as this many messages are un-acked (the service buffers 1000 at most).
const ACK_AFTER_MESSAGES: u64 = 100;

/// What to do with a received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// New: deliver it.
    New,
    /// Seen before (a replay): drop it.
    Duplicate,
}

/// Tracks the largest sequence id received and what has been acked.
#[derive(Debug, Clone, Default)]
pub struct SequenceTracker {
    largest: u64,
    acked: u64,
    last_ack: Option<Instant>,
}

impl SequenceTracker {
    /// Records a message's sequence id.
    pub fn receive(&mut self, sequence_id: u64) -> Receipt {
        if sequence_id <= self.largest {
            return Receipt::Duplicate;
        }
        self.largest = sequence_id;
        Receipt::New
    }

    /// The id to ack now, if an ack is due; marks it acked.
    pub fn ack_due(&mut self, now: Instant) -> Option<u64> {
        if self.largest == self.acked {
            return None;
        }
        let waited_long = self
            .last_ack
            .is_none_or(|last| now.saturating_duration_since(last) >= ACK_EVERY);
        if waited_long || self.largest - self.acked >= ACK_AFTER_MESSAGES {
            self.acked = self.largest;
            self.last_ack = Some(now);
            Some(self.largest)
        } else {
            None
        }
    }

    /// A new (not resumed) connection starts its ids again from 1.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_after_a_resume_are_dropped() {
        let mut tracker = SequenceTracker::default();
        assert_eq!(tracker.receive(1), Receipt::New);
        assert_eq!(tracker.receive(2), Receipt::New);
        assert_eq!(tracker.receive(2), Receipt::Duplicate);
        assert_eq!(tracker.receive(1), Receipt::Duplicate);
        assert_eq!(tracker.receive(3), Receipt::New);
    }

    #[test]
    fn acks_are_cumulative_and_batched() {
        let start = Instant::now();
        let mut tracker = SequenceTracker::default();
        assert_eq!(tracker.ack_due(start), None);
        tracker.receive(1);
        assert_eq!(tracker.ack_due(start), Some(1));
        tracker.receive(2);
        tracker.receive(3);
        assert_eq!(tracker.ack_due(start + Duration::from_millis(100)), None);
        assert_eq!(tracker.ack_due(start + ACK_EVERY), Some(3));
        assert_eq!(tracker.ack_due(start + ACK_EVERY * 3), None);
    }

    #[test]
    fn a_burst_is_acked_before_the_service_buffer_fills() {
        let start = Instant::now();
        let mut tracker = SequenceTracker::default();
        tracker.receive(1);
        tracker.ack_due(start);
        for id in 2..=(1 + ACK_AFTER_MESSAGES) {
            tracker.receive(id);
        }
        assert_eq!(tracker.ack_due(start), Some(1 + ACK_AFTER_MESSAGES));
    }

    #[test]
    fn a_new_connection_starts_over() {
        let mut tracker = SequenceTracker::default();
        tracker.receive(5);
        tracker.reset();
        assert_eq!(tracker.receive(1), Receipt::New);
    }
}
