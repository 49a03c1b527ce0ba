//! The binary as it runs in Azure with managed identity and no access key anywhere: Entra tokens
//! from the host's identity endpoint authorise its Web PubSub REST calls, client URLs come from
//! the service's `:generateToken`, and events are trusted for the service's bearer token (checked
//! against the configured issuer and audience) instead of a key signature.
//!
//! Azure cannot run here, so loopback stand-ins play the identity endpoint (App Service style, as
//! on Container Apps), the Web PubSub REST API (it records what it is asked) and Entra ID.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod support;

use std::collections::HashMap;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::routing::{any, get};
use serde_json::{Value, json};
use support::issuer::{KID, issuer, now, sign};

const EVENT_AUDIENCE: &str = "api://chatr-events";
/// The object id of Web PubSub's managed identity, as configured.
const EVENT_CALLER: &str = "0f5c9a7e-web-pubsub-identity";

/// What the stand-ins were asked: (path, query, authorization header).
type Seen = Arc<Mutex<Vec<(String, HashMap<String, String>, String)>>>;

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

async fn record(
    State(seen): State<Seen>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> String {
    let authorization = request
        .headers()
        .get("authorization")
        .or_else(|| request.headers().get("x-identity-header"))
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    seen.lock()
        .unwrap()
        .push((request.uri().path().to_owned(), query, authorization));
    if request.uri().path().ends_with("/token") {
        r#"{"access_token":"mi-token","expires_on":"4102444800"}"#.to_owned()
    } else {
        r#"{"token":"minted-by-the-service"}"#.to_owned()
    }
}

struct Backend {
    url: String,
    child: Child,
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(webpubsub: &str, identity: &str, issuer: &str) -> Backend {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (child, line) = support::spawn_backend(
        Command::new(env!("CARGO_BIN_EXE_chatr-backend"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--local-signin",
            ])
            .env("CHATR_WEBPUBSUB_ENDPOINT", webpubsub)
            .env("IDENTITY_ENDPOINT", format!("{identity}/token"))
            .env("IDENTITY_HEADER", "identity-header-secret")
            .env("AZURE_CLIENT_ID", "backend-identity")
            .env("CHATR_EVENT_ISSUER", issuer)
            .env("CHATR_EVENT_AUDIENCE", EVENT_AUDIENCE)
            .env("CHATR_EVENT_CALLER", EVENT_CALLER)
            .env(
                "CHATR_SESSION_SECRET",
                "a-session-secret-of-at-least-32-characters",
            )
            .env("RUST_LOG", "warn"),
    );
    assert!(line.contains("listening"), "{line}");
    Backend {
        url: format!("http://127.0.0.1:{port}"),
        child,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_calls_carry_managed_identity_tokens_and_client_urls_come_from_the_service() {
    let seen: Seen = Arc::default();
    let webpubsub = serve(Router::new().fallback(any(record)).with_state(seen.clone())).await;
    let identity = serve(
        Router::new()
            .route("/token", get(record))
            .with_state(seen.clone()),
    )
    .await;
    let backend = start(&webpubsub, &identity, &issuer().await).await;

    let signed_in = support::sign_in(&backend.url, "Ada").await;
    let user_id = signed_in["user"]["id"].as_str().unwrap();
    let url = reqwest::Url::parse(signed_in["url"].as_str().unwrap()).unwrap();
    assert_eq!(url.path(), "/client/hubs/chat");
    assert_eq!(
        url.query_pairs()
            .find(|(k, _)| k == "access_token")
            .unwrap()
            .1,
        "minted-by-the-service"
    );

    let seen = seen.lock().unwrap().clone();
    let (_, token_query, identity_header) = seen
        .iter()
        .find(|(path, _, _)| path == "/token")
        .expect("the identity endpoint was asked");
    assert_eq!(token_query["resource"], "https://webpubsub.azure.com");
    assert_eq!(token_query["client_id"], "backend-identity");
    assert_eq!(identity_header, "identity-header-secret");
    let (_, generate_query, authorization) = seen
        .iter()
        .find(|(path, _, _)| path == "/api/hubs/chat/:generateToken")
        .expect("the service minted the client token");
    assert_eq!(authorization, "Bearer mi-token");
    assert_eq!(generate_query["userId"], user_id);
    assert!(
        !generate_query.contains_key("role"),
        "no hub-wide roles: {generate_query:?}"
    );
}

/// A `connect` event as the service sends it to a managed-identity event handler: no signature.
fn connect_event(backend: &str, bearer: Option<&str>) -> reqwest::RequestBuilder {
    let request = reqwest::Client::new()
        .post(format!("{backend}/api/eventHandler"))
        .header("ce-specversion", "1.0")
        .header("ce-type", "azure.webpubsub.sys.connect")
        .header("ce-source", "/hubs/chat/client/conn-1")
        .header("ce-id", "1")
        .header("ce-awpsversion", "1.0")
        .header("ce-hub", "chat")
        .header("ce-connectionid", "conn-1")
        .header("ce-eventname", "connect")
        .header("ce-userid", "local:someone")
        .header("content-type", "application/json")
        .body(json!({ "claims": {}, "query": {}, "headers": {}, "subprotocols": [] }).to_string());
    match bearer {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_trusted_for_the_services_token_and_nothing_else() {
    let seen: Seen = Arc::default();
    let webpubsub = serve(Router::new().fallback(any(record)).with_state(seen.clone())).await;
    let identity = serve(Router::new().route("/token", get(record)).with_state(seen)).await;
    let issuer = issuer().await;
    let backend = start(&webpubsub, &identity, &issuer).await;

    let claims = |aud: &str| -> Value {
        json!({ "iss": issuer, "aud": aud, "sub": "webpubsub-identity", "oid": EVENT_CALLER,
                "iat": now(), "exp": now() + 600 })
    };
    let good = sign(&claims(EVENT_AUDIENCE), KID);
    let response = connect_event(&backend.url, Some(&good))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);

    let other_audience = sign(&claims("api://someone-else"), KID);
    // Another workload of the tenant can get a token for the same audience: not the service.
    let mut impostor = claims(EVENT_AUDIENCE);
    impostor["oid"] = json!("another-workload-in-the-tenant");
    let impostor = sign(&impostor, KID);
    let mut expired = claims(EVENT_AUDIENCE);
    expired["exp"] = json!(now() - 3600);
    let expired = sign(&expired, KID);
    for (what, bearer) in [
        ("no token", None),
        ("another audience", Some(other_audience.as_str())),
        ("another caller", Some(impostor.as_str())),
        ("expired", Some(expired.as_str())),
        ("garbage", Some("not-a-jwt")),
    ] {
        let status = connect_event(&backend.url, bearer)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "{what} was accepted");
    }
}
