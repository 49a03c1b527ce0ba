//! Which chat messages the app has already handed on, per chat, so each reaches the UI, the unread
//! counter and notifications exactly once — whether it came live, was replayed after a resume, or
//! was fetched from history after a fresh connection — and what to fetch to fill a gap.
//!
//! Pure: no I/O, no clock. It never reorders or invents messages; it only says "new" or "seen".
//!
//! Per chat it keeps a floor (where the app's knowledge of the chat starts: gap fills never reach
//! below it), a watermark (every seq from the floor up to it has been seen) and the seqs seen
//! above the watermark and below the floor. Fan-out of two messages can overtake each other, so
//! "seq ≤ the highest seen" would drop a late one — even the very first ones the app hears of a
//! chat; the sets do not.

use std::collections::{BTreeSet, HashMap};

/// What the app has seen, per chat.
#[derive(Debug, Default, Clone)]
pub struct Inbox {
    chats: HashMap<String, Seen>,
}

#[derive(Debug, Default, Clone)]
struct Seen {
    /// Where the app's record of the chat starts.
    floor: u64,
    /// Every seq from the floor up to this one has been seen.
    watermark: u64,
    /// Seen seqs above the watermark.
    above: BTreeSet<u64>,
    /// Seen seqs at or below the floor (late arrivals, older history pages).
    below: BTreeSet<u64>,
}

impl Seen {
    fn starting_at(floor: u64) -> Self {
        Self {
            floor,
            watermark: floor,
            ..Self::default()
        }
    }

    fn insert(&mut self, seq: u64) -> bool {
        if seq <= self.floor {
            return self.below.insert(seq);
        }
        if seq <= self.watermark || !self.above.insert(seq) {
            return false;
        }
        while self.above.remove(&(self.watermark + 1)) {
            self.watermark += 1;
        }
        true
    }
}

impl Inbox {
    /// Records message `seq` of `chat`; `true` if it is new (hand it on), `false` if seen before.
    ///
    /// The first message heard live in a chat the app knows nothing of starts its record there:
    /// older messages are history, which the UI pages in when it opens the chat.
    pub fn receive(&mut self, chat: &str, seq: u64) -> bool {
        match self.chats.get_mut(chat) {
            Some(seen) => seen.insert(seq),
            None => {
                let mut seen = Seen::starting_at(seq.saturating_sub(1));
                let fresh = seen.insert(seq);
                self.chats.insert(chat.to_owned(), seen);
                fresh
            }
        }
    }

    /// Records a page of history the UI loaded (`seqs` ascending): all of it is seen from now on.
    pub fn loaded(&mut self, chat: &str, seqs: &[u64]) {
        let Some(&lowest) = seqs.first() else { return };
        let seen = self
            .chats
            .entry(chat.to_owned())
            .or_insert_with(|| Seen::starting_at(lowest.saturating_sub(1)));
        for &seq in seqs {
            seen.insert(seq);
        }
    }

    /// Forgets a chat (deleted, or left).
    pub fn forget(&mut self, chat: &str) {
        self.chats.remove(chat);
    }

    /// After a fresh connection: for each known chat, fetch history after this seq.
    pub fn gaps(&self) -> Vec<(String, u64)> {
        let mut gaps: Vec<(String, u64)> = self
            .chats
            .iter()
            .map(|(chat, seen)| (chat.clone(), seen.watermark))
            .collect();
        gaps.sort();
        gaps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_new_once() {
        let mut inbox = Inbox::default();
        assert!(inbox.receive("c", 1));
        assert!(!inbox.receive("c", 1));
        assert!(inbox.receive("c", 2));
        assert!(!inbox.receive("c", 2));
    }

    #[test]
    fn a_message_overtaken_by_a_later_one_is_still_new() {
        let mut inbox = Inbox::default();
        assert!(inbox.receive("c", 1));
        assert!(inbox.receive("c", 3));
        assert!(inbox.receive("c", 2));
        assert!(!inbox.receive("c", 3));
        assert_eq!(inbox.gaps(), vec![("c".to_owned(), 3)]);
    }

    #[test]
    fn the_first_message_heard_may_be_overtaken_too() {
        let mut inbox = Inbox::default();
        assert!(inbox.receive("c", 2));
        assert!(inbox.receive("c", 1), "1 was fanned out after 2");
        assert!(!inbox.receive("c", 1));
        assert_eq!(inbox.gaps(), vec![("c".to_owned(), 2)]);
    }

    #[test]
    fn the_gap_starts_after_the_last_contiguous_message() {
        let mut inbox = Inbox::default();
        inbox.receive("c", 5); // joined mid-way: 1–4 are history
        inbox.receive("c", 7);
        assert_eq!(inbox.gaps(), vec![("c".to_owned(), 5)]);
        // The fetch returns 6 and 7: 6 is new, 7 was seen.
        assert!(inbox.receive("c", 6));
        assert!(!inbox.receive("c", 7));
        assert_eq!(inbox.gaps(), vec![("c".to_owned(), 7)]);
    }

    #[test]
    fn chats_are_independent() {
        let mut inbox = Inbox::default();
        assert!(inbox.receive("a", 1));
        assert!(inbox.receive("b", 1));
        assert_eq!(inbox.gaps(), vec![("a".to_owned(), 1), ("b".to_owned(), 1)]);
    }

    #[test]
    fn loaded_history_counts_as_seen() {
        let mut inbox = Inbox::default();
        inbox.loaded("c", &[40, 41, 42]);
        assert!(!inbox.receive("c", 41));
        assert!(inbox.receive("c", 43));
        assert_eq!(inbox.gaps(), vec![("c".to_owned(), 43)]);
        // An older page: seen from now on, and the gap still starts after 43.
        inbox.loaded("c", &[12, 13]);
        assert!(!inbox.receive("c", 12));
        assert_eq!(inbox.gaps(), vec![("c".to_owned(), 43)]);
    }

    #[test]
    fn a_forgotten_chat_has_no_gap() {
        let mut inbox = Inbox::default();
        inbox.receive("c", 1);
        inbox.forget("c");
        assert!(inbox.gaps().is_empty());
    }
}
