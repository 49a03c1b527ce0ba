//! The workloads: a swarm of connections in groups, publishers driven open-loop at a target rate
//! (a late tick fires at once, so a slow server cannot slow the offered load), and what each
//! step measured. Every reader records latency into its own histogram; they are merged per step.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt, stream};
use hdrhistogram::Histogram;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{self, Sink, Stream};
use crate::servers::{Kind, Server, Usage, own_usage};

/// How many connections open at once while the swarm assembles.
const CONNECT_CONCURRENCY: usize = 200;
/// How long a step waits for stragglers after its publishers stop.
const DRAIN: Duration = Duration::from_secs(2);

/// What one step at one rate measured.
#[derive(Debug)]
pub struct Step {
    /// Messages published per second (offered).
    pub rate: u64,
    /// Deliveries that should have arrived.
    pub expected: u64,
    /// Deliveries that arrived (more than expected: duplicates).
    pub received: u64,
    /// Whether the ids that arrived add up to what was sent (a loss and a duplicate in one step
    /// would leave the count right but not the sum).
    pub checksum_ok: bool,
    /// Seconds the publishers ran.
    pub seconds: f64,
    /// Latency from send to receipt, microseconds.
    pub latency: Histogram<u64>,
    /// Server CPU seconds during the step.
    pub server_cpu: f64,
    /// Load-client CPU seconds during the step.
    pub client_cpu: f64,
}

impl Step {
    /// Deliveries per second that arrived.
    pub fn deliveries_per_second(&self) -> f64 {
        self.received as f64 / self.seconds
    }

    /// Whether every delivery arrived once and p99 stayed within `p99_limit`.
    pub fn healthy(&self, p99_limit: Duration) -> bool {
        self.received == self.expected
            && self.checksum_ok
            && self.latency.value_at_quantile(0.99) <= p99_limit.as_micros() as u64
    }

    /// Server CPU microseconds per delivery.
    pub fn server_us_per_delivery(&self) -> f64 {
        self.server_cpu * 1e6 / self.received.max(1) as f64
    }
}

struct Shared {
    /// The step now measured; stamps of other steps are ignored.
    step: AtomicU64,
    received: AtomicU64,
    /// Sum of the ids received in this step.
    received_sum: AtomicU64,
    histograms: Vec<Mutex<Histogram<u64>>>,
    base: Instant,
}

/// Connections in groups, each group with one publisher.
pub struct Swarm {
    kind: Kind,
    group_size: usize,
    publishers: Vec<(Sink, String)>,
    shared: Arc<Shared>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    // 1 µs to 60 s at 3 significant digits.
    Ok(Histogram::new_with_bounds(1, 60_000_000, 3)?)
}

impl Swarm {
    /// Opens `connections` connections in groups of `group_size` (the last group may be smaller).
    pub async fn assemble(
        server: &Server,
        connections: usize,
        group_size: usize,
    ) -> anyhow::Result<Self> {
        let opened: Vec<anyhow::Result<(usize, Sink, Stream)>> = stream::iter(0..connections)
            .map(|i| async move {
                let group = format!("g{}", i / group_size);
                let (sink, stream) = client::connect(server, i, Some(&group)).await?;
                Ok((i, sink, stream))
            })
            .buffer_unordered(CONNECT_CONCURRENCY)
            .collect()
            .await;
        let shared = Arc::new(Shared {
            step: AtomicU64::new(0),
            received: AtomicU64::new(0),
            received_sum: AtomicU64::new(0),
            histograms: (0..connections)
                .map(|_| histogram().map(Mutex::new))
                .collect::<anyhow::Result<_>>()?,
            base: Instant::now(),
        });
        let mut publishers = Vec::new();
        let mut readers = Vec::new();
        for connection in opened {
            let (i, sink, stream) = connection?;
            if i % group_size == 0 {
                publishers.push((sink.clone(), format!("g{}", i / group_size)));
            }
            readers.push(tokio::spawn(read(
                server.kind,
                i,
                sink,
                stream,
                shared.clone(),
            )));
        }
        Ok(Self {
            kind: server.kind,
            group_size: group_size.min(connections),
            publishers,
            shared,
            readers,
        })
    }

    /// Publishes `rate` messages a second, spread over the groups, for `duration`.
    pub async fn step(
        &self,
        server: &Server,
        number: u64,
        rate: u64,
        duration: Duration,
        payload: usize,
    ) -> anyhow::Result<Step> {
        self.shared.step.store(number, Ordering::SeqCst);
        self.shared.received.store(0, Ordering::SeqCst);
        self.shared.received_sum.store(0, Ordering::SeqCst);
        let next_id = Arc::new(AtomicU64::new(1));
        let expected_sum = Arc::new(AtomicU64::new(0));
        let recipients = self.group_size as u64 - 1;
        let before: (Usage, Usage) = (server.usage()?, own_usage()?);
        let per_group = rate as f64 / self.publishers.len() as f64;
        let published = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let tasks: Vec<_> = self
            .publishers
            .iter()
            .enumerate()
            .map(|(g, (sink, group))| {
                let (sink, group, published, shared) = (
                    sink.clone(),
                    group.clone(),
                    published.clone(),
                    self.shared.clone(),
                );
                let (next_id, expected_sum) = (next_id.clone(), expected_sum.clone());
                let kind = self.kind;
                // Spread the groups' first ticks over one period so they do not fire together.
                let period = Duration::from_secs_f64(1.0 / per_group);
                let offset = period.mul_f64(g as f64 / self.publishers.len() as f64);
                tokio::spawn(async move {
                    let mut ticks =
                        tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
                    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                    let end = started + duration;
                    loop {
                        ticks.tick().await;
                        if Instant::now() >= end {
                            break;
                        }
                        let stamp = client::Stamp {
                            step: number,
                            sent_ns: shared.base.elapsed().as_nanos() as u64,
                            id: next_id.fetch_add(1, Ordering::Relaxed),
                        };
                        let frame = client::publish(kind, &group, &client::payload(stamp, payload));
                        if sink.lock().await.send(frame).await.is_err() {
                            break;
                        }
                        published.fetch_add(1, Ordering::Relaxed);
                        expected_sum.fetch_add(stamp.id * recipients, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await?;
        }
        let seconds = started.elapsed().as_secs_f64();
        let expected = published.load(Ordering::SeqCst) * (self.group_size as u64 - 1);
        let drain_until = Instant::now() + DRAIN;
        while self.shared.received.load(Ordering::SeqCst) < expected && Instant::now() < drain_until
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Late duplicates, if any, still count.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let after: (Usage, Usage) = (server.usage()?, own_usage()?);
        self.shared.step.store(0, Ordering::SeqCst);
        let mut latency = histogram()?;
        for h in &self.shared.histograms {
            let mut h = h.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            latency.add(&*h).ok();
            h.reset();
        }
        Ok(Step {
            rate,
            expected,
            received: self.shared.received.load(Ordering::SeqCst),
            checksum_ok: self.shared.received_sum.load(Ordering::SeqCst)
                == expected_sum.load(Ordering::SeqCst),
            seconds,
            latency,
            server_cpu: after.0.cpu_seconds - before.0.cpu_seconds,
            client_cpu: after.1.cpu_seconds - before.1.cpu_seconds,
        })
    }

    /// Closes every connection.
    pub fn disperse(self) {
        for reader in self.readers {
            reader.abort();
        }
    }
}

async fn read(kind: Kind, index: usize, sink: Sink, mut stream: Stream, shared: Arc<Shared>) {
    let mut carry: Vec<u8> = Vec::new();
    while let Some(Ok(message)) = stream.next().await {
        let bytes: &[u8] = match &message {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
            Message::Close(_) => break,
            _ => continue,
        };
        if let Some(answer) = client::keepalive(kind, bytes) {
            let _ = sink.lock().await.send(Message::text(answer)).await;
            continue;
        }
        let data: &[u8] = if carry.is_empty() {
            bytes
        } else {
            carry.extend_from_slice(bytes);
            &carry
        };
        let now = shared.base.elapsed().as_nanos() as u64;
        let current = shared.step.load(Ordering::Relaxed);
        let mut latencies = Vec::new();
        let mut ids = 0;
        let keep = client::stamps(data, |stamp| {
            if stamp.step == current && current != 0 {
                latencies.push(now.saturating_sub(stamp.sent_ns) / 1_000);
                ids += stamp.id;
            }
        });
        let rest = data[keep..].to_vec();
        carry = rest;
        if !latencies.is_empty() {
            shared
                .received
                .fetch_add(latencies.len() as u64, Ordering::Relaxed);
            shared.received_sum.fetch_add(ids, Ordering::Relaxed);
            let mut h = shared.histograms[index]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for us in latencies {
                h.saturating_record(us.max(1));
            }
        }
    }
}

/// Server memory per idle connection: RSS growth while `connections` connections (no groups) are
/// open, divided by their number, in KiB.
pub async fn idle_rss_per_connection(server: &Server, connections: usize) -> anyhow::Result<f64> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.usage()?.rss_kib;
    let opened: Vec<anyhow::Result<(Sink, Stream)>> = stream::iter(0..connections)
        .map(|i| async move { client::connect(server, i, None).await })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    let mut held = Vec::with_capacity(connections);
    let mut keepers = Vec::new();
    for connection in opened {
        let (sink, mut stream) = connection?;
        let kind = server.kind;
        let answer_to = sink.clone();
        // Keep answering keepalives so no connection is dropped while we measure.
        keepers.push(tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Text(text) = &message
                    && let Some(answer) = client::keepalive(kind, text.as_bytes())
                {
                    let _ = answer_to.lock().await.send(Message::text(answer)).await;
                }
            }
        }));
        held.push(sink);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.usage()?.rss_kib;
    for keeper in keepers {
        keeper.abort();
    }
    drop(held);
    Ok(after.saturating_sub(before) as f64 / connections as f64)
}
