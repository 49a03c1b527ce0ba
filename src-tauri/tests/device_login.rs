//! Device-flow sign-in through the `oauth2` crate against the real backend's local provider,
//! started in-process on loopback; the "person" approves on the verification page over HTTP.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::time::Duration;

use chatr_backend::{AppState, Config};
use chatr_desktop::auth::device_login::{DeviceLogin, Error, Provider};

/// Starts a local-mode backend; `tweak` adjusts its configuration. Returns its URL.
async fn backend(tweak: impl FnOnce(&mut Config)) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = Config::local(&url);
    config.grant_timing.interval = Duration::ZERO;
    tweak(&mut config);
    tokio::spawn(chatr_backend::serve(
        listener,
        AppState::new(config).unwrap(),
        std::future::pending(),
    ));
    url
}

/// What a person does on the verification page (load it, then submit its form with the page's
/// anti-forgery token and cookie).
async fn answer(page: &str, user_code: &str, name: &str, action: &str) {
    let http = reqwest::Client::new();
    let form = http.get(page).send().await.unwrap();
    let cookie = form.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = form.text().await.unwrap();
    let csrf = chatr_backend::local_client::form_token(&html).unwrap();
    let response = http
        .post(page)
        .header(reqwest::header::COOKIE, cookie)
        .form(&[
            ("user_code", user_code),
            ("name", name),
            ("action", action),
            ("csrf", csrf),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

async fn short_sleep(_: Duration) {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

#[tokio::test]
async fn signs_in_once_approved_and_refreshes_silently() {
    let url = backend(|_| {}).await;
    let login = DeviceLogin::new(Provider::local(&url)).unwrap();
    let (pending, details) = login.start().await.unwrap();
    assert_eq!(
        pending.verification_uri,
        format!("{url}/api/auth/local/verify")
    );
    assert!(
        pending
            .verification_uri_complete
            .unwrap()
            .contains(&pending.user_code)
    );

    let person = {
        let (page, code) = (pending.verification_uri.clone(), pending.user_code.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            answer(&page, &code, "Ada", "approve").await;
        })
    };
    let tokens = login.wait(&details, short_sleep).await.unwrap();
    person.await.unwrap();
    assert!(!tokens.access_token.is_empty());
    let refresh = tokens.refresh_token.clone().unwrap();

    let again = login.refresh(&refresh).await.unwrap();
    assert!(!again.access_token.is_empty());
    assert!(again.refresh_token.is_some());
}

#[tokio::test]
async fn a_refused_sign_in_says_so() {
    let url = backend(|_| {}).await;
    let login = DeviceLogin::new(Provider::local(&url)).unwrap();
    let (pending, details) = login.start().await.unwrap();
    answer(&pending.verification_uri, &pending.user_code, "", "deny").await;
    let err = login.wait(&details, short_sleep).await.unwrap_err();
    assert!(matches!(err, Error::Denied), "{err}");
}

#[tokio::test]
async fn an_unapproved_code_expires() {
    let url = backend(|config| config.grant_timing.expires_in = Duration::from_secs(1)).await;
    let login = DeviceLogin::new(Provider::local(&url)).unwrap();
    let (_, details) = login.start().await.unwrap();
    let err = tokio::time::timeout(Duration::from_secs(10), login.wait(&details, short_sleep))
        .await
        .expect("polling stops when the code expires")
        .unwrap_err();
    assert!(matches!(err, Error::Expired), "{err}");
}

#[tokio::test]
async fn a_forged_refresh_token_means_signing_in_again() {
    let url = backend(|_| {}).await;
    let login = DeviceLogin::new(Provider::local(&url)).unwrap();
    let err = login.refresh("forged").await.unwrap_err();
    assert!(matches!(err, Error::Revoked), "{err}");
}

#[tokio::test]
async fn an_unreachable_provider_is_reported_as_offline() {
    // Bind and drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let login = DeviceLogin::new(Provider::local(&format!("http://127.0.0.1:{port}"))).unwrap();
    let err = login.start().await.unwrap_err();
    assert!(matches!(err, Error::Offline(_)), "{err}");
}

/// RFC 8628 §3.5: polling faster than the provider's `interval` gets `slow_down`, and the app then
/// waits 5 s longer between polls. The injected sleep records each wait and skips it, so the test
/// polls too fast on purpose and sees the app back off.
#[tokio::test]
async fn slow_down_makes_the_app_poll_less_often() {
    let url = backend(|config| config.grant_timing.interval = Duration::from_secs(2)).await;
    let login = DeviceLogin::new(Provider::local(&url)).unwrap();
    let (pending, details) = login.start().await.unwrap();
    let waits = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Duration>::new()));
    let recorded = waits.clone();
    let polling = tokio::spawn({
        let login = login.clone();
        async move {
            login
                .wait(&details, move |wait| {
                    recorded.lock().unwrap().push(wait);
                    // Far shorter than asked: the provider will say slow_down.
                    tokio::time::sleep(Duration::from_millis(20))
                })
                .await
        }
    });
    // Let a few polls happen, then approve; slept-out intervals are not enforced by the test.
    tokio::time::sleep(Duration::from_millis(300)).await;
    answer(
        &pending.verification_uri,
        &pending.user_code,
        "Ada",
        "approve",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    polling.abort();
    let waits = waits.lock().unwrap().clone();
    assert!(waits.len() >= 2, "the app kept polling: {waits:?}");
    assert_eq!(
        waits[0],
        Duration::from_secs(2),
        "the provider's interval first"
    );
    assert!(
        waits
            .windows(2)
            .any(|w| w[1] >= w[0] + Duration::from_secs(5)),
        "slow_down added 5 s to the wait: {waits:?}"
    );
}
