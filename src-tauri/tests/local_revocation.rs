//! Silent sign-in and sign-out against the embedded backend's local provider, whose refresh tokens
//! rotate at every use: the app keeps the newest one, and signing out (forgetting the account)
//! revokes it at the provider, so the token is dead afterwards.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatr_desktop::auth::device_login;
use chatr_desktop::chat_client::{self, OnRefresh};
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_refresh_token_is_kept_and_sign_out_revokes_it() {
    let local = chatr_backend::local::start(
        ([127, 0, 0, 1], 0).into(),
        None,
        |config| config.grant_timing.interval = Duration::ZERO,
        std::future::pending(),
    )
    .await
    .unwrap();
    let saved: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = saved.clone();
    let on_refresh: OnRefresh =
        Arc::new(move |token: &str| keep.lock().unwrap().push(token.into()));

    let (tx, _events) = mpsc::unbounded_channel();
    let first =
        chat_client::sign_in_local_keeping(&local.backend_url, "Ada", Some(on_refresh.clone()), tx)
            .await
            .unwrap();
    let original = first.refresh_token().unwrap();
    // The provider the app signed in with can revoke.
    assert!(first.provider().revocation_url.is_some());
    first.sign_out(false).await.unwrap();

    // Next start: silent sign-in with the saved token rotates it, and the app keeps the new one.
    let provider = chat_client::providers(&local.backend_url)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "local")
        .unwrap();
    let (tx, _events) = mpsc::unbounded_channel();
    let second = chat_client::sign_in_silently(
        &local.backend_url,
        provider.clone(),
        &original,
        Some(on_refresh),
        tx,
    )
    .await
    .unwrap();
    let rotated = second.refresh_token().unwrap();
    assert_ne!(rotated, original);
    assert_eq!(saved.lock().unwrap().last(), Some(&rotated));

    // Sign out and forget: revoked at the provider, so the kept token no longer signs in.
    assert!(second.sign_out(true).await.unwrap());
    let login = device_login::DeviceLogin::new(provider).unwrap();
    assert!(matches!(
        login.refresh(&rotated).await,
        Err(device_login::Error::Revoked)
    ));
}
