//! The fault suite: "a message the server acknowledged is stored and reaches every member, live
//! or on reconnect, exactly once, in order" — under load, through faults.
//!
//! A standalone `chatr-hub` and a `chatr-backend serve` in remote mode (SQLite on a file) run as
//! processes of their own. Six members of one chat — four senders at a combined 600 messages/s
//! and two pure receivers — each hold a reliable WebSocket and behave like the desktop app:
//! `sequenceAck` as they go, resume a dropped connection with its reconnection token, and when
//! the resume is refused start afresh and fill the gap from `GET …/messages?after=`; senders
//! retry every unanswered message with the same clientKey. Each member is also a strict client:
//! a `sequenceId` skipped, repeated outside a replay or arriving late is counted, never dropped
//! silently.
//!
//! Scenarios (each its own test, run one at a time across processes):
//! - cuts: every member drops its socket abruptly (FIN or RST, no close frame) at seeded points
//!   and resumes; one receiver stays away long enough that its resume must be refused;
//! - backend kills: `kill -9` of the backend twice mid-traffic, restarted on the same port and
//!   database;
//! - hub restart: `kill -9` of the hub, started again on the same port with the same key: every
//!   connection is gone; afterwards a chat is created and joined (the stale-record path).
//!
//! Each prints its figures, then asserts: nothing acknowledged is lost, nothing is duplicated
//! (after de-duplication by seq; raw duplicate frames are printed), the stored set is the
//! acknowledged set with the acknowledged seqs, and no member saw a `sequenceId` gap, repeat or
//! reordering. Waiting is always for a condition with a generous deadline, never a fixed sleep.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use support::faults::member::{Command, Member, Plan, Report, Shared, history};
use support::faults::procs::{Backend, Hub, free_port};
use support::faults::tally::{self, Inbox, Ledger, Sequence, Source, Stored, Take, Verdict};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

const NAMES: [&str; 6] = ["ada", "bob", "cyd", "dee", "eve", "fay"];
const SENDERS: usize = 4;
/// Per sender: 4 × 150 = 600 messages/s offered.
const RATE: f64 = 150.0;
/// Per sender: 8 s at the full rate.
const PER_SENDER: u64 = 1200;
/// Senders stop creating messages after this long even if the machine is too slow for the rate.
const SENDING_CAP: Duration = Duration::from_secs(14);
/// How long every created message may take to be acknowledged once sending stops.
const DRAIN: Duration = Duration::from_secs(30);
/// How long every member may take to hold every stored message once they are all acknowledged.
const DELIVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Cuts,
    BackendKills,
    HubRestart,
}

struct Outcome {
    name: &'static str,
    verdict: Verdict,
    reports: Vec<Report>,
    /// Replies to requests made after the faults (hub restart only).
    probes: Vec<(String, Value)>,
}

/// One scenario at a time, across the test processes nextest starts: each loads both cores.
fn serial() -> std::fs::File {
    let lock = std::fs::File::create(std::env::temp_dir().join("chatr-faults.lock")).unwrap();
    lock.lock().unwrap();
    lock
}

/// Polls `done` every few ms until it holds or `deadline` passes; whether it held.
async fn wait_for(deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

async fn ask(commands: &mpsc::Sender<Command>, event: &'static str, data: Value) -> Value {
    let (tx, rx) = oneshot::channel();
    commands
        .send(Command {
            event,
            data,
            reply: tx,
        })
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), rx)
        .await
        .map_or_else(
            |_| json!({"status": "no reply within 30 s"}),
            Result::unwrap,
        )
}

async fn scenario(name: &'static str, fault: Fault, seed: u64) -> Outcome {
    let _serial = serial();
    let begun = Instant::now();
    let seed = std::env::var("CHATR_FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(seed);
    let dir = std::env::temp_dir().join(format!("chatr-faults-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let backend_port = free_port();
    let backend_url = format!("http://127.0.0.1:{backend_port}");
    let key = chatr_hub::random_access_key();
    let mut hub = Hub::start(free_port(), &key, &backend_url, dir.join("hub.log")).await;
    let mut backend = Backend::start(
        backend_port,
        dir.join("chatr.db"),
        &hub.connection_string,
        dir.join("backend.log"),
    )
    .await;

    // Set-up, without faults: everyone signs in and connects, Ada creates the chat, all join.
    let shared = Arc::new(Shared::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut members = Vec::new();
    let mut token = String::new();
    for (index, who) in NAMES.iter().enumerate() {
        let session = support::sign_in(&backend.url, who).await;
        if index == 0 {
            token = session["sessionToken"].as_str().unwrap().to_owned();
        }
        let mut member = Member::new(index, who, &session, &backend.url, shared.clone());
        member.connect(&stop_rx).await;
        members.push(member);
    }
    let created = members[0]
        .request("createChat", json!({"name": "Faults"}))
        .await;
    assert_eq!(created["status"], "ok", "{created}");
    let chat = created["chat"]["id"].as_str().unwrap().to_owned();
    for member in &mut members[1..] {
        let joined = member.request("joinChat", json!({"chatId": chat})).await;
        assert_eq!(joined["status"], "ok", "{joined}");
    }
    let inboxes: Vec<Arc<std::sync::Mutex<Inbox>>> =
        members.iter().map(|m| m.inbox.clone()).collect();

    // Traffic, with the scenario's faults.
    let mut commands = Vec::new();
    let mut tasks = Vec::new();
    for (index, mut member) in members.into_iter().enumerate() {
        member.follow(&chat);
        let plan = Plan {
            sends: if index < SENDERS { PER_SENDER } else { 0 },
            rate: RATE,
            cut_every: (fault == Fault::Cuts).then_some((250, 900)),
            long_absence: (fault == Fault::Cuts && index == NAMES.len() - 1).then_some(1),
            seed: seed.wrapping_mul(31).wrapping_add(index as u64),
        };
        let (tx, rx) = mpsc::channel(4);
        commands.push(tx);
        tasks.push(tokio::spawn(member.run(plan, rx, stop_rx.clone())));
    }
    let total = SENDERS as u64 * PER_SENDER;
    let started = Instant::now();
    let setup = started - begun;
    let cap = started + SENDING_CAP;
    let acked = || shared.acked.load(Ordering::SeqCst);
    let mut notes = String::new();
    let mut probes = Vec::new();
    match fault {
        Fault::Cuts => {}
        Fault::BackendKills => {
            for share in [3, 6] {
                wait_for(cap, || acked() >= total * share / 10).await;
                backend.kill9();
                let down = Instant::now();
                let at = acked();
                backend.restart().await;
                write!(
                    notes,
                    " backend kill -9 at {at} acked (down {} ms);",
                    down.elapsed().as_millis()
                )
                .unwrap();
            }
        }
        Fault::HubRestart => {
            wait_for(cap, || acked() >= total * 45 / 100).await;
            let before = shared.fresh_connections.load(Ordering::SeqCst);
            hub.kill9();
            let down = Instant::now();
            let at = acked();
            hub.restart().await;
            write!(
                notes,
                " hub kill -9 at {at} acked (down {} ms);",
                down.elapsed().as_millis()
            )
            .unwrap();
            let everyone = wait_for(Instant::now() + Duration::from_secs(40), || {
                shared.fresh_connections.load(Ordering::SeqCst) >= before + NAMES.len() as u64
            })
            .await;
            write!(
                notes,
                " all reconnected afresh: {everyone} after {} ms;",
                down.elapsed().as_millis()
            )
            .unwrap();
            // Requests that admit a user's connections to a chat, after the crash.
            let made = ask(
                &commands[1],
                "createChat",
                json!({"name": "After the crash"}),
            )
            .await;
            probes.push(("createChat".to_owned(), made.clone()));
            if let Some(id) = made["chat"]["id"].as_str() {
                let joined = ask(&commands[5], "joinChat", json!({"chatId": id})).await;
                probes.push(("joinChat".to_owned(), joined));
            }
        }
    }
    let all_created = wait_for(cap, || shared.ledger().sent() >= total).await;
    shared.stop_sending.store(true, Ordering::SeqCst);
    let sending = started.elapsed();
    let drained = wait_for(Instant::now() + DRAIN, || {
        let ledger = shared.ledger();
        ledger.acked() == ledger.sent()
    })
    .await;
    let drain = started.elapsed() - sending;

    // What the store holds, then until every member holds all of it (live or refilled).
    let stored = history(&backend.url, &token, &chat).await;
    let delivered = wait_for(Instant::now() + DELIVERY, || {
        inboxes.iter().all(|inbox| {
            let inbox = inbox.lock().unwrap();
            stored.iter().all(|m| inbox.has(m.seq))
        })
    })
    .await;
    stop_tx.send(true).unwrap();
    let mut reports = Vec::new();
    for task in tasks {
        reports.push(
            tokio::time::timeout(Duration::from_secs(40), task)
                .await
                .expect("a member stops within 40 s")
                .unwrap(),
        );
    }
    let ledger = shared.ledger().clone();
    let verdict = tally::judge(
        &ledger,
        &stored,
        &reports.iter().map(|r| &r.inbox).collect::<Vec<_>>(),
    );
    let sent = ledger.sent();
    println!(
        "\n== faults/{name} (seed {seed}): set-up {:.1} s; {sent} sent in {:.1} s = {:.0} msg/s \
         offered (target {:.0}; all created: {all_created}); drained in {:.1} s ({drained}); \
         delivered to all: {delivered} after {:.1} s more;{notes}",
        setup.as_secs_f64(),
        sending.as_secs_f64(),
        sent as f64 / sending.as_secs_f64(),
        RATE * SENDERS as f64,
        drain.as_secs_f64(),
        (started.elapsed() - sending - drain).as_secs_f64(),
    );
    print!("{}", figures(&verdict, &ledger, &reports));
    for (what, reply) in &probes {
        println!("   after the restart, {what}: {reply}");
    }
    if problems(&verdict, &reports, &probes).is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("   hub and backend logs kept in {}", dir.display());
    }
    Outcome {
        name,
        verdict,
        reports,
        probes,
    }
}

/// The table of figures.
fn figures(v: &Verdict, ledger: &Ledger, reports: &[Report]) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "   sent {} | acked {} | stored {} | unacked {} | lost {} | duplicated {} | \
         stored twice {} | stored not acked {} | acked not stored {} | seq mismatch {} | \
         history holes {} | retried {} | stored by an earlier attempt, same seq on retry {}",
        v.sent,
        v.acked,
        v.stored,
        v.unacked,
        v.lost,
        v.duplicated,
        v.stored_twice,
        v.stored_not_acked,
        v.acked_not_stored,
        v.seq_mismatch,
        v.history_holes,
        v.retried,
        v.acked_by_retry,
    )
    .unwrap();
    writeln!(
        out,
        "   error replies {:?} | failed acks {:?}",
        ledger.refusals, ledger.failed_acks
    )
    .unwrap();
    writeln!(
        out,
        "   {:<4} {:>9} {:>6} {:>6} {:>7} {:>6} {:>5} {:>4} {:>4} {:>7} | {:>6} {:>6} {:>5} {:>4} {:>5} | {:>4} {:>6} {:>7} {:>5} {:>5} closes",
        "who", "delivered", "live", "refill", "raw-dup", "overlp", "lost", "dup", "late",
        "no-rply", "frames", "replay", "gaps", "ooo", "rept", "cuts", "resume", "refused",
        "fresh", "noRdy",
    )
    .unwrap();
    for (report, lost) in reports.iter().zip(&v.lost_by_member) {
        let c = &report.inbox.counts;
        let s = &report.sequence;
        let st = &report.stats;
        writeln!(
            out,
            "   {:<4} {:>9} {:>6} {:>6} {:>7} {:>6} {:>5} {:>4} {:>4} {:>7} | {:>6} {:>6} {:>5} {:>4} {:>5} | {:>4} {:>6} {:>7} {:>5} {:>5} {:?}",
            report.name,
            report.inbox.delivered(),
            c.live_new,
            c.refilled,
            c.raw_duplicates,
            c.refill_overlap,
            lost,
            c.key_conflicts + c.seq_conflicts,
            c.late,
            st.ack_without_reply,
            s.frames,
            s.replayed,
            s.gaps(report.open_missing),
            s.late,
            s.repeats,
            st.cuts,
            st.resumed,
            st.resume_refused,
            st.fresh,
            st.ready_missing,
            st.closed_by_server,
        )
        .unwrap();
    }
    out
}

/// Every broken promise, in words.
fn problems(v: &Verdict, reports: &[Report], probes: &[(String, Value)]) -> Vec<String> {
    let mut found = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            found.push(what);
        }
    };
    check(
        v.unacked == 0,
        format!("{} messages never acknowledged", v.unacked),
    );
    check(v.lost == 0, format!("{} messages lost", v.lost));
    check(v.duplicated == 0, format!("{} duplicated", v.duplicated));
    check(
        v.stored == v.acked && v.stored_not_acked == 0 && v.acked_not_stored == 0,
        format!(
            "stored {} != acked {} (stored not acked {}, acked not stored {})",
            v.stored, v.acked, v.stored_not_acked, v.acked_not_stored
        ),
    );
    check(
        v.seq_mismatch == 0,
        format!("{} acknowledged with another seq", v.seq_mismatch),
    );
    for (report, lost) in reports.iter().zip(&v.lost_by_member) {
        let s = &report.sequence;
        check(*lost == 0, format!("{} lacks {lost} messages", report.name));
        check(
            s.gaps(report.open_missing) == 0 && s.late == 0 && s.repeats == 0 && s.unnumbered == 0,
            format!(
                "{}: sequenceId gaps {}, out of order {}, repeats {}, unnumbered {}",
                report.name,
                s.gaps(report.open_missing),
                s.late,
                s.repeats,
                s.unnumbered
            ),
        );
    }
    for (what, reply) in probes {
        check(
            reply["status"] == "ok",
            format!("{what} after the restart: {reply}"),
        );
    }
    found
}

fn assert_promise_kept(outcome: &Outcome) {
    let found = problems(&outcome.verdict, &outcome.reports, &outcome.probes);
    assert!(
        found.is_empty(),
        "faults/{}: {}",
        outcome.name,
        found.join("; ")
    );
}

fn total(reports: &[Report], field: impl Fn(&Report) -> u64) -> u64 {
    reports.iter().map(field).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_connection_cuts_exactly_once_in_order() {
    let outcome = scenario("cuts", Fault::Cuts, 0x5eed_0001).await;
    let reports = &outcome.reports;
    // The scenario did what it says: many cuts, resumes, and a refused resume refilled.
    let cuts = total(reports, |r| r.stats.cuts);
    let resumed = total(reports, |r| r.stats.resumed);
    let refused = total(reports, |r| r.stats.resume_refused);
    assert!(
        cuts >= 20 && resumed >= 10 && refused >= 1,
        "the test did not exercise its faults: {cuts} cuts, {resumed} resumes, {refused} refused"
    );
    assert!(
        reports[NAMES.len() - 1].inbox.counts.refilled > 0,
        "the long absence was not refilled from the history"
    );
    assert_promise_kept(&outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_two_backend_kills() {
    let outcome = scenario("backend-kills", Fault::BackendKills, 0x5eed_0002).await;
    assert!(
        outcome.verdict.retried > 0,
        "no message needed a retry: the kills missed the traffic"
    );
    assert_promise_kept(&outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_a_hub_restart() {
    let outcome = scenario("hub-restart", Fault::HubRestart, 0x5eed_0003).await;
    for report in &outcome.reports {
        assert!(
            report.stats.fresh >= 2,
            "{} never reconnected afresh after the hub restart",
            report.name
        );
    }
    assert!(!outcome.probes.is_empty(), "no request after the restart");
    assert_promise_kept(&outcome);
}

// The bookkeeping itself: a strict client must flag what a broken service does.

#[test]
fn in_order_frames_and_an_in_order_replay_are_clean() {
    let mut seq = Sequence::default();
    seq.fresh();
    for id in 1..=5 {
        assert_eq!(seq.take(id), Take::New);
    }
    assert_eq!(seq.ack(), Some(5));
    assert_eq!(seq.ack(), None);
    assert_eq!(seq.take(6), Take::New);
    // Cut before acking 6: the hub replays from 6, then goes on.
    seq.resumed();
    assert_eq!(seq.take(6), Take::Replayed);
    assert_eq!(seq.take(7), Take::New);
    assert_eq!(seq.counts.replayed, 1);
    assert_eq!(
        (seq.counts.late, seq.counts.repeats, seq.open_missing()),
        (0, 0, 0)
    );
}

#[test]
fn a_reordered_frame_counts_as_out_of_order_and_is_not_acknowledged_away() {
    let mut seq = Sequence::default();
    seq.fresh();
    assert_eq!(seq.take(1), Take::New);
    assert_eq!(seq.take(3), Take::New);
    assert_eq!(seq.contiguous(), 1, "2 is missing: ack only up to 1");
    assert_eq!(seq.ack(), Some(1));
    assert_eq!(seq.take(2), Take::Late, "late, but handed on");
    assert_eq!(seq.counts.late, 1);
    assert_eq!(seq.ack(), Some(3));
    assert_eq!(seq.open_missing(), 0);
}

#[test]
fn a_repeat_outside_a_replay_and_a_skipped_replay_frame_are_counted() {
    let mut seq = Sequence::default();
    seq.fresh();
    for id in 1..=3 {
        seq.take(id);
    }
    assert_eq!(seq.take(2), Take::Repeat);
    assert_eq!(seq.counts.repeats, 1);
    // A resume that skips a frame never received (4): a gap, lost once the connection is replaced.
    seq.resumed();
    assert_eq!(seq.take(3), Take::Replayed);
    assert_eq!(seq.take(5), Take::New);
    assert_eq!(seq.open_missing(), 1);
    seq.fresh();
    assert_eq!(seq.counts.gaps(seq.open_missing()), 1);
    assert_eq!(seq.take(1), Take::New, "a fresh connection counts from 1");
}

#[test]
fn a_replay_out_of_order_is_not_excused() {
    let mut seq = Sequence::default();
    seq.fresh();
    for id in 1..=4 {
        seq.take(id);
    }
    seq.resumed();
    assert_eq!(seq.take(2), Take::Replayed);
    assert_eq!(
        seq.take(4),
        Take::Repeat,
        "the replay jumped: no longer a replay"
    );
    assert_eq!(seq.take(3), Take::Repeat);
}

#[test]
fn the_inbox_dedupes_by_seq_and_flags_a_message_under_two_seqs() {
    let mut inbox = Inbox::default();
    assert!(inbox.receive(2, "k2", Source::Live));
    assert!(inbox.receive(1, "k1", Source::Live));
    assert_eq!(inbox.counts.late, 1, "fan-out overtook: informative");
    assert!(!inbox.receive(2, "k2", Source::Live));
    assert_eq!(inbox.counts.raw_duplicates, 1);
    assert_eq!(inbox.watermark(), 2);
    assert!(!inbox.receive(2, "k2", Source::Refill));
    assert_eq!(inbox.counts.refill_overlap, 1);
    assert!(inbox.receive(3, "k1", Source::Refill));
    assert_eq!(inbox.counts.key_conflicts, 1, "k1 shown twice");
    assert!(!inbox.receive(1, "other", Source::Live));
    assert_eq!(inbox.counts.seq_conflicts, 1);
    assert_eq!(inbox.delivered(), 3);
}

#[test]
fn the_verdict_finds_lost_duplicated_and_mismatched_messages() {
    let mut ledger = Ledger::default();
    for key in ["a", "b", "c", "d"] {
        ledger.created(key, 0);
        ledger.attempt(key, 100);
    }
    ledger.attempt("d", 200);
    assert!(ledger.ok("a", 1));
    assert!(ledger.ok("b", 2));
    assert!(ledger.ok("c", 9)); // acked, never stored
    assert!(ledger.ok("d", 3));
    assert!(!ledger.ok("d", 3), "a second ok reply is not a second ack");
    let stored = |seq, key: &str, sent_at| Stored {
        seq,
        key: key.into(),
        sent_at,
    };
    let history = [
        stored(1, "a", 50),
        stored(2, "b", 60),
        stored(3, "d", 150), // stored by the first attempt, acked on the retry
        stored(4, "b", 70),  // b stored twice
    ];
    let mut everyone = Inbox::default();
    let mut someone = Inbox::default();
    for m in &history {
        everyone.receive(m.seq, &m.key, Source::Live);
        if m.seq != 2 {
            someone.receive(m.seq, &m.key, Source::Live);
        }
    }
    let verdict = tally::judge(&ledger, &history, &[&everyone, &someone]);
    assert_eq!(verdict.acked_not_stored, 1);
    assert_eq!(verdict.lost_by_member, vec![0, 1]);
    assert_eq!(verdict.lost, 2, "c (not stored) and seq 2 (not delivered)");
    assert_eq!(verdict.stored_twice, 1);
    assert_eq!(
        verdict.duplicated,
        1 + 1,
        "b stored twice, and shown twice by the inbox that has both"
    );
    assert_eq!(verdict.acked_by_retry, 1);
    assert_eq!(verdict.seq_mismatch, 0);
    ledger.ok("a", 7);
    assert_eq!(
        tally::judge(&ledger, &history, &[&everyone]).seq_mismatch,
        1,
        "two seqs for one key"
    );
}
