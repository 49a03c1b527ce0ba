//! The OpenAPI document (`GET /api/openapi.json`) against the live backend: it is OpenAPI 3.1,
//! documents every route the backend serves, and every operation it documents exists (answers
//! something other than 404 Not Found / 405 Method Not Allowed).

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use serde_json::Value;

/// Every route of `api::router`, as (method, path template).
const SERVED: &[(&str, &str)] = &[
    ("get", "/api/health"),
    ("get", "/api/auth/providers"),
    ("post", "/api/token"),
    ("get", "/api/me"),
    ("get", "/api/users"),
    ("get", "/api/chats"),
    ("get", "/api/chats/{id}/members"),
    ("get", "/api/chats/{id}/messages"),
    ("post", "/api/auth/local/device"),
    ("post", "/api/auth/local/token"),
    ("get", "/api/auth/local/verify"),
    ("post", "/api/auth/local/verify"),
    ("post", "/api/eventHandler"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_and_the_server_agree() {
    let local = chatr_backend::local::start(
        "127.0.0.1:0".parse().unwrap(),
        None,
        |_| {},
        std::future::pending(),
    )
    .await
    .unwrap();
    let base = &local.backend_url;
    let doc: Value = reqwest::get(format!("{base}/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));

    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    for (method, path) in SERVED {
        assert!(
            documented.contains(&((*method).to_owned(), (*path).to_owned())),
            "{method} {path} is served but not documented"
        );
    }

    let http = reqwest::Client::new();
    for (method, path) in &documented {
        let url = format!("{base}{}", path.replace("{id}", "some-chat"));
        let request = match method.as_str() {
            "get" => http.get(&url),
            "post" => http.post(&url),
            other => panic!("unexpected method {other} for {path}"),
        };
        let status = request.send().await.unwrap().status().as_u16();
        assert!(
            status != 404 && status != 405,
            "{method} {path} is documented but answers {status}"
        );
    }
    // Protected operations say so.
    assert_eq!(
        doc["paths"]["/api/me"]["get"]["security"][0]["session"],
        serde_json::json!([])
    );
    assert!(doc["paths"]["/api/token"]["post"]["security"].is_null());
}
