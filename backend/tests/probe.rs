//! `chatr-backend probe URL`, the health check of the container image (it has no shell or curl):
//! exit 0 for a 2xx answer, non-zero for an error status or nobody listening.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod support;

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
    let (mut backend, line) = support::spawn_backend(
        Command::new(env!("CARGO_BIN_EXE_chatr-backend"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn"),
    );
    let url = support::url_of(&line);
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
