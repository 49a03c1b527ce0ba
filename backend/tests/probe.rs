//! `chatr-backend probe URL`, the health check of the container image (it has no shell or curl):
//! exit 0 for a 2xx answer, non-zero for an error status or nobody listening.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn probe(url: &str) -> bool {
    Command::new(env!("CARGO_BIN_EXE_chatr-backend"))
        .args(["probe", url])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn probe_passes_only_for_a_healthy_answer() {
    let mut backend = Command::new(env!("CARGO_BIN_EXE_chatr-backend"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(backend.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");

    let healthy = probe(&format!("{url}/api/health"));
    let missing = probe(&format!("{url}/api/no-such-route"));
    backend.kill().unwrap();
    backend.wait().unwrap();
    let gone = probe(&format!("{url}/api/health"));

    assert!(healthy, "a healthy backend failed the probe");
    assert!(!missing, "a 404 passed the probe");
    assert!(!gone, "a stopped backend passed the probe");
}
