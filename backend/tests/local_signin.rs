//! The local sign-in provider end to end over HTTP (in-process): a device grant started, approved on
//! the verification page, redeemed and refreshed, with the RFC 8628 errors along the way; and its
//! hardening: per-client limits, foreign pages and hosts refused, the page's anti-forgery token and
//! headers, rotating refresh tokens with reuse detection, revocation (RFC 7009).

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use base64::Engine;
use chatr_backend::{AppState, Config, app};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use chatr_backend::local_client::DEVICE_GRANT;

fn state() -> AppState {
    let mut config = Config::local("http://127.0.0.1:7071");
    // Let the test poll back to back without `slow_down`.
    config.grant_timing.interval = Duration::ZERO;
    AppState::new(config).unwrap()
}

/// What a request is sent with: the peer address, and extra headers.
#[derive(Clone, Default)]
struct Via<'a> {
    peer: Option<&'a str>,
    headers: Vec<(&'a str, &'a str)>,
}

fn from_peer(peer: &str) -> Via<'_> {
    Via {
        peer: Some(peer),
        headers: Vec::new(),
    }
}

async fn send(
    state: &AppState,
    mut request: Request<Body>,
    from: &Via<'_>,
) -> (StatusCode, HeaderMap, String) {
    if let Some(peer) = from.peer {
        let addr: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(addr));
    }
    for (name, value) in &from.headers {
        request.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn post_form_from(
    state: &AppState,
    path: &str,
    form: &[(&str, &str)],
    from: &Via<'_>,
) -> (StatusCode, HeaderMap, String) {
    let body = serde_urlencoded::to_string(form).unwrap();
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    send(state, request, from).await
}

async fn post_form(state: &AppState, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let (status, _, body) = post_form_from(state, path, form, &Via::default()).await;
    (status, body)
}

async fn get_from(state: &AppState, path: &str, from: &Via<'_>) -> (StatusCode, HeaderMap, String) {
    send(state, Request::get(path).body(Body::empty()).unwrap(), from).await
}

async fn get(state: &AppState, path: &str) -> (StatusCode, String) {
    let (status, _, body) = get_from(state, path, &Via::default()).await;
    (status, body)
}

/// The verification page's cookie (`name=value`) and form token, as a browser would keep them.
async fn form_credentials(state: &AppState, user_code: &str) -> (String, String) {
    let (status, headers, page) = get_from(
        state,
        &format!(
            "/api/auth/local/verify?{}",
            serde_urlencoded::to_string([("user_code", user_code)]).unwrap()
        ),
        &Via::default(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let cookie = headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = chatr_backend::local_client::form_token(&page)
        .unwrap()
        .to_owned();
    (cookie, token)
}

/// Submits the verification form as the person at `peer` would (page loaded first).
async fn submit(
    state: &AppState,
    user_code: &str,
    name: &str,
    action: &str,
    peer: &str,
) -> (StatusCode, HeaderMap, String) {
    let (cookie, token) = form_credentials(state, user_code).await;
    let from = Via {
        peer: Some(peer),
        headers: vec![("cookie", cookie.as_str())],
    };
    post_form_from(
        state,
        "/api/auth/local/verify",
        &[
            ("user_code", user_code),
            ("name", name),
            ("action", action),
            ("csrf", token.as_str()),
        ],
        &from,
    )
    .await
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

/// The claims of a JWT, read without checking it (the backend checks; the test only looks).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn start(state: &AppState) -> Value {
    let (status, body) = post_form(
        state,
        "/api/auth/local/device",
        &[("client_id", "chatr-desktop")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    json(&body)
}

#[tokio::test]
async fn a_device_grant_is_approved_on_the_page_and_redeemed() {
    let state = state();
    let grant = start(&state).await;
    assert_eq!(
        grant["verification_uri"],
        "http://127.0.0.1:7071/api/auth/local/verify"
    );
    let device_code = grant["device_code"].as_str().unwrap();
    let user_code = grant["user_code"].as_str().unwrap();

    let poll = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", device_code),
        ("client_id", "chatr-desktop"),
    ];
    let (status, body) = post_form(&state, "/api/auth/local/token", &poll).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&body)["error"], "authorization_pending");

    let (status, page) = get(
        &state,
        &format!("/api/auth/local/verify?user_code={user_code}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("value=\"{user_code}\"")));

    let (status, _, done) = submit(
        &state,
        user_code,
        "<script>alert(1)</script> Ada",
        "approve",
        "127.0.0.1:50000",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !done.contains("<script>"),
        "the name must be escaped: {done}"
    );
    assert!(done.contains("&lt;script&gt;"));

    let (status, body) = post_form(&state, "/api/auth/local/token", &poll).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tokens = json(&body);
    assert_eq!(tokens["token_type"], "Bearer");
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert!(access["sub"].as_str().unwrap().starts_with("local:"));
    assert_eq!(access["name"], "<script>alert(1)</script> Ada");
    assert_eq!(access["provider"], "local");

    // The grant is spent.
    let (_, body) = post_form(&state, "/api/auth/local/token", &poll).await;
    assert_eq!(json(&body)["error"], "expired_token");

    // A refresh keeps the same user.
    let (status, body) = post_form(
        &state,
        "/api/auth/local/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", "chatr-desktop"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        claims(json(&body)["access_token"].as_str().unwrap())["sub"],
        access["sub"]
    );
}

#[tokio::test]
async fn a_denied_grant_says_access_denied() {
    let state = state();
    let grant = start(&state).await;
    let (status, _, _) = submit(
        &state,
        grant["user_code"].as_str().unwrap(),
        "",
        "deny",
        "127.0.0.1:50000",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = post_form(
        &state,
        "/api/auth/local/token",
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", grant["device_code"].as_str().unwrap()),
            ("client_id", "chatr-desktop"),
        ],
    )
    .await;
    assert_eq!(json(&body)["error"], "access_denied");
}

#[tokio::test]
async fn polling_too_fast_is_slowed_down() {
    let state = AppState::new(Config::local("http://127.0.0.1:7071")).unwrap();
    let grant = start(&state).await;
    let poll = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", grant["device_code"].as_str().unwrap()),
        ("client_id", "chatr-desktop"),
    ];
    let (_, first) = post_form(&state, "/api/auth/local/token", &poll).await;
    assert_eq!(json(&first)["error"], "authorization_pending");
    let (_, second) = post_form(&state, "/api/auth/local/token", &poll).await;
    assert_eq!(json(&second)["error"], "slow_down");
}

#[tokio::test]
async fn bad_requests_get_oauth_errors() {
    let state = state();
    let (status, body) =
        post_form(&state, "/api/auth/local/device", &[("client_id", "evil")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json(&body)["error"], "invalid_client");

    let (status, body) = post_form(
        &state,
        "/api/auth/local/token",
        &[("grant_type", "password"), ("client_id", "chatr-desktop")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&body)["error"], "unsupported_grant_type");

    let (_, body) = post_form(
        &state,
        "/api/auth/local/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "forged.token.value"),
            ("client_id", "chatr-desktop"),
        ],
    )
    .await;
    assert_eq!(json(&body)["error"], "invalid_grant");

    let (status, _, page) = submit(
        &state,
        "\"><img src=x onerror=alert(1)>",
        "Ada",
        "approve",
        "127.0.0.1:50000",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!page.contains("<img"), "the code must be escaped: {page}");
}

#[tokio::test]
async fn local_signin_is_off_unless_configured() {
    let mut config = Config::local("https://chatr.example.com");
    config.local_signin = false;
    let state = AppState::new(config).unwrap();
    let (status, _) = post_form(
        &state,
        "/api/auth/local/device",
        &[("client_id", "chatr-desktop")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&state, "/api/auth/local/verify").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

// --- Hardening ---

const REAL_USER: &str = "192.0.2.10:50000";

async fn start_from(state: &AppState, from: &Via<'_>) -> (StatusCode, HeaderMap, String) {
    post_form_from(
        state,
        "/api/auth/local/device",
        &[("client_id", "chatr-desktop")],
        from,
    )
    .await
}

async fn redeem(state: &AppState, grant: &Value) -> Value {
    let (status, body) = post_form(
        state,
        "/api/auth/local/token",
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", grant["device_code"].as_str().unwrap()),
            ("client_id", "chatr-desktop"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    json(&body)
}

/// Signs "Ada" in: the token response.
async fn signed_in(state: &AppState) -> Value {
    let grant = start(state).await;
    let (status, _, _) = submit(
        state,
        grant["user_code"].as_str().unwrap(),
        "Ada",
        "approve",
        REAL_USER,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    redeem(state, &grant).await
}

async fn refresh(state: &AppState, token: &str) -> (StatusCode, Value) {
    let (status, body) = post_form(
        state,
        "/api/auth/local/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", "chatr-desktop"),
        ],
    )
    .await;
    (status, json(&body))
}

#[tokio::test]
async fn a_flood_from_one_address_does_not_lock_out_anyone_else() {
    let state = state();
    let flooder = from_peer("203.0.113.7:40000");
    let mut refused = 0;
    for _ in 0..1000 {
        let (status, headers, body) = start_from(&state, &flooder).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(json(&body)["error"], "slow_down");
            assert!(headers.contains_key(header::RETRY_AFTER));
            refused += 1;
        } else {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    assert_eq!(refused, 990, "one address may hold 10 waiting sign-ins");
    // The same network over IPv6 counts as one client too; another address signs in as usual.
    let (status, _, body) = start_from(&state, &from_peer(REAL_USER)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let grant = json(&body);
    let (status, _, _) = submit(
        &state,
        grant["user_code"].as_str().unwrap(),
        "Ada",
        "approve",
        REAL_USER,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    redeem(&state, &grant).await;
}

#[tokio::test]
async fn sign_in_forms_refuse_pages_of_other_sites() {
    let state = state();
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![
            ("sec-fetch-site", "same-site"),
            ("origin", "http://localhost:8000"),
        ],
    ] {
        let from = Via {
            peer: Some(REAL_USER),
            headers: headers.clone(),
        };
        let (status, _, body) = start_from(&state, &from).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}: {body}");
        assert_eq!(json(&body)["error"], "access_denied");
    }
    // The page itself (same origin) and clients that are no browser pass.
    let grant = start(&state).await;
    let (cookie, token) = form_credentials(&state, grant["user_code"].as_str().unwrap()).await;
    let form = [
        ("user_code", grant["user_code"].as_str().unwrap()),
        ("name", "Ada"),
        ("action", "approve"),
        ("csrf", token.as_str()),
    ];
    let foreign = Via {
        peer: Some(REAL_USER),
        headers: vec![
            ("cookie", cookie.as_str()),
            ("host", "127.0.0.1:7071"),
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
    };
    let (status, _, _) = post_form_from(&state, "/api/auth/local/verify", &form, &foreign).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let same_origin = Via {
        peer: Some(REAL_USER),
        headers: vec![
            ("cookie", cookie.as_str()),
            ("host", "127.0.0.1:7071"),
            ("origin", "http://127.0.0.1:7071"),
            ("sec-fetch-site", "same-origin"),
        ],
    };
    let (status, _, body) =
        post_form_from(&state, "/api/auth/local/verify", &form, &same_origin).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    redeem(&state, &grant).await;
}

#[tokio::test]
async fn guessing_user_codes_is_throttled_but_the_real_code_still_works() {
    let state = state();
    let grant = start(&state).await;
    let guesser = "198.51.100.3:40000";
    let mut statuses = Vec::new();
    for i in 0..12 {
        let code = format!("BCDF-{:04}", i);
        let (status, headers, page) = submit(&state, &code, "Eve", "approve", guesser).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(page.contains("too many attempts"), "{page}");
            let wait: u64 = headers[header::RETRY_AFTER]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(wait >= 1);
        }
        statuses.push(status);
    }
    assert_eq!(&statuses[..10], &[StatusCode::BAD_REQUEST; 10]);
    assert_eq!(&statuses[10..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
    // Throttled, the guesser gets no answer about the right code either.
    let (status, _, _) = submit(
        &state,
        grant["user_code"].as_str().unwrap(),
        "Eve",
        "approve",
        guesser,
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // The person the code belongs to is not slowed down, and the code was not spent.
    let (status, _, _) = submit(
        &state,
        grant["user_code"].as_str().unwrap(),
        "Ada",
        "approve",
        REAL_USER,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let tokens = redeem(&state, &grant).await;
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["name"],
        "Ada"
    );
}

#[tokio::test]
async fn the_verification_page_cannot_be_framed_or_submitted_without_its_token() {
    let state = state();
    let grant = start(&state).await;
    let user_code = grant["user_code"].as_str().unwrap();
    let (_, headers, page) = get_from(
        &state,
        &format!("/api/auth/local/verify?user_code={user_code}"),
        &Via::default(),
    )
    .await;
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "style-src 'sha256-",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("SameSite=Strict") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let token = chatr_backend::local_client::form_token(&page)
        .unwrap()
        .to_owned();
    let nonce = cookie.split(';').next().unwrap().to_owned();

    let poll = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", grant["device_code"].as_str().unwrap()),
        ("client_id", "chatr-desktop"),
    ];
    let (_, other_cookie_headers, _) =
        get_from(&state, "/api/auth/local/verify", &Via::default()).await;
    let other_nonce = other_cookie_headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let forged = format!("{}0", &token[..token.len() - 1]);
    for (cookie, csrf) in [
        (None, None),
        (Some(nonce.as_str()), None),
        (None, Some(token.as_str())),
        (Some(nonce.as_str()), Some(forged.as_str())),
        (Some(other_nonce.as_str()), Some(token.as_str())),
    ] {
        let mut form = vec![
            ("user_code", user_code),
            ("name", "Mallory"),
            ("action", "approve"),
        ];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let from = Via {
            peer: Some(REAL_USER),
            headers: cookie.map(|c| ("cookie", c)).into_iter().collect(),
        };
        let (status, headers, page) =
            post_form_from(&state, "/api/auth/local/verify", &form, &from).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{cookie:?} {csrf:?}");
        assert!(page.contains("expired"), "{page}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        // Nothing was approved.
        let (_, body) = post_form(&state, "/api/auth/local/token", &poll).await;
        assert_eq!(json(&body)["error"], "authorization_pending");
    }
    // With the page's own token it works.
    let from = Via {
        peer: Some(REAL_USER),
        headers: vec![("cookie", nonce.as_str())],
    };
    let (status, _, _) = post_form_from(
        &state,
        "/api/auth/local/verify",
        &[
            ("user_code", user_code),
            ("name", "Ada"),
            ("action", "approve"),
            ("csrf", token.as_str()),
        ],
        &from,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_sign_in() {
    let state = state();
    let first = signed_in(&state).await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let (status, second) = refresh(&state, r1).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2, "every refresh hands out a new refresh token");
    assert_eq!(
        claims(second["access_token"].as_str().unwrap())["sub"],
        claims(first["access_token"].as_str().unwrap())["sub"]
    );
    let (status, third) = refresh(&state, r2).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    let r3 = third["refresh_token"].as_str().unwrap().to_owned();

    // Someone replays r1 (a stolen copy): refused, and the whole sign-in ends, r3 included.
    let (status, reused) = refresh(&state, r1).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reused["error"], "invalid_grant");
    let (status, after) = refresh(&state, &r3).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(after["error"], "invalid_grant");
}

#[tokio::test]
async fn a_revoked_refresh_token_is_dead_and_the_endpoint_is_advertised() {
    let state = state();
    let (_, body) = get(&state, "/api/auth/providers").await;
    let providers = json(&body);
    assert_eq!(
        providers[0]["revocationUrl"],
        "http://127.0.0.1:7071/api/auth/local/revoke"
    );
    let tokens = signed_in(&state).await;
    let token = tokens["refresh_token"].as_str().unwrap();
    let revoke = |token: &str| {
        let form = [
            ("token", token.to_owned()),
            ("token_type_hint", "refresh_token".to_owned()),
            ("client_id", "chatr-desktop".to_owned()),
        ];
        let state = state.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(&state, "/api/auth/local/revoke", &form).await
        }
    };
    let (status, _) = revoke(token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = refresh(&state, token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"], "invalid_grant");
    // Revoking again, or garbage, is fine (RFC 7009 §2.2); an access token cannot be revoked.
    assert_eq!(revoke(token).await.0, StatusCode::OK);
    assert_eq!(revoke("garbage").await.0, StatusCode::OK);
    let (status, body) = revoke(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&body)["error"], "unsupported_token_type");
}

#[tokio::test]
async fn refresh_state_survives_a_restart_on_the_same_database() {
    let dir = std::env::temp_dir().join(format!(
        "chatr-local-signin-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("chatr.db");
    let secret = b"a restart keeps this secret: 32+ bytes".to_vec();
    let open = || {
        let mut config = Config::local("http://127.0.0.1:7071");
        config.grant_timing.interval = Duration::ZERO;
        config.database = Some(database.clone());
        config.session_secret = secret.clone();
        AppState::new(config).unwrap()
    };
    let before = open();
    let r1 = signed_in(&before).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, second) = refresh(&before, &r1).await;
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    drop(before);

    let after = open();
    let (status, third) = refresh(&after, &r2).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    // The used one is still known as used after the restart.
    let (status, _) = refresh(&after, &r1).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    drop(after);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_old_stateless_refresh_token_is_accepted_once() {
    let mut config = Config::local("http://127.0.0.1:7071");
    config.session_secret = b"0123456789abcdef0123456789abcdef".to_vec();
    let state = AppState::new(config).unwrap();
    let old =
        chatr_backend::identity::tokens::TokenIssuer::new(b"0123456789abcdef0123456789abcdef")
            .issue(
                chatr_backend::identity::tokens::Kind::LocalRefresh,
                "local:old",
                "Ada\u{202E}",
                "local",
                std::time::SystemTime::now(),
            )
            .unwrap();
    let (status, moved) = refresh(&state, &old).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let access = claims(moved["access_token"].as_str().unwrap());
    assert_eq!(access["sub"], "local:old");
    assert_eq!(access["name"], "Ada");
    let new = moved["refresh_token"].as_str().unwrap();
    assert!(new.starts_with("r1."));
    // The old token again: reuse, so the new one dies too.
    assert_eq!(refresh(&state, &old).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(refresh(&state, new).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn requests_for_foreign_hosts_are_refused_before_any_handler() {
    let state = state();
    for host in [
        "evil.example:7071",
        "127.0.0.1.nip.io:7071",
        "localhost:9999",
    ] {
        let from = Via {
            peer: Some(REAL_USER),
            headers: vec![("host", host)],
        };
        let (status, _, body) = start_from(&state, &from).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(json(&body)["error"].is_string());
        let (status, _, _) = get_from(&state, "/api/health", &from).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}");
    }
    for host in ["127.0.0.1:7071", "localhost:7071", "[::1]:7071"] {
        let from = Via {
            peer: Some(REAL_USER),
            headers: vec![("host", host)],
        };
        let (status, _, _) = get_from(&state, "/api/health", &from).await;
        assert_eq!(status, StatusCode::OK, "{host}");
    }
    // A deployment without local sign-in (behind a proxy that rewrites Host) is not checked,
    // unless hosts are configured.
    let mut config = Config::local("https://chatr.example.com");
    config.local_signin = false;
    let remote = AppState::new(config.clone()).unwrap();
    let proxied = Via {
        peer: None,
        headers: vec![("host", "chatr-func.azurewebsites.net")],
    };
    assert_eq!(
        get_from(&remote, "/api/health", &proxied).await.0,
        StatusCode::OK
    );
    config.allowed_hosts = vec!["gateway.internal".into()];
    let pinned = AppState::new(config).unwrap();
    assert_eq!(
        get_from(&pinned, "/api/health", &proxied).await.0,
        StatusCode::MISDIRECTED_REQUEST
    );
    let via_gateway = Via {
        peer: None,
        headers: vec![("host", "gateway.internal:8080")],
    };
    assert_eq!(
        get_from(&pinned, "/api/health", &via_gateway).await.0,
        StatusCode::OK
    );
}
