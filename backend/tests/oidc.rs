//! id_token verification against a stand-in issuer on loopback that serves a discovery document and
//! a JWKS, with tokens signed by a test key: the good token passes, every kind of bad one is refused.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::routing::get;
use chatr_backend::identity::oidc::OidcProvider;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const TEST_KEY: &str = include_str!("fixtures/oidc-test-key.pem");
const MODULUS: &str = "2RBP9undwzBlKPVI0ihEIytT7D09jpVLnaMOTcf7TvCN4-6Rc6qdMvTJrZVxoDJdmN53WKRcIHDgAtYn_EDG0TR8rJmmS3R3IL9FsqvHVNLavScEY5hI0d2ZyZz4cyNeJiV3nV1nWa7J5oqhHl8fIDC9m3MIDpnUYbqUbhVc-HQsgfYksgfmdsZQAa2CGg8g_1_QJNWzx3BFGaFR5IymHlsDBgy0VaoBhFhsYZ_6BTbdNOjm98nPojRm8lajVmWzhE8oHROsDnrgyGJd4lszF0UifUiDWItfw46wKbrkmf4ii1optXjltz9HVAusSNZsYLqoC3OAMzWtyFOa9429KQ";
const KID: &str = "test-key-1";
const AUDIENCE: &str = "chatr-desktop";

/// Starts the stand-in issuer; returns its issuer URL.
async fn issuer() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let discovery = json!({ "issuer": base, "jwks_uri": format!("{base}/jwks") });
    let impostor = discovery.clone();
    let jwks = json!({ "keys": [{
        "kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256", "n": MODULUS, "e": "AQAB"
    }]});
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(discovery) }),
        )
        .route("/jwks", get(move || async move { Json(jwks) }))
        // A document under another path that names the base issuer, not its own.
        .route(
            "/impostor/.well-known/openid-configuration",
            get(move || async move { Json(impostor) }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_rsa_pem(TEST_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn claims(issuer: &str) -> Value {
    json!({
        "iss": issuer, "aud": AUDIENCE, "sub": "alice", "name": "Alice",
        "iat": now(), "exp": now() + 600,
    })
}

async fn provider(issuer: &str, tenant: Option<&str>) -> OidcProvider {
    OidcProvider::discover(
        reqwest::Client::new(),
        "keycloak",
        issuer,
        AUDIENCE,
        tenant.map(str::to_owned),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_good_token_names_the_user_with_the_provider_prefix() {
    let issuer = issuer().await;
    let user = provider(&issuer, None)
        .await
        .verify(&sign(&claims(&issuer), KID))
        .await
        .unwrap();
    assert_eq!(user.id, "keycloak:alice");
    assert_eq!(user.name, "Alice");
    assert_eq!(user.provider, "keycloak");
}

#[tokio::test]
async fn expired_wrong_issuer_and_wrong_audience_tokens_are_refused() {
    let issuer = issuer().await;
    let provider = provider(&issuer, None).await;
    let mut expired = claims(&issuer);
    expired["exp"] = json!(now() - 3600);
    let mut foreign = claims(&issuer);
    foreign["iss"] = json!("https://evil.example");
    let mut other_app = claims(&issuer);
    other_app["aud"] = json!("some-other-app");
    for (what, token) in [
        ("expired", sign(&expired, KID)),
        ("wrong issuer", sign(&foreign, KID)),
        ("wrong audience", sign(&other_app, KID)),
    ] {
        assert!(
            provider.verify(&token).await.is_err(),
            "{what} was accepted"
        );
    }
}

#[tokio::test]
async fn tampered_and_unsigned_tokens_are_refused() {
    let issuer = issuer().await;
    let provider = provider(&issuer, None).await;
    let token = sign(&claims(&issuer), KID);

    // Replace the payload with one naming another user, keeping the original signature.
    let mut evil = claims(&issuer);
    evil["sub"] = json!("admin");
    let evil_token = sign(&evil, KID);
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[1] = evil_token.split('.').nth(1).unwrap();
    assert!(provider.verify(&parts.join(".")).await.is_err());

    // alg "none", and HS256 keyed with public material (algorithm confusion).
    let payload = token.split('.').nth(1).unwrap();
    let none_header = "eyJhbGciOiJub25lIiwia2lkIjoidGVzdC1rZXktMSJ9"; // {"alg":"none","kid":"test-key-1"}
    assert!(
        provider
            .verify(&format!("{none_header}.{payload}."))
            .await
            .is_err()
    );
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(KID.to_owned());
    let confused = jsonwebtoken::encode(
        &hs,
        &claims(&issuer),
        &EncodingKey::from_secret(MODULUS.as_bytes()),
    )
    .unwrap();
    assert!(provider.verify(&confused).await.is_err());
}

#[tokio::test]
async fn unknown_keys_are_refused() {
    let issuer = issuer().await;
    let provider = provider(&issuer, None).await;
    assert!(
        provider
            .verify(&sign(&claims(&issuer), "rotated-away"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn entra_tokens_must_come_from_the_configured_tenant() {
    let issuer = issuer().await;
    let provider = provider(&issuer, Some("tenant-a")).await;
    let mut ours = claims(&issuer);
    ours["tid"] = json!("tenant-a");
    ours["oid"] = json!("object-1");
    let user = provider.verify(&sign(&ours, KID)).await.unwrap();
    // The object id, not the per-app subject, is the stable user id in Entra ID.
    assert_eq!(user.id, "keycloak:object-1");

    let mut theirs = ours.clone();
    theirs["tid"] = json!("tenant-b");
    assert!(provider.verify(&sign(&theirs, KID)).await.is_err());
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_is_refused() {
    let issuer = issuer().await;
    let err = OidcProvider::discover(
        reqwest::Client::new(),
        "x",
        format!("{issuer}/impostor"),
        AUDIENCE,
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            chatr_backend::identity::oidc::Error::IssuerMismatch { .. }
        ),
        "{err}"
    );
    // A trailing slash names the same issuer.
    assert!(
        OidcProvider::discover(
            reqwest::Client::new(),
            "x",
            format!("{issuer}/"),
            AUDIENCE,
            None
        )
        .await
        .is_ok()
    );
}
