//! The markdown table the benchmark prints: per workload and server, the knee (the highest rate
//! that was delivered completely with p99 within the limit) with its latencies and costs, and the
//! ratios to NATS and socket.io.

use std::fmt::Write;
use std::time::Duration;

use crate::Run;
use crate::servers::Kind;
use crate::workload::Step;

fn knee(run: &Run, limit: Duration) -> Option<&Step> {
    run.steps.iter().rfind(|s| s.healthy(limit))
}

fn ratio(mine: f64, theirs: Option<f64>) -> String {
    match theirs {
        Some(theirs) if theirs > 0.0 => format!("{:.2}×", mine / theirs),
        _ => "–".into(),
    }
}

fn section(out: &mut String, title: &str, runs: &[Run], limit: Duration) {
    let knee_of = |kind: Kind| {
        runs.iter()
            .find(|r| r.kind == kind)
            .and_then(|r| knee(r, limit))
            .map(Step::deliveries_per_second)
    };
    let _ = writeln!(out, "\n**{title}**\n");
    let _ = writeln!(
        out,
        "| server | knee deliveries/s | p50 ms | p99 ms | max ms | server CPU µs/delivery | server cores used | client cores used | vs NATS | vs socket.io |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    for run in runs {
        match knee(run, limit) {
            Some(step) => {
                let rate = step.deliveries_per_second();
                let _ = writeln!(
                    out,
                    "| {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {} | {} |",
                    run.kind.name(),
                    rate,
                    step.latency.value_at_quantile(0.5) as f64 / 1000.0,
                    step.latency.value_at_quantile(0.99) as f64 / 1000.0,
                    step.latency.max() as f64 / 1000.0,
                    step.server_us_per_delivery(),
                    step.server_cpu / step.seconds,
                    step.client_cpu / step.seconds,
                    ratio(rate, knee_of(Kind::Nats)),
                    ratio(rate, knee_of(Kind::SocketIo)),
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "| {} | below the first step | | | | | | | | |",
                    run.kind.name()
                );
            }
        }
    }
    // Cost at the same offered rate: the highest step every server passed.
    let common = runs
        .iter()
        .map(|r| {
            r.steps
                .iter()
                .filter(|s| s.healthy(limit))
                .map(|s| s.rate)
                .max()
                .unwrap_or(0)
        })
        .min()
        .unwrap_or(0);
    if common > 0 {
        let costs: Vec<String> = runs
            .iter()
            .filter_map(|r| {
                r.steps
                    .iter()
                    .find(|s| s.rate == common)
                    .map(|s| format!("{} {:.1} µs", r.kind.name(), s.server_us_per_delivery()))
            })
            .collect();
        let _ = writeln!(
            out,
            "\nServer CPU per delivery at the same offered rate ({common} msg/s): {}.",
            costs.join(", ")
        );
    }
}

/// The whole report.
pub fn table(
    setup: &str,
    fanout: &[Run],
    broadcast: &[Run],
    idle: &[(Kind, f64)],
    limit: Duration,
) -> String {
    let mut out = format!("chatr-bench: {setup}\n");
    section(&mut out, "(a) small-group fan-out", fanout, limit);
    section(&mut out, "(b) broadcast to one big group", broadcast, limit);
    let _ = writeln!(out, "\n**(c) memory per idle connection**\n");
    let _ = writeln!(out, "| server | RSS KiB per idle connection |");
    let _ = writeln!(out, "|---|---|");
    for (kind, kib) in idle {
        let _ = writeln!(out, "| {} | {kib:.1} |", kind.name());
    }
    out
}

/// The chat-path report: each step of the full path, then the hub-only knee for comparison.
pub fn chat_table(
    setup: &str,
    steps: &[crate::chat::ChatStep],
    hub_only: &Run,
    limit: Duration,
) -> String {
    let mut out = format!(
        "chatr-bench chat: {setup}\n\n**Full chat path (sendMessage → store → fan-out)**\n\n"
    );
    let _ = writeln!(
        out,
        "| offered msg/s | stored msg/s | deliveries/s | p50 ms | p99 ms | max ms | delivered | refused | backend CPU µs/message |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for step in steps {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {}/{} | {} | {:.0} |",
            step.rate,
            step.stored_per_second,
            step.deliveries_per_second,
            step.latency.value_at_quantile(0.5) as f64 / 1000.0,
            step.latency.value_at_quantile(0.99) as f64 / 1000.0,
            step.latency.max() as f64 / 1000.0,
            step.received,
            step.expected,
            step.errors,
            step.cpu_us_per_message,
        );
    }
    let _ = writeln!(
        out,
        "\n**Hub only (members publish straight to the group, nothing stored)**\n"
    );
    let _ = writeln!(
        out,
        "| offered msg/s | deliveries/s | p50 ms | p99 ms | max ms | delivered | hub CPU µs/delivery |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for step in &hub_only.steps {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.1} | {:.1} | {:.1} | {}/{} | {:.1} |",
            step.rate,
            step.deliveries_per_second(),
            step.latency.value_at_quantile(0.5) as f64 / 1000.0,
            step.latency.value_at_quantile(0.99) as f64 / 1000.0,
            step.latency.max() as f64 / 1000.0,
            step.received,
            step.expected,
            step.server_us_per_delivery(),
        );
    }
    let _ = writeln!(
        out,
        "\n(The knee is the last step with every delivery, no refusal and p99 within {} ms.)",
        limit.as_millis()
    );
    out
}
