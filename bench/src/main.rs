//! `chatr-bench`: chatr-hub against NATS (WebSocket listener) and socket.io 4 on loopback, with
//! the same workloads, clients and measurements for all three, in one run, printing one table.
//!
//! Workloads: (a) small-group fan-out: N connections in groups, one publisher per group, 2 KB
//! messages, the offered rate stepped up until p99 passes 100 ms or a delivery is lost (the knee);
//! (b) broadcast to one big group, stepped the same way; (c) server memory per idle connection.
//! `chatr-bench chat` runs the full chat path (sendMessage → checks → SQLite → fan-out) through a
//! real chatr-backend and compares it with the hub-only path in the same run.
//! A documented command, not a test: see bench/README.md for how to read the figures.

mod chat;
mod client;
mod report;
mod servers;
mod workload;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use servers::{Kind, Server};
use workload::{Step, Swarm};

/// Load benchmarks of chatr-hub and chatr-backend.
#[derive(Debug, Parser)]
#[command(name = "chatr-bench")]
enum Bench {
    /// chatr-hub vs NATS (ws) vs socket.io: fan-out, broadcast, idle memory.
    Peers(Cli),
    /// The full chat path (sendMessage → store → fan-out) vs the hub-only path.
    Chat(ChatCli),
}

/// Sizes of the peer comparison.
#[derive(Debug, clap::Args)]
struct Cli {
    /// Connections in the fan-out and broadcast workloads.
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// Group size of the fan-out workload.
    #[arg(long, default_value_t = 10)]
    group_size: usize,
    /// Payload bytes per message.
    #[arg(long, default_value_t = 2048)]
    payload: usize,
    /// Seconds each rate step publishes.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Fan-out rates to step through, messages published per second (all groups together).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "2000,5000,10000,15000,20000,30000"
    )]
    fanout_rates: Vec<u64>,
    /// Broadcast rates to step through, messages per second into the one big group.
    #[arg(long, value_delimiter = ',', default_value = "20,50,100,150,200,300")]
    broadcast_rates: Vec<u64>,
    /// Idle connections for the memory workload.
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
    /// The p99 latency that marks the knee, milliseconds.
    #[arg(long, default_value_t = 100)]
    p99_ms: u64,
}

/// Sizes of the chat-path benchmark.
#[derive(Debug, clap::Args)]
struct ChatCli {
    /// People signed in, each with one connection.
    #[arg(long, default_value_t = 1000)]
    people: usize,
    /// People per chat.
    #[arg(long, default_value_t = 10)]
    chat_size: usize,
    /// Message bytes.
    #[arg(long, default_value_t = 2048)]
    payload: usize,
    /// Seconds each rate step sends.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Messages per second to step through (all chats together).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1000,2000,5000,7500,10000"
    )]
    rates: Vec<u64>,
    /// The p99 latency that marks the knee, milliseconds.
    #[arg(long, default_value_t = 50)]
    p99_ms: u64,
}

/// What one server did in one stepped workload.
pub struct Run {
    kind: Kind,
    steps: Vec<Step>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    raise_fd_limit();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    match Bench::parse() {
        Bench::Peers(cli) => peers(&root, &cli).await,
        Bench::Chat(cli) => chat_path(&root, &cli).await,
    }
}

async fn peers(root: &std::path::Path, cli: &Cli) -> anyhow::Result<()> {
    let kinds = [Kind::Hub, Kind::Nats, Kind::SocketIo];
    let limit = Duration::from_millis(cli.p99_ms);
    let mut fanout = Vec::new();
    let mut broadcast = Vec::new();
    for kind in kinds {
        fanout.push(
            stepped(
                kind,
                root,
                cli.connections,
                cli.group_size,
                cli.payload,
                cli.seconds,
                &cli.fanout_rates,
                limit,
            )
            .await?,
        );
        broadcast.push(
            stepped(
                kind,
                root,
                cli.connections,
                cli.connections,
                cli.payload,
                cli.seconds,
                &cli.broadcast_rates,
                limit,
            )
            .await?,
        );
    }
    let mut idle = Vec::new();
    for kind in kinds {
        let server = Server::start(kind, root).await?;
        let per_connection = workload::idle_rss_per_connection(&server, cli.idle).await?;
        eprintln!(
            "{:>10}: {per_connection:.1} KiB per idle connection ({} connections)",
            kind.name(),
            cli.idle
        );
        idle.push((kind, per_connection));
    }
    println!(
        "{}",
        report::table(&cli_summary(cli), &fanout, &broadcast, &idle, limit)
    );
    Ok(())
}

async fn chat_path(root: &std::path::Path, cli: &ChatCli) -> anyhow::Result<()> {
    let limit = Duration::from_millis(cli.p99_ms);
    let steps = chat::run(
        root,
        cli.people,
        cli.chat_size,
        cli.payload,
        cli.seconds,
        &cli.rates,
        limit,
    )
    .await?;
    let hub_only = stepped(
        Kind::Hub,
        root,
        cli.people,
        cli.chat_size,
        cli.payload,
        cli.seconds,
        &cli.rates,
        limit,
    )
    .await?;
    let setup = format!(
        "{} people in chats of {}, {} B messages, {} s per step, SQLite on disk; knee at p99 > {} ms, any loss or any refused send",
        cli.people, cli.chat_size, cli.payload, cli.seconds, cli.p99_ms
    );
    println!("{}", report::chat_table(&setup, &steps, &hub_only, limit));
    Ok(())
}

fn cli_summary(cli: &Cli) -> String {
    format!(
        "{} connections, groups of {}, {} B payloads, {} s per step, knee at p99 > {} ms or any loss; idle: {} connections",
        cli.connections, cli.group_size, cli.payload, cli.seconds, cli.p99_ms, cli.idle
    )
}

/// Steps one server through `rates` until a step is unhealthy.
#[allow(clippy::too_many_arguments)] // the workload's shape, spelled out at each call
async fn stepped(
    kind: Kind,
    root: &std::path::Path,
    connections: usize,
    group_size: usize,
    payload: usize,
    seconds: u64,
    rates: &[u64],
    limit: Duration,
) -> anyhow::Result<Run> {
    let server = Server::start(kind, root).await?;
    let swarm = Swarm::assemble(&server, connections, group_size).await?;
    let mut steps = Vec::new();
    for (number, &rate) in rates.iter().enumerate() {
        let step = swarm
            .step(
                &server,
                number as u64 + 1,
                rate,
                Duration::from_secs(seconds),
                payload,
            )
            .await?;
        eprintln!(
            "{:>10} groups of {group_size:>4} @ {rate:>6} msg/s: {:>8.0} deliveries/s, p50 {:>6.1} ms, p99 {:>7.1} ms, {}/{} delivered (ids {}), server {:.1} µs/delivery, client CPU {:.0}%",
            kind.name(),
            step.deliveries_per_second(),
            step.latency.value_at_quantile(0.5) as f64 / 1000.0,
            step.latency.value_at_quantile(0.99) as f64 / 1000.0,
            step.received,
            step.expected,
            if step.checksum_ok {
                "add up"
            } else {
                "DO NOT add up"
            },
            step.server_us_per_delivery(),
            step.client_cpu / step.seconds * 100.0,
        );
        let healthy = step.healthy(limit);
        steps.push(step);
        if !healthy {
            break;
        }
    }
    swarm.disperse();
    Ok(Run { kind, steps })
}

/// Lets this process (and the servers it starts) hold many sockets.
fn raise_fd_limit() {
    if let Ok((_, hard)) = rlimit::Resource::NOFILE.get() {
        let _ = rlimit::Resource::NOFILE.set(hard, hard);
    }
}
