//! id_token verification against a stand-in issuer on loopback that serves a discovery document and
//! a JWKS, with tokens signed by a test key: the good token passes, every kind of bad one is refused.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod support;

use chatr_backend::identity::oidc::OidcProvider;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use support::issuer::{AUDIENCE, KID, MODULUS, issuer, now, sign};

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
