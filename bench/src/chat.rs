//! The full chat path under load: people signed in to a real `chatr-backend` (local mode, its
//! embedded hub, SQLite on disk) send `sendMessage` events in chats of 10; each message is checked,
//! stored, acknowledged and fanned out by the backend. Measures messages in (acknowledged, i.e.
//! stored) per second, deliveries per second and end-to-end latency, and checks afterwards that
//! every acknowledged message is in the history. Compared in the same run with the hub-only path
//! (members publishing straight to the group), which shows what persistence costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt, stream};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::process::Command;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::client::{self, Sink};
use crate::servers::{TempDir, first_line, usage_of};

/// One signed-in person with an open connection.
struct Person {
    sink: Sink,
    session: Value,
}

/// What one rate step of the chat path measured.
pub struct ChatStep {
    /// Offered messages per second.
    pub rate: u64,
    /// Messages acknowledged (stored) per second.
    pub stored_per_second: f64,
    /// Deliveries per second.
    pub deliveries_per_second: f64,
    /// Deliveries that should have arrived, and did.
    pub expected: u64,
    /// Deliveries that arrived.
    pub received: u64,
    /// Refused or failed sends.
    pub errors: u64,
    /// Send → receipt, microseconds.
    pub latency: Histogram<u64>,
    /// Backend (with its hub) CPU microseconds per stored message.
    pub cpu_us_per_message: f64,
}

struct Counters {
    step: AtomicU64,
    acked: AtomicU64,
    errors: AtomicU64,
    received: AtomicU64,
    latency: std::sync::Mutex<Histogram<u64>>,
    base: Instant,
}

/// Runs the chat path: `people` in chats of `chat_size`, stepping through `rates`.
pub async fn run(
    root: &std::path::Path,
    people: usize,
    chat_size: usize,
    payload: usize,
    seconds: u64,
    rates: &[u64],
    p99_limit: Duration,
) -> anyhow::Result<Vec<ChatStep>> {
    let binary = root.join("target/release/chatr-backend");
    if !binary.exists() {
        bail!("build it first: cargo build --release -p chatr-backend");
    }
    let data = TempDir::new("chat")?;
    let mut backend = Command::new(binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(data.0.join("chatr.db"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let line = first_line(&mut backend).await?;
    let base = line.rsplit(' ').next().context("no URL")?.trim().to_owned();
    let pid = backend.id().context("the backend exited")?;

    let http = reqwest::Client::new();
    let signed_in: Vec<anyhow::Result<Value>> = stream::iter(0..people)
        .map(|i| sign_in(&http, &base, i))
        .buffer_unordered(32)
        .collect()
        .await;
    let counters = Arc::new(Counters {
        step: AtomicU64::new(0),
        acked: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        received: AtomicU64::new(0),
        latency: std::sync::Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3)?),
        base: Instant::now(),
    });
    let mut everyone = Vec::with_capacity(people);
    for session in signed_in {
        everyone.push(connect(session?, counters.clone()).await?);
    }
    eprintln!("chat path: {people} people signed in and connected");

    // Chats of `chat_size`: the first member creates, the others join.
    let mut chats: Vec<(String, Vec<usize>)> = Vec::new();
    for (number, members) in (0..people)
        .collect::<Vec<_>>()
        .chunks(chat_size)
        .enumerate()
    {
        let created = setup_request(
            &http,
            &base,
            &everyone[members[0]],
            "createChat",
            json!({"name": format!("bench {number}")}),
        )
        .await?;
        let chat_id = created["chat"]["id"]
            .as_str()
            .context("no chat id")?
            .to_owned();
        for &member in &members[1..] {
            setup_request(
                &http,
                &base,
                &everyone[member],
                "joinChat",
                json!({"chatId": chat_id}),
            )
            .await?;
        }
        chats.push((chat_id, members.to_vec()));
    }
    eprintln!("chat path: {} chats of {chat_size}", chats.len());

    let everyone = Arc::new(everyone);
    let mut steps = Vec::new();
    let mut total_acked = 0;
    for (number, &rate) in rates.iter().enumerate() {
        let step = number as u64 + 1;
        counters.step.store(step, Ordering::SeqCst);
        for counter in [&counters.acked, &counters.errors, &counters.received] {
            counter.store(0, Ordering::SeqCst);
        }
        let before = usage_of(&format!("/proc/{pid}"))?;
        let per_chat = rate as f64 / chats.len() as f64;
        let started = Instant::now();
        let tasks: Vec<_> = chats
            .iter()
            .enumerate()
            .map(|(c, (chat_id, members))| {
                let (everyone, counters, chat_id, members) =
                    (everyone.clone(), counters.clone(), chat_id.clone(), members.clone());
                let period = Duration::from_secs_f64(1.0 / per_chat);
                let offset = period.mul_f64(c as f64 / chats.len() as f64);
                tokio::spawn(async move {
                    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
                    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                    let mut sent = 0usize;
                    while started.elapsed() < Duration::from_secs(seconds) {
                        ticks.tick().await;
                        // Members take turns, so nobody hits the per-person rate limit.
                        let person = &everyone[members[sent % members.len()]];
                        sent += 1;
                        let stamp = counters.base.elapsed().as_nanos() as u64;
                        let text = client::payload(
                            client::Stamp { step, sent_ns: stamp, id: sent as u64 },
                            payload,
                        );
                        // Ack ids are unique per connection across steps.
                        let ack_id = step * 1_000_000 + sent as u64;
                        let frame = json!({"type": "event", "event": "sendMessage", "ackId": ack_id,
                            "dataType": "json", "data": {"chatId": chat_id, "clientKey": format!("{step}-{c}-{sent}"), "text": text}});
                        if person.sink.lock().await.send(Message::text(frame.to_string())).await.is_err() {
                            break;
                        }
                    }
                    sent as u64
                })
            })
            .collect();
        let mut published = 0;
        for task in tasks {
            published += task.await?;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let drain = Instant::now() + Duration::from_secs(5);
        while (counters.acked.load(Ordering::SeqCst) + counters.errors.load(Ordering::SeqCst)
            < published
            || counters.received.load(Ordering::SeqCst)
                < counters.acked.load(Ordering::SeqCst) * chat_size as u64)
            && Instant::now() < drain
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let after = usage_of(&format!("/proc/{pid}"))?;
        let acked = counters.acked.load(Ordering::SeqCst);
        total_acked += acked;
        let latency = {
            let mut h = counters
                .latency
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let copy = h.clone();
            h.reset();
            copy
        };
        let result = ChatStep {
            rate,
            stored_per_second: acked as f64 / elapsed,
            deliveries_per_second: counters.received.load(Ordering::SeqCst) as f64 / elapsed,
            expected: acked * chat_size as u64,
            received: counters.received.load(Ordering::SeqCst),
            errors: counters.errors.load(Ordering::SeqCst),
            latency,
            cpu_us_per_message: (after.cpu_seconds - before.cpu_seconds) * 1e6
                / acked.max(1) as f64,
        };
        eprintln!(
            "chat path @ {rate:>6} msg/s: {:>7.0} stored/s, {:>8.0} deliveries/s, p50 {:.1} ms, p99 {:.1} ms, {}/{} delivered, {} errors, {:.0} µs CPU per message",
            result.stored_per_second,
            result.deliveries_per_second,
            result.latency.value_at_quantile(0.5) as f64 / 1000.0,
            result.latency.value_at_quantile(0.99) as f64 / 1000.0,
            result.received,
            result.expected,
            result.errors,
            result.cpu_us_per_message,
        );
        let healthy = result.errors == 0
            && result.received == result.expected
            && result.latency.value_at_quantile(0.99) <= p99_limit.as_micros() as u64;
        steps.push(result);
        if !healthy {
            break;
        }
    }
    counters.step.store(0, Ordering::SeqCst);

    // Every acknowledged message is in the history: the chats' last sequence numbers add up.
    let mut stored = 0;
    for (chat_id, members) in &chats {
        let latest: Value = http
            .get(format!("{base}/api/chats/{chat_id}/messages?limit=1"))
            .bearer_auth(
                everyone[members[0]].session["sessionToken"]
                    .as_str()
                    .unwrap_or_default(),
            )
            .send()
            .await?
            .json()
            .await?;
        stored += latest[0]["seq"].as_u64().unwrap_or(0);
    }
    eprintln!("chat path: {stored} messages in the history, {total_acked} acknowledged");
    if stored != total_acked {
        bail!("{total_acked} messages were acknowledged but {stored} are stored");
    }
    Ok(steps)
}

/// The local provider's device flow, then the token exchange.
async fn sign_in(http: &reqwest::Client, base: &str, i: usize) -> anyhow::Result<Value> {
    Ok(chatr_backend::local_client::sign_in(http, base, &format!("Person {i}")).await?)
}

async fn connect(session: Value, counters: Arc<Counters>) -> anyhow::Result<Person> {
    let mut request = session["url"]
        .as_str()
        .context("no client URL")?
        .into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "json.webpubsub.azure.v1".parse()?);
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    let (sink, mut stream) = ws.split();
    let sink: Sink = Arc::new(tokio::sync::Mutex::new(sink));
    tokio::spawn(async move {
        while let Some(Ok(Message::Text(text))) = stream.next().await {
            let bytes = text.as_bytes();
            if text.starts_with(r#"{"type":"ack""#) || text.contains(r#""type":"ack""#) {
                let ok = text.contains(r#""success":true"#);
                let counter = if ok {
                    &counters.acked
                } else {
                    &counters.errors
                };
                if counters.step.load(Ordering::Relaxed) != 0 {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                continue;
            }
            if !text.contains(r#""chatEvent":"message""#) {
                continue;
            }
            let now = counters.base.elapsed().as_nanos() as u64;
            let current = counters.step.load(Ordering::Relaxed);
            client::stamps(
                bytes,
                |client::Stamp {
                     step,
                     sent_ns: sent,
                     ..
                 }| {
                    if step == current && current != 0 {
                        counters.received.fetch_add(1, Ordering::Relaxed);
                        let mut h = counters
                            .latency
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        h.saturating_record((now.saturating_sub(sent) / 1_000).max(1));
                    }
                },
            );
        }
    });
    Ok(Person { sink, session })
}

/// Sends a set-up event (create, join) and waits until the caller's view shows it done.
async fn setup_request(
    http: &reqwest::Client,
    base: &str,
    person: &Person,
    event: &str,
    data: Value,
) -> anyhow::Result<Value> {
    let frame = json!({"type": "event", "event": event, "dataType": "json", "data": data});
    person
        .sink
        .lock()
        .await
        .send(Message::text(frame.to_string()))
        .await?;
    let token = person.session["sessionToken"].as_str().unwrap_or_default();
    for _ in 0..200 {
        let chats: Value = http
            .get(format!("{base}/api/chats"))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        let found = chats.as_array().into_iter().flatten().find(|view| {
            view["member"] == true
                && match event {
                    "createChat" => view["name"] == data["name"],
                    _ => view["id"] == data["chatId"],
                }
        });
        if let Some(view) = found {
            // `GET /api/chats` flattens the chat into the view.
            return Ok(json!({"chat": view}));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("{event} did not take effect")
}
