//! GitHub token verification against a loopback stand-in for `api.github.com` (GitHub itself cannot
//! be reached from CI): the token is sent as a bearer token and the numeric id becomes the user id.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chatr_backend::identity::github::{Error, GitHub};
use serde_json::json;

async fn user(headers: HeaderMap) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match auth {
        "Bearer gho_good" => {
            axum::Json(json!({"id": 583231, "login": "octocat", "name": "The Octocat"}))
                .into_response()
        }
        "Bearer gho_noname" => {
            axum::Json(json!({"id": 7, "login": "anon", "name": null})).into_response()
        }
        _ => (StatusCode::UNAUTHORIZED, "Bad credentials").into_response(),
    }
}

async fn github() -> GitHub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, Router::new().route("/user", get(user)))
            .await
            .unwrap();
    });
    GitHub::new(reqwest::Client::new(), base)
}

#[tokio::test]
async fn a_valid_token_gives_the_numeric_id_and_profile_name() {
    let user = github().await.verify("gho_good").await.unwrap();
    assert_eq!(user.id, "github:583231");
    assert_eq!(user.name, "The Octocat");
    assert_eq!(user.provider, "github");
}

#[tokio::test]
async fn the_login_stands_in_for_a_missing_name() {
    let user = github().await.verify("gho_noname").await.unwrap();
    assert_eq!(user.name, "anon");
}

#[tokio::test]
async fn a_token_github_refuses_is_rejected() {
    let err = github().await.verify("gho_forged").await.unwrap_err();
    assert!(matches!(err, Error::Rejected), "{err}");
}

/// The whole sign-in through the API: GitHub is advertised with the OAuth app's client id, and
/// `POST /api/token` trades a GitHub token for a session of `github:<id>`; forged tokens and
/// providers that are not on are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_signs_github_users_in() {
    use chatr_backend::identity::providers::GitHubSignIn;
    let github = github().await;
    let local = chatr_backend::local::start(
        "127.0.0.1:0".parse().unwrap(),
        None,
        |config| {
            config.providers.github = Some(GitHubSignIn {
                verifier: github,
                client_id: "Iv1.chatr".into(),
            });
        },
        std::future::pending(),
    )
    .await
    .unwrap();
    let backend = &local.backend_url;
    let providers: serde_json::Value = reqwest::get(format!("{backend}/api/auth/providers"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let advertised = providers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "github")
        .unwrap();
    assert_eq!(advertised["clientId"], "Iv1.chatr");
    assert_eq!(advertised["tokenKind"], "access_token");

    let exchange = |provider: &'static str, token: &'static str| async move {
        reqwest::Client::new()
            .post(format!("{backend}/api/token"))
            .json(&json!({ "provider": provider, "token": token }))
            .send()
            .await
            .unwrap()
    };
    let response = exchange("github", "gho_good").await;
    assert_eq!(response.status(), 200);
    let signed_in: serde_json::Value = response.json().await.unwrap();
    assert_eq!(signed_in["user"]["id"], "github:583231");
    assert_eq!(signed_in["user"]["name"], "The Octocat");
    assert!(signed_in["sessionToken"].is_string());

    assert_eq!(exchange("github", "gho_forged").await.status(), 401);
    assert_eq!(exchange("microsoft", "anything").await.status(), 400);
}
