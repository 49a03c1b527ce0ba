//! One load-client connection per protocol: connecting (and joining a group), the frame that
//! publishes a payload, and finding benchmark payloads in what arrives. Payloads are plain text,
//! `BENCH|<step>|<sent ns>|xxxx…`, found by scanning the frame rather than parsing it, so the client
//! spends as little CPU as possible per delivery (it shares the machine with the server).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::servers::{Kind, Server};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
/// The writing half, shared by the publisher and the reader (which answers pings).
pub type Sink = Arc<tokio::sync::Mutex<SplitSink<Ws, Message>>>;
/// The reading half.
pub type Stream = SplitStream<Ws>;

/// Where every benchmark payload starts.
pub const MARKER: &[u8] = b"BENCH|";
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects user number `user` to `server`, in `group` if given, and waits until the server
/// confirmed both.
pub async fn connect(
    server: &Server,
    user: usize,
    group: Option<&str>,
) -> anyhow::Result<(Sink, Stream)> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(server, user, group))
        .await
        .context("handshake timed out")?
}

async fn handshake(
    server: &Server,
    user: usize,
    group: Option<&str>,
) -> anyhow::Result<(Sink, Stream)> {
    let port = server.port;
    let url = match server.kind {
        Kind::Hub => {
            let token = hub_token(server, user, group)?;
            format!("ws://127.0.0.1:{port}/client/hubs/bench?access_token={token}")
        }
        Kind::Nats => format!("ws://127.0.0.1:{port}"),
        Kind::SocketIo => format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"),
    };
    let mut request = url.into_client_request()?;
    if server.kind == Kind::Hub {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "json.webpubsub.azure.v1".parse()?);
    }
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    let (mut sink, mut stream) = ws.split();
    match server.kind {
        Kind::Hub => {
            // The `connected` system frame says the connection (and its groups) is set up.
            wait_for(&mut stream, |frame| {
                frame.contains(r#""event":"connected""#)
            })
            .await?;
        }
        Kind::Nats => {
            wait_for(&mut stream, |frame| frame.starts_with("INFO")).await?;
            let mut hello =
                r#"CONNECT {"verbose":false,"pedantic":false,"echo":false,"protocol":1}"#
                    .to_owned()
                    + "\r\n";
            if let Some(group) = group {
                hello += &format!("SUB {group} 1\r\n");
            }
            hello += "PING\r\n";
            sink.send(Message::text(hello)).await?;
            // PONG after our PING: the server has processed the subscription.
            wait_for(&mut stream, |frame| frame.contains("PONG")).await?;
        }
        Kind::SocketIo => {
            wait_for(&mut stream, |frame| frame.starts_with('0')).await?;
            sink.send(Message::text("40")).await?;
            wait_for(&mut stream, |frame| frame.starts_with("40")).await?;
            if let Some(group) = group {
                sink.send(Message::text(format!(r#"420["join","{group}"]"#)))
                    .await?;
                wait_for(&mut stream, |frame| frame.starts_with("430")).await?;
            }
        }
    }
    Ok((Arc::new(tokio::sync::Mutex::new(sink)), stream))
}

async fn wait_for(stream: &mut Stream, done: impl Fn(&str) -> bool) -> anyhow::Result<()> {
    while let Some(message) = stream.next().await {
        let message = message?;
        let text = match &message {
            Message::Text(text) => text.as_str(),
            Message::Binary(bytes) => std::str::from_utf8(bytes).unwrap_or(""),
            Message::Close(frame) => bail!("closed during the handshake: {frame:?}"),
            _ => continue,
        };
        if done(text) {
            return Ok(());
        }
    }
    bail!("the connection ended during the handshake")
}

fn hub_token(server: &Server, user: usize, group: Option<&str>) -> anyhow::Result<String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mut claims = serde_json::json!({
        "aud": format!("http://127.0.0.1:{}/client/hubs/bench", server.port),
        "sub": format!("user{user}"),
        "iat": now,
        "exp": now + 3600,
        "role": ["webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"],
    });
    if let Some(group) = group {
        claims["webpubsub.group"] = serde_json::json!([group]);
    }
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(server.key.as_bytes()),
    )?)
}

/// The frame that publishes `payload` to `group` (reaching everyone in it but the sender).
pub fn publish(kind: Kind, group: &str, payload: &str) -> Message {
    match kind {
        Kind::Hub => Message::text(format!(
            r#"{{"type":"sendToGroup","group":"{group}","dataType":"text","data":"{payload}","noEcho":true}}"#
        )),
        Kind::Nats => Message::text(format!("PUB {group} {}\r\n{payload}\r\n", payload.len())),
        Kind::SocketIo => Message::text(format!(r#"42["pub","{group}","{payload}"]"#)),
    }
}

/// What a payload carries: the rate step it belongs to, when it was sent, and an id unique within
/// the step (so a lost delivery and a duplicate cannot cancel out in the checksum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The rate step.
    pub step: u64,
    /// Nanoseconds since the run's clock started.
    pub sent_ns: u64,
    /// Unique within the step, from 1.
    pub id: u64,
}

/// A payload of `size` bytes: `BENCH|step|sent_ns|id|` padded with `x`.
pub fn payload(stamp: Stamp, size: usize) -> String {
    let mut text = format!("BENCH|{}|{}|{}|", stamp.step, stamp.sent_ns, stamp.id);
    let pad = size.saturating_sub(text.len());
    text.extend(std::iter::repeat_n('x', pad));
    text
}

/// Every complete payload stamp in `frame`. Returns where the bytes that may start a stamp cut
/// off by the frame's end begin: the caller keeps them and puts them in front of the next frame
/// (NATS may split its stream anywhere).
pub fn stamps(frame: &[u8], mut found: impl FnMut(Stamp)) -> usize {
    let mut offset = 0;
    while let Some(at) = find(&frame[offset..], MARKER) {
        let start = offset + at;
        let mut rest = &frame[start + MARKER.len()..];
        let mut fields = [None; 3];
        for field in &mut fields {
            let (value, after) = number(rest);
            if after.first() != Some(&b'|') {
                return start;
            }
            *field = value;
            rest = &after[1..];
        }
        if let [Some(step), Some(sent_ns), Some(id)] = fields {
            found(Stamp { step, sent_ns, id });
        }
        offset = frame.len() - rest.len();
    }
    frame.len().saturating_sub(MARKER.len() - 1).max(offset)
}

/// What a reader must answer to keep the connection alive, if anything.
pub fn keepalive(kind: Kind, frame: &[u8]) -> Option<&'static str> {
    match kind {
        Kind::Nats if find(frame, b"PING\r\n").is_some() && find(frame, MARKER).is_none() => {
            Some("PONG\r\n")
        }
        Kind::SocketIo if frame == b"2" => Some("3"),
        _ => None,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn number(bytes: &[u8]) -> (Option<u64>, &[u8]) {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let value = std::str::from_utf8(&bytes[..digits])
        .ok()
        .and_then(|s| s.parse().ok());
    (value, &bytes[digits..])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_the_size_asked_and_their_stamps_come_back() {
        let first = Stamp {
            step: 3,
            sent_ns: 123_456,
            id: 1,
        };
        let second = Stamp {
            step: 3,
            sent_ns: 9,
            id: 2,
        };
        let p = payload(first, 2048);
        assert_eq!(p.len(), 2048);
        let frame = format!(
            "MSG g1 1 2048\r\n{p}\r\nMSG g1 1 2048\r\n{}\r\n",
            payload(second, 2048)
        );
        let mut seen = Vec::new();
        stamps(frame.as_bytes(), |stamp| seen.push(stamp));
        assert_eq!(seen, [first, second]);

        // Cut anywhere, with the carried bytes in front of the rest, every stamp is seen once.
        for cut in 1..200 {
            let bytes = frame.as_bytes();
            let mut seen = Vec::new();
            let keep = stamps(&bytes[..cut], |stamp| seen.push(stamp));
            let mut next = bytes[keep..cut].to_vec();
            next.extend_from_slice(&bytes[cut..]);
            stamps(&next, |stamp| seen.push(stamp));
            assert_eq!(seen, [first, second], "cut at {cut}");
        }
    }

    #[test]
    fn keepalives_are_answered() {
        assert_eq!(keepalive(Kind::SocketIo, b"2"), Some("3"));
        assert_eq!(keepalive(Kind::Nats, b"PING\r\n"), Some("PONG\r\n"));
        assert_eq!(keepalive(Kind::Hub, b"{}"), None);
    }
}
