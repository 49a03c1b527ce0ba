//! Device-flow sign-in with a real OpenID Connect provider (npm `oidc-provider`, started from
//! `backend/testkit`), end to end: the backend advertises the issuer (`GET /api/auth/providers`),
//! the app's `DeviceLogin` gets a code, a "person" approves it on the provider's own pages, the app
//! receives an id_token and a refresh token, and the backend verifies the id_token (discovery +
//! JWKS) and signs the person in as `oidc:<sub>`. Stands in for Entra ID, which works the same way.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chatr_backend::identity::oidc::OidcProvider;
use chatr_desktop::auth::device_login::{DeviceLogin, Error};
use chatr_protocol::{AuthProvider, TokenKind};
use serde_json::{Value, json};

/// The running `oidc-provider`, stopped when dropped.
struct Issuer {
    url: String,
    child: Child,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_issuer() -> Issuer {
    let testkit = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../backend/testkit");
    assert!(
        testkit.join("node_modules/oidc-provider").exists(),
        "oidc-provider is not installed: run `npm ci --prefix backend/testkit`"
    );
    let mut child = Command::new("node")
        .args(["-r", "./exit-with-parent.cjs", "oidc-device.mjs"])
        .current_dir(&testkit)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line:?}");
    Issuer { url, child }
}

/// The embedded backend (hub included) with the issuer configured as provider `oidc`; it stops
/// when the handle drops.
async fn backend(issuer: &str) -> chatr_backend::local::Local {
    let oidc = OidcProvider::discover(
        reqwest::Client::new(),
        "oidc",
        issuer,
        "chatr-desktop",
        None,
    )
    .await
    .unwrap();
    chatr_backend::local::start(
        "127.0.0.1:0".parse().unwrap(),
        None,
        |config| config.providers.oidc.push(Arc::new(oidc)),
        std::future::pending(),
    )
    .await
    .unwrap()
}

/// The first `<form>` of `html`: its action and fields (hidden inputs, and `login`/`password`
/// filled in as `person`). Buttons are not fields, so "abort" is never sent.
fn first_form(html: &str, person: &str) -> Option<(String, Vec<(String, String)>)> {
    let form = &html[html.find("<form")?..];
    let form = &form[..form.find("</form>")?];
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        Some(tag[start..start + tag[start..].find('"')?].to_owned())
    };
    let action = attr(&form[..form.find('>')?], "action")?;
    let fields = form
        .split("<input")
        .skip(1)
        .filter_map(|input| {
            let tag = &input[..input.find('>')?];
            let name = attr(tag, "name")?;
            let value = match name.as_str() {
                "login" | "password" => person.to_owned(),
                _ => attr(tag, "value").unwrap_or_default(),
            };
            Some((name, value))
        })
        .collect();
    Some((action, fields))
}

/// What a person does in a browser: open the verification page and submit every form (code
/// confirmation, login, consent) until the provider says the device is signed in.
async fn approve(verification_uri_complete: &str, person: &str) {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let mut page = browser
        .get(verification_uri_complete)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for _ in 0..6 {
        let Some((action, fields)) = first_form(&page, person) else {
            break;
        };
        page = browser
            .post(&action)
            .form(&fields)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    assert!(
        page.contains("Sign-in Success"),
        "the provider did not confirm: {page}"
    );
}

/// The provider called `name` as the backend advertises it.
async fn advertised(backend: &str, name: &str) -> AuthProvider {
    let providers: Vec<AuthProvider> = reqwest::get(format!("{backend}/api/auth/providers"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    providers.into_iter().find(|p| p.name == name).unwrap()
}

async fn short_sleep(_: Duration) {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_device_login_signs_the_person_in_through_the_backend() {
    let issuer = start_issuer();
    let local = backend(&issuer.url).await;
    let backend = local.backend_url.clone();

    let providers: Vec<AuthProvider> = reqwest::get(format!("{backend}/api/auth/providers"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["local", "oidc"]);
    let oidc = providers.into_iter().find(|p| p.name == "oidc").unwrap();
    assert_eq!(oidc.token_kind, TokenKind::IdToken);
    assert_eq!(
        oidc.device_authorization_url,
        format!("{}/device/auth", issuer.url)
    );

    let login = DeviceLogin::new(oidc).unwrap();
    let (pending, details) = login.start().await.unwrap();
    assert!(!pending.user_code.is_empty());
    let wait = tokio::spawn({
        let login = login.clone();
        async move { login.wait(&details, short_sleep).await }
    });
    approve(pending.verification_uri_complete.as_deref().unwrap(), "ada").await;
    let tokens = wait.await.unwrap().unwrap();
    let id_token = tokens.proof(TokenKind::IdToken).unwrap().to_owned();
    assert!(
        tokens.refresh_token.is_some(),
        "offline_access gives a refresh token"
    );

    let exchange = |token: String| {
        let backend = backend.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{backend}/api/token"))
                .json(&json!({ "provider": "oidc", "token": token }))
                .send()
                .await
                .unwrap()
        }
    };
    let response = exchange(id_token.clone()).await;
    assert_eq!(response.status(), 200);
    let signed_in: Value = response.json().await.unwrap();
    assert_eq!(signed_in["user"]["id"], "oidc:ada");
    assert_eq!(signed_in["user"]["name"], "Person ada");

    // The access token is not an id_token, and a tampered id_token is refused.
    assert_eq!(exchange(tokens.access_token.clone()).await.status(), 401);
    let mut parts: Vec<String> = id_token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert_eq!(exchange(parts.join(".")).await.status(), 401);

    // Silent sign-in next time: the refresh token gets a fresh id_token for the same person.
    let fresh = login
        .refresh(tokens.refresh_token.as_deref().unwrap())
        .await
        .unwrap();
    let again = exchange(fresh.proof(TokenKind::IdToken).unwrap().to_owned()).await;
    assert_eq!(again.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_nobody_approves_keeps_the_app_waiting_and_a_bad_refresh_token_is_revoked() {
    let issuer = start_issuer();
    let local = backend(&issuer.url).await;
    let backend = local.backend_url.clone();
    let login = DeviceLogin::new(advertised(&backend, "oidc").await).unwrap();
    let (_, details) = login.start().await.unwrap();
    let waiting = tokio::time::timeout(
        Duration::from_millis(500),
        login.wait(&details, short_sleep),
    )
    .await;
    assert!(
        waiting.is_err(),
        "the app must keep polling until the person acts"
    );
    assert!(matches!(
        login.refresh("not-a-refresh-token").await,
        Err(Error::Revoked)
    ));
}

/// The app's whole account life cycle with a real provider: device sign-in → a Chatr session;
/// silent sign-in later with the refresh token alone; sign-out that forgets the account revokes the
/// token at the provider (RFC 7009), after which silent sign-in is refused as `Revoked`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_silently_then_sign_out_revokes_the_refresh_token() {
    use chatr_desktop::chat_client;
    let issuer = start_issuer();
    let local = backend(&issuer.url).await;
    let backend = local.backend_url.clone();
    let oidc = advertised(&backend, "oidc").await;
    assert_eq!(
        oidc.revocation_url.as_deref(),
        Some(format!("{}/token/revocation", issuer.url).as_str()),
        "the backend passes on the issuer's revocation endpoint"
    );

    let login = DeviceLogin::new(oidc.clone()).unwrap();
    let (pending, details) = login.start().await.unwrap();
    let wait = tokio::spawn({
        let login = login.clone();
        async move { login.wait(&details, short_sleep).await }
    });
    approve(
        pending.verification_uri_complete.as_deref().unwrap(),
        "grace",
    )
    .await;
    let tokens = wait.await.unwrap().unwrap();
    let (tx, _events) = tokio::sync::mpsc::unbounded_channel();
    let first = chat_client::sign_in_with_tokens(&backend, oidc.clone(), tokens, None, tx)
        .await
        .unwrap();
    assert_eq!(first.user.id, "oidc:grace");
    let refresh = first.refresh_token().unwrap();
    assert!(first.chats().await.is_ok(), "the session token works");
    first.sign_out(false).await.unwrap();

    // Next start: no question asked.
    let (tx, _events) = tokio::sync::mpsc::unbounded_channel();
    let again = chat_client::sign_in_silently(&backend, oidc.clone(), &refresh, None, tx)
        .await
        .unwrap();
    assert_eq!(again.user.id, "oidc:grace");
    let latest = again.refresh_token().unwrap();
    assert!(
        again.sign_out(true).await.unwrap(),
        "revoked at the provider"
    );

    let (tx, _events) = tokio::sync::mpsc::unbounded_channel();
    let refused = chat_client::sign_in_silently(&backend, oidc, &latest, None, tx)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, chat_client::Error::SignIn(Error::Revoked)),
        "{refused}"
    );
}
