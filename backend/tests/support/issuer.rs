//! A stand-in OpenID Connect issuer on loopback: a discovery document and a JWKS for one test RSA
//! key, and a signer for tokens with that key. Stands in for Entra ID and other issuers, which
//! cannot run here.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const TEST_KEY: &str = include_str!("../fixtures/oidc-test-key.pem");
pub const MODULUS: &str = "2RBP9undwzBlKPVI0ihEIytT7D09jpVLnaMOTcf7TvCN4-6Rc6qdMvTJrZVxoDJdmN53WKRcIHDgAtYn_EDG0TR8rJmmS3R3IL9FsqvHVNLavScEY5hI0d2ZyZz4cyNeJiV3nV1nWa7J5oqhHl8fIDC9m3MIDpnUYbqUbhVc-HQsgfYksgfmdsZQAa2CGg8g_1_QJNWzx3BFGaFR5IymHlsDBgy0VaoBhFhsYZ_6BTbdNOjm98nPojRm8lajVmWzhE8oHROsDnrgyGJd4lszF0UifUiDWItfw46wKbrkmf4ii1optXjltz9HVAusSNZsYLqoC3OAMzWtyFOa9429KQ";
pub const KID: &str = "test-key-1";
pub const AUDIENCE: &str = "chatr-desktop";

/// Starts the stand-in issuer; returns its issuer URL.
pub async fn issuer() -> String {
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

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn sign(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_rsa_pem(TEST_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}
