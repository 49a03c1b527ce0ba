//! Which `Host` the backend answers for, and which browser pages may post to its sign-in forms.
//!
//! **Host check** (against DNS rebinding: a page on `evil.example` whose name is re-pointed to
//! 127.0.0.1 reaches the embedded backend as "same origin"): every request must name one of the
//! hosts this backend serves, else `421` with `{"error": "…"}` before any handler runs. The names
//! come from the configuration ([`AllowedHosts::new`]): the public URL's host and port; when that
//! is a loopback address or `localhost`, also `localhost` on its port; and every `--allowed-host`
//! (the embedded backend adds its listening address). An IP-literal `Host` (`127.0.0.1:7071`,
//! `[::1]:7071`, a LAN address of a server listening on every interface) always passes: a browser
//! sends one only to the very address it connects to, so it cannot be rebound; only DNS names can.
//! The check is on when local sign-in is on or any allowed host is configured, and off otherwise
//! (a deployment behind a proxy that rewrites `Host`, like Azure's, keeps working unchanged).
//!
//! **Foreign pages** ([`from_foreign_page`]): a browser marks a request made by a page with
//! `Origin` and `Sec-Fetch-Site`; the sign-in forms refuse any that comes from another origin.
//! Non-browser clients (the desktop app's HTTP client, scripts) send neither and pass.
//!
//! This module must never look at bodies or credentials.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// A host name (lowercase, IPv6 in brackets) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostPort {
    host: String,
    /// `None`: not given (the scheme's default).
    port: Option<u16>,
}

/// Parses a `Host` header value or URL authority: `name`, `name:port`, `[v6]`, `[v6]:port`.
fn parse_authority(value: &str) -> Option<HostPort> {
    let authority: axum::http::uri::Authority = value.trim().parse().ok()?;
    if authority.as_str().contains('@') {
        return None;
    }
    let host = authority.host().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    Some(HostPort {
        host,
        port: authority.port_u16(),
    })
}

fn ip_of(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// The host names one backend answers for (IP literals always pass).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AllowedHosts {
    /// Exact name and port (`None`: any port).
    exact: Vec<(String, Option<u16>)>,
}

impl AllowedHosts {
    /// The hosts of a backend reached at `public_url`, plus `extra` (`name` for any port, or
    /// `name:port`; the address it listens on belongs here when it differs from the public URL's).
    /// A loopback or unspecified address (`0.0.0.0`: every interface) also allows `localhost` on
    /// its port.
    pub(crate) fn new(public_url: &str, extra: &[String]) -> Self {
        let mut hosts = Self { exact: Vec::new() };
        if let Ok(url) = reqwest::Url::parse(public_url)
            && let Some(host) = url.host_str()
        {
            hosts.add(
                host.trim_end_matches('.').to_ascii_lowercase(),
                url.port_or_known_default(),
            );
        }
        for entry in extra {
            if let Some(parsed) = parse_authority(entry) {
                hosts.add(parsed.host, parsed.port);
            }
        }
        hosts
    }

    fn add(&mut self, host: String, port: Option<u16>) {
        match ip_of(&host) {
            Some(ip) if ip.is_loopback() || ip.is_unspecified() => {
                self.exact.push(("localhost".to_owned(), port));
            }
            Some(_) => {}
            None => self.exact.push((host, port)),
        }
    }

    /// Whether a request whose `Host` is `value` is for us.
    pub(crate) fn allows(&self, value: &str) -> bool {
        let Some(asked) = parse_authority(value) else {
            return false;
        };
        if ip_of(&asked.host).is_some() {
            return true;
        }
        // A `Host` without a port means the scheme's default: 80 or 443.
        let port_matches = |allowed: Option<u16>| match (allowed, asked.port) {
            (None, _) => true,
            (Some(allowed), Some(asked)) => allowed == asked,
            (Some(allowed), None) => allowed == 80 || allowed == 443,
        };
        self.exact
            .iter()
            .any(|(host, port)| *host == asked.host && port_matches(*port))
    }
}

/// The `Host` a request names (HTTP/2 carries it in the URI instead).
fn requested_host(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()))
}

/// Middleware: refuses requests for any host not in `allowed`, with `421` and a JSON error. A
/// request naming no host at all passes: browsers always send one (so rebinding always has one),
/// only HTTP/1.0 tools and in-process tests do not.
pub(crate) async fn check_host(
    State(allowed): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    match requested_host(&request) {
        None => next.run(request).await,
        Some(host) if allowed.allows(&host) => next.run(request).await,
        Some(host) => {
            tracing::warn!(%host, "request for a foreign host refused");
            (
                StatusCode::MISDIRECTED_REQUEST,
                Json(crate::error::ErrorBody {
                    error: "this server does not answer for that host name".into(),
                }),
            )
                .into_response()
        }
    }
}

/// Whether a browser says this request was made by a page of another origin (or a sandboxed or
/// opaque one): `Sec-Fetch-Site` other than `same-origin` / `none`, or an `Origin` that is not
/// the request's own `Host`. A request with neither header (not from a browser page) is not.
pub(crate) fn from_foreign_page(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Some(origin) = origin
        .to_str()
        .ok()
        .and_then(|o| reqwest::Url::parse(o).ok())
    else {
        // "null" (sandboxed, file:, some redirects) or garbage.
        return true;
    };
    let (Some(origin_host), Some(host)) = (
        origin.host_str(),
        text(header::HOST.as_str()).and_then(parse_authority),
    ) else {
        return true;
    };
    let origin_port = origin.port_or_known_default();
    let host_port = host.port.or(origin_port);
    origin_host.trim_end_matches('.').to_ascii_lowercase() != host.host || origin_port != host_port
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_backend_answers_to_its_names_and_ip_literals_only() {
        let hosts = AllowedHosts::new("http://127.0.0.1:7071", &[]);
        for ok in [
            "127.0.0.1:7071",
            "localhost:7071",
            "LOCALHOST:7071",
            "[::1]:7071",
            // IP literals cannot be rebound.
            "127.0.0.1:7072",
            "10.0.0.2:7071",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example:7071",
            "localhost:7072",
            "localhost",
            "127.0.0.1.evil.example:7071",
            "7f000001.nip.io:7071",
            "user@127.0.0.1:7071",
            "",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }

    #[test]
    fn a_public_name_and_configured_hosts_are_allowed() {
        let extra = ["chat.internal".to_owned(), "gateway:8443".to_owned()];
        let hosts = AllowedHosts::new("https://chat.example.com", &extra);
        assert!(hosts.allows("chat.example.com"));
        assert!(hosts.allows("chat.example.com:443"));
        assert!(hosts.allows("Chat.Example.Com."));
        assert!(!hosts.allows("chat.example.com:8080"));
        assert!(hosts.allows("chat.internal:1234"));
        assert!(hosts.allows("gateway:8443"));
        assert!(!hosts.allows("gateway:8444"));
        assert!(!hosts.allows("chat.example.org"));
        // The address it listens on, given as an extra host, brings its loopback aliases.
        let behind_proxy =
            AllowedHosts::new("https://chat.example.com", &["127.0.0.1:7071".into()]);
        assert!(behind_proxy.allows("localhost:7071"));
        assert!(behind_proxy.allows("chat.example.com"));
        assert!(!behind_proxy.allows("localhost:7072"));
    }

    #[test]
    fn every_interface_means_its_addresses_but_no_other_name() {
        let hosts = AllowedHosts::new("http://0.0.0.0:7071", &[]);
        assert!(hosts.allows("192.168.1.5:7071"));
        assert!(hosts.allows("[fe80::1]:7071"));
        assert!(hosts.allows("localhost:7071"));
        assert!(!hosts.allows("rebind.evil.example:7071"));
        assert!(!hosts.allows("my-laptop.local:7071"));
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                *name,
                value
                    .parse()
                    .unwrap_or(axum::http::HeaderValue::from_static("")),
            );
        }
        map
    }

    #[test]
    fn pages_of_other_origins_are_foreign() {
        let host = ("host", "127.0.0.1:7071");
        assert!(!from_foreign_page(&headers(&[host])));
        assert!(!from_foreign_page(&headers(&[
            host,
            ("origin", "http://127.0.0.1:7071"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(!from_foreign_page(&headers(&[
            host,
            ("sec-fetch-site", "none")
        ])));
        for foreign in [
            vec![host, ("origin", "https://evil.example")],
            vec![host, ("origin", "http://127.0.0.1:8000")],
            vec![host, ("origin", "http://localhost:7071")],
            vec![host, ("origin", "null")],
            vec![host, ("sec-fetch-site", "cross-site")],
            vec![host, ("sec-fetch-site", "same-site")],
        ] {
            assert!(from_foreign_page(&headers(&foreign)), "{foreign:?}");
        }
    }
}
