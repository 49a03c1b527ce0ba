//! Pure bookkeeping of the fault suite: what a strict reliable-subprotocol client sees on one
//! connection ([`Sequence`]), what a de-duplicating chat client holds of one chat ([`Inbox`]),
//! what the senders were told ([`Ledger`]), and the verdict over the stored history
//! ([`judge`]). No I/O, no clock: callers pass what they saw and when.
//!
//! It must never excuse an anomaly: whatever a correct service would not produce is counted, and
//! only what the protocol allows (a replay after a resume, a retried send) is tolerated, and then
//! counted too.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How a strict client takes one numbered (`sequenceId`) frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Not seen before: hand it on.
    New,
    /// Seen before and replayed in order after a resume (the protocol's at-least-once): drop.
    Replayed,
    /// Missing until now and arriving after a higher id: hand it on, counted as out of order.
    Late,
    /// Seen before, outside a replay: drop, counted as a repeat.
    Repeat,
}

/// What one member's connections did at the `sequenceId` level, over all its connections.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SequenceCounts {
    /// Numbered frames received.
    pub frames: u64,
    /// Frames replayed after a resume that had been seen already (allowed).
    pub replayed: u64,
    /// Ids a socket jumped over (some may arrive later, as `late`).
    pub skipped: u64,
    /// Frames that arrived after a higher id (out of order).
    pub late: u64,
    /// Frames seen twice outside a replay.
    pub repeats: u64,
    /// Ids jumped over and never received on connections since replaced.
    pub lost: u64,
    /// `message` frames without a `sequenceId` on the reliable subprotocol.
    pub unnumbered: u64,
}

impl SequenceCounts {
    /// Ids never received, on replaced connections and (`open_missing`) the current one.
    pub fn gaps(&self, open_missing: u64) -> u64 {
        self.lost + open_missing
    }
}

/// A strict client's view of one reliable connection's `sequenceId`s, kept across resumes.
///
/// Within a socket ids must rise by one. A resumed socket may start at or below the last
/// acknowledged id plus one and replay what was seen, in order; that run is the only place a
/// repeat is allowed. The ack it offers is the highest id below which nothing is missing, so a
/// frame that overtook a missing one never acknowledges it away.
#[derive(Debug, Default, Clone)]
pub struct Sequence {
    largest: u64,
    missing: BTreeSet<u64>,
    next: Option<u64>,
    replaying: bool,
    acked: u64,
    /// The totals over every connection so far.
    pub counts: SequenceCounts,
}

impl Sequence {
    /// A new connection: ids start again at 1; what the old one never received stays lost.
    pub fn fresh(&mut self) {
        self.counts.lost += self.missing.len() as u64;
        self.largest = 0;
        self.missing.clear();
        self.next = None;
        self.replaying = false;
        self.acked = 0;
    }

    /// The same connection on a new socket: a replay may follow.
    pub fn resumed(&mut self) {
        self.next = None;
        self.replaying = true;
    }

    /// Takes the frame numbered `id`.
    pub fn take(&mut self, id: u64) -> Take {
        self.counts.frames += 1;
        let in_run = self.next.is_none_or(|next| id == next);
        if !in_run {
            self.replaying = false;
        }
        self.next = Some(self.next.unwrap_or(0).max(id + 1));
        if id > self.largest {
            let skipped = id - self.largest - 1;
            self.counts.skipped += skipped;
            self.missing.extend(self.largest + 1..id);
            self.largest = id;
            self.replaying = false;
            Take::New
        } else if self.missing.remove(&id) {
            if self.replaying {
                Take::New
            } else {
                self.counts.late += 1;
                Take::Late
            }
        } else if self.replaying {
            self.counts.replayed += 1;
            Take::Replayed
        } else {
            self.counts.repeats += 1;
            Take::Repeat
        }
    }

    /// Ids below the largest that never arrived on this connection.
    pub fn open_missing(&self) -> u64 {
        self.missing.len() as u64
    }

    /// The highest id with nothing missing below it.
    pub fn contiguous(&self) -> u64 {
        self.missing.first().map_or(self.largest, |first| first - 1)
    }

    /// Frames received in order and not acknowledged yet.
    pub fn unacked(&self) -> u64 {
        self.contiguous().saturating_sub(self.acked)
    }

    /// The `sequenceAck` to send, if there is anything new to acknowledge; marks it sent.
    pub fn ack(&mut self) -> Option<u64> {
        let contiguous = self.contiguous();
        (contiguous > self.acked).then(|| {
            self.acked = contiguous;
            contiguous
        })
    }

    /// The last `sequenceAck` sent on this connection.
    pub fn acked(&self) -> u64 {
        self.acked
    }
}

/// Where a chat message reached a member from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A live `message` event.
    Live,
    /// `GET /api/chats/{id}/messages?after=` after a fresh connection.
    Refill,
}

/// What one member's inbox counted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InboxCounts {
    /// Live `message` events of the chat.
    pub live_frames: u64,
    /// Live events of a seq not seen before.
    pub live_new: u64,
    /// Messages first seen in a history refill.
    pub refilled: u64,
    /// Refilled messages already seen (the refill starts at the watermark; allowed).
    pub refill_overlap: u64,
    /// Live events of a seq already seen (raw duplicate frames; dropped by seq).
    pub raw_duplicates: u64,
    /// Live events of a new seq below one already seen live (fan-out is not serialised).
    pub late: u64,
    /// A clientKey seen under a second seq: one message shown twice.
    pub key_conflicts: u64,
    /// A seq seen with a second clientKey: two messages under one number.
    pub seq_conflicts: u64,
}

/// One member's messages of the chat, de-duplicated by seq as the desktop app does.
#[derive(Debug, Default, Clone)]
pub struct Inbox {
    watermark: u64,
    above: BTreeSet<u64>,
    by_seq: HashMap<u64, String>,
    by_key: HashMap<String, u64>,
    highest_live: u64,
    /// What it counted.
    pub counts: InboxCounts,
}

impl Inbox {
    /// Records message `seq` with `key`; `true` if it is new.
    pub fn receive(&mut self, seq: u64, key: &str, source: Source) -> bool {
        if source == Source::Live {
            self.counts.live_frames += 1;
        }
        if let Some(known) = self.by_seq.get(&seq) {
            if known != key {
                self.counts.seq_conflicts += 1;
            }
            match source {
                Source::Live => self.counts.raw_duplicates += 1,
                Source::Refill => self.counts.refill_overlap += 1,
            }
            return false;
        }
        if self.by_key.get(key).is_some_and(|other| *other != seq) {
            self.counts.key_conflicts += 1;
        }
        self.by_key.entry(key.to_owned()).or_insert(seq);
        self.by_seq.insert(seq, key.to_owned());
        match source {
            Source::Live => {
                self.counts.live_new += 1;
                if seq < self.highest_live {
                    self.counts.late += 1;
                }
                self.highest_live = self.highest_live.max(seq);
            }
            Source::Refill => self.counts.refilled += 1,
        }
        if seq > self.watermark {
            self.above.insert(seq);
            while self.above.remove(&(self.watermark + 1)) {
                self.watermark += 1;
            }
        }
        true
    }

    /// Every seq from 1 up to this one has been seen: where a refill starts.
    pub fn watermark(&self) -> u64 {
        self.watermark
    }

    /// Whether `seq` has been seen.
    pub fn has(&self, seq: u64) -> bool {
        self.by_seq.contains_key(&seq)
    }

    /// How many distinct messages it holds.
    pub fn delivered(&self) -> u64 {
        self.by_seq.len() as u64
    }
}

/// One message a sender created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    /// The sender's index.
    pub sender: usize,
    /// How often it went out on a socket.
    pub attempts: u32,
    /// Wall-clock ms of the latest attempt.
    pub last_attempt_ms: i64,
    /// The seq of the first ok reply.
    pub acked: Option<u64>,
    /// Which attempt was current when that reply came.
    pub acked_on_attempt: u32,
    /// Ok replies in all (a retry or a resend answers again).
    pub ok_replies: u32,
    /// An ok reply named another seq than the first one.
    pub conflicting: bool,
}

/// What every sender created and was told, by clientKey.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    /// Every created message.
    pub sends: BTreeMap<String, Sent>,
    /// Error replies by code.
    pub refusals: BTreeMap<String, u64>,
    /// Failed acks by error name.
    pub failed_acks: BTreeMap<String, u64>,
}

impl Ledger {
    /// `sender` created the message `key`.
    pub fn created(&mut self, key: &str, sender: usize) {
        self.sends.entry(key.to_owned()).or_insert(Sent {
            sender,
            ..Sent::default()
        });
    }

    /// `key` went out (again) at wall-clock `now_ms`.
    pub fn attempt(&mut self, key: &str, now_ms: i64) {
        if let Some(sent) = self.sends.get_mut(key) {
            sent.attempts += 1;
            sent.last_attempt_ms = now_ms;
        }
    }

    /// An ok reply for `key` named `seq`; `true` if it is the first.
    pub fn ok(&mut self, key: &str, seq: u64) -> bool {
        let Some(sent) = self.sends.get_mut(key) else {
            return false;
        };
        sent.ok_replies += 1;
        match sent.acked {
            Some(first) => {
                sent.conflicting |= first != seq;
                false
            }
            None => {
                sent.acked = Some(seq);
                sent.acked_on_attempt = sent.attempts;
                true
            }
        }
    }

    /// An error reply with `code`.
    pub fn refused(&mut self, code: &str) {
        *self.refusals.entry(code.to_owned()).or_default() += 1;
    }

    /// A failed ack named `error`.
    pub fn failed_ack(&mut self, error: &str) {
        *self.failed_acks.entry(error.to_owned()).or_default() += 1;
    }

    /// Messages created.
    pub fn sent(&self) -> u64 {
        self.sends.len() as u64
    }

    /// Messages with an ok reply.
    pub fn acked(&self) -> u64 {
        self.sends.values().filter(|s| s.acked.is_some()).count() as u64
    }
}

/// One message of the stored history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its seq.
    pub seq: u64,
    /// Its clientKey.
    pub key: String,
    /// The server's wall-clock ms when it was stored.
    pub sent_at: i64,
}

/// The figures of one scenario, and what they prove.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Messages created.
    pub sent: u64,
    /// Messages with an ok reply.
    pub acked: u64,
    /// Created, never acknowledged.
    pub unacked: u64,
    /// Messages in the history.
    pub stored: u64,
    /// ClientKeys stored more than once.
    pub stored_twice: u64,
    /// Stored messages no sender created (or not acknowledged to their sender).
    pub stored_not_acked: u64,
    /// Acknowledged messages missing from the history.
    pub acked_not_stored: u64,
    /// Acknowledged with another seq than stored, or answered with two seqs.
    pub seq_mismatch: u64,
    /// Stored by an attempt whose reply never came; a retry brought the same seq back.
    pub acked_by_retry: u64,
    /// Messages that went out more than once.
    pub retried: u64,
    /// Seqs missing between 1 and the highest stored.
    pub history_holes: u64,
    /// Stored (or acknowledged) messages missing from the store or from some member.
    pub lost: u64,
    /// Stored messages each member lacks.
    pub lost_by_member: Vec<u64>,
    /// Messages stored twice plus messages a member holds twice (after de-duplication by seq).
    pub duplicated: u64,
}

/// Judges the senders' `ledger` against the `history` and every member's inbox.
pub fn judge(ledger: &Ledger, history: &[Stored], inboxes: &[&Inbox]) -> Verdict {
    let mut keys: HashMap<&str, Vec<&Stored>> = HashMap::new();
    for stored in history {
        keys.entry(stored.key.as_str()).or_default().push(stored);
    }
    let seqs: BTreeSet<u64> = history.iter().map(|s| s.seq).collect();
    let highest = seqs.last().copied().unwrap_or(0);
    let mut verdict = Verdict {
        sent: ledger.sent(),
        acked: ledger.acked(),
        stored: history.len() as u64,
        history_holes: highest - seqs.len() as u64,
        ..Verdict::default()
    };
    verdict.unacked = verdict.sent - verdict.acked;
    verdict.stored_twice = keys.values().filter(|v| v.len() > 1).count() as u64;
    let mut lost: BTreeSet<u64> = BTreeSet::new();
    let mut lost_unstored = 0;
    for (key, sent) in &ledger.sends {
        if sent.attempts > 1 {
            verdict.retried += 1;
        }
        let Some(seq) = sent.acked else { continue };
        match keys.get(key.as_str()).and_then(|v| v.first()) {
            None => {
                verdict.acked_not_stored += 1;
                lost_unstored += 1;
            }
            Some(stored) => {
                if stored.seq != seq || sent.conflicting {
                    verdict.seq_mismatch += 1;
                }
                if sent.attempts > 1 && stored.sent_at < sent.last_attempt_ms {
                    verdict.acked_by_retry += 1;
                }
            }
        }
    }
    verdict.stored_not_acked = keys
        .keys()
        .filter(|key| ledger.sends.get(**key).is_none_or(|s| s.acked.is_none()))
        .count() as u64;
    for inbox in inboxes {
        let missing: Vec<u64> = seqs.iter().copied().filter(|s| !inbox.has(*s)).collect();
        verdict.lost_by_member.push(missing.len() as u64);
        lost.extend(missing);
        verdict.duplicated += inbox.counts.key_conflicts + inbox.counts.seq_conflicts;
    }
    verdict.duplicated += verdict.stored_twice;
    verdict.lost = lost.len() as u64 + lost_unstored;
    verdict
}
