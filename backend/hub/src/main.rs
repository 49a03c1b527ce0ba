//! The `chatr-hub` command line.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080")
        .await
        .context("cannot listen")?;
    axum::serve(listener, chatr_hub::app()).await?;
    Ok(())
}
