//! The store contract on Azure Table Storage, against a real Azurite (started per test from
//! `backend/testkit`, or the one at `CHATR_TEST_AZURITE_URL`). Each test uses its own table
//! prefix, so tests can share one Azurite.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chatr_backend::store::Store;
use chatr_backend::store::table::TableStore;
use chatr_backend::store::table::azurite::Azurite;

fn prefix() -> String {
    format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

async fn fresh() -> (Azurite, Arc<dyn Store>) {
    let azurite = Azurite::start().unwrap();
    let store = TableStore::open(azurite.client().unwrap(), &prefix())
        .await
        .unwrap();
    (azurite, Arc::new(store))
}

chatr_backend::store_contract_tests!(fresh);

#[tokio::test]
async fn opening_twice_on_the_same_tables_is_fine() {
    let azurite = Azurite::start().unwrap();
    let prefix = prefix();
    let first = TableStore::open(azurite.client().unwrap(), &prefix)
        .await
        .unwrap();
    first.add_connection("u", "c").await.unwrap();
    let second = TableStore::open(azurite.client().unwrap(), &prefix)
        .await
        .unwrap();
    assert_eq!(second.connections("u").await.unwrap().len(), 1);
}

/// Rows an append left behind after racing the delete of a chat (simulated by writing them
/// directly) do not leak into a new chat with the same id.
#[tokio::test]
async fn a_recreated_chat_starts_with_an_empty_history() {
    use chatr_backend::store::table::client::Entity;
    use chatr_backend::store::{ChatRecord, Page, key};
    use chatr_protocol::{Chat, ChatKind};

    let azurite = Azurite::start().unwrap();
    let prefix = prefix();
    let store = TableStore::open(azurite.client().unwrap(), &prefix)
        .await
        .unwrap();
    let client = azurite.client().unwrap();
    let mut orphan = Entity::new();
    for (k, v) in [
        ("PartitionKey", "c".to_owned()),
        ("RowKey", key::message_row(1)),
        ("from", "ghost".into()),
        ("text", "from a deleted chat".into()),
        ("sentAt", "1".into()),
        ("clientKey", "k".into()),
    ] {
        orphan.insert(k.into(), v.into());
    }
    client
        .insert(&format!("{prefix}messages"), &orphan)
        .await
        .unwrap();
    let record = ChatRecord {
        chat: Chat {
            id: "c".into(),
            name: "n".into(),
            kind: ChatKind::Group,
            owner: "o".into(),
            created_at: 1,
        },
        pair: None,
    };
    store.create_chat(&record, &["o".into()]).await.unwrap();
    assert!(
        store
            .messages("c", Page::Latest, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let first = store
        .append_message("c", "o", "hello", "k", 2)
        .await
        .unwrap();
    assert_eq!((first.seq, first.from.as_str()), (1, "o"));
}

/// Two backend instances (two stores, two HTTP clients, nothing shared in memory) on one set of
/// tables behave as one: joins, appends and presence changes spread over both lose nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_the_same_tables_behave_as_one() {
    use chatr_backend::store::ChatRecord;
    use chatr_protocol::{Chat, ChatKind};

    let azurite = Azurite::start().unwrap();
    let prefix = prefix();
    let a: Arc<dyn Store> = Arc::new(
        TableStore::open(azurite.client().unwrap(), &prefix)
            .await
            .unwrap(),
    );
    let b: Arc<dyn Store> = Arc::new(
        TableStore::open(azurite.client().unwrap(), &prefix)
            .await
            .unwrap(),
    );
    let record = ChatRecord {
        chat: Chat {
            id: "c".into(),
            name: "n".into(),
            kind: ChatKind::Group,
            owner: "o".into(),
            created_at: 1,
        },
        pair: None,
    };
    a.create_chat(&record, &["o".into()]).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            store.add_member("c", &format!("u{i}")).await.unwrap();
            store
                .append_message("c", &format!("u{i}"), "hi", "k", i)
                .await
                .unwrap()
                .seq
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=12).collect::<Vec<u64>>());
    assert_eq!(b.members("c").await.unwrap().len(), 13);
    assert_eq!(a.chats_of("u7").await.unwrap().len(), 1);
    // One device connects through each instance; each disconnect goes through the other.
    assert_eq!(a.add_connection("u", "d1").await.unwrap().len(), 1);
    assert_eq!(b.add_connection("u", "d2").await.unwrap().len(), 2);
    assert_eq!(a.remove_connection("u", "d2").await.unwrap().len(), 1);
    assert!(b.remove_connection("u", "d1").await.unwrap().is_empty());
    assert!(a.last_seen("u").await.unwrap().is_some());
}

/// Queries follow continuation tokens (Table Storage pages at 1,000 entities or 5 s; Azurite
/// rarely does), passing both keys back and stopping at the limit.
#[tokio::test]
async fn queries_follow_continuations() {
    use axum::extract::Query;
    use axum::http::HeaderMap;
    use std::collections::HashMap;

    let router =
        axum::Router::new().fallback(|Query(q): Query<HashMap<String, String>>| async move {
            let mut headers = HeaderMap::new();
            let body = match (q.get("NextPartitionKey"), q.get("NextRowKey")) {
                (None, None) => {
                    headers.insert("x-ms-continuation-NextPartitionKey", "p".parse().unwrap());
                    headers.insert("x-ms-continuation-NextRowKey", "r2".parse().unwrap());
                    r#"{"value":[{"PartitionKey":"p","RowKey":"r1"}]}"#
                }
                (Some(pk), Some(rk)) if pk == "p" && rk == "r2" => {
                    headers.insert("x-ms-continuation-NextPartitionKey", "p".parse().unwrap());
                    headers.insert("x-ms-continuation-NextRowKey", "r3".parse().unwrap());
                    r#"{"value":[{"PartitionKey":"p","RowKey":"r2"}]}"#
                }
                (Some(_), Some(_)) => r#"{"value":[{"PartitionKey":"p","RowKey":"r3"}]}"#,
                _ => r#"{"value":[]}"#,
            };
            (headers, body)
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = chatr_backend::store::table::client::TableClient::new(
        &format!("http://{address}/acct"),
        "acct",
        chatr_backend::store::table::client::Auth::shared_key("a2V5").unwrap(),
    )
    .unwrap();
    let rows = |v: Vec<chatr_backend::store::table::client::Entity>| {
        v.iter()
            .map(|e| e["RowKey"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let all = client
        .query("t", "PartitionKey eq 'p'", None)
        .await
        .unwrap();
    assert_eq!(rows(all), ["r1", "r2", "r3"]);
    let two = client
        .query("t", "PartitionKey eq 'p'", Some(2))
        .await
        .unwrap();
    assert_eq!(rows(two), ["r1", "r2"]);
}

/// Reads are retried when the service is busy; writes never are (a repeated insert could report
/// our own first attempt as a conflict).
#[tokio::test]
async fn busy_reads_are_retried_writes_are_not() {
    use axum::http::{Method, StatusCode};
    use std::sync::atomic::{AtomicUsize, Ordering};

    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let router = axum::Router::new().fallback(move |method: Method| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        async move {
            match (method, n) {
                (Method::GET, 0) => StatusCode::SERVICE_UNAVAILABLE,
                (Method::GET, _) => StatusCode::NOT_FOUND,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = chatr_backend::store::table::client::TableClient::new(
        &format!("http://{address}/acct"),
        "acct",
        chatr_backend::store::table::client::Auth::shared_key("a2V5").unwrap(),
    )
    .unwrap();
    assert!(client.get("t", "p", "r").await.unwrap().is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one retry after the 503");
    let mut row = chatr_backend::store::table::client::Entity::new();
    row.insert("PartitionKey".into(), "p".into());
    row.insert("RowKey".into(), "r".into());
    assert!(client.insert("t", &row).await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 3, "the insert went once");
}

#[tokio::test]
async fn bad_table_prefixes_are_refused() {
    let azurite = Azurite::start().unwrap();
    for bad in ["", "1abc", "a-b", "a_b"] {
        assert!(
            TableStore::open(azurite.client().unwrap(), bad)
                .await
                .is_err(),
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn a_wrong_key_is_an_error_not_a_panic() {
    let azurite = Azurite::start().unwrap();
    let client = chatr_backend::store::table::client::TableClient::new(
        &azurite.url,
        chatr_backend::store::table::azurite::ACCOUNT,
        chatr_backend::store::table::client::Auth::shared_key("d3Jvbmc=").unwrap(),
    )
    .unwrap();
    let err = TableStore::open(client, &prefix()).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
}

/// Loopback stand-ins for Azure's managed-identity endpoints and for a table service that only
/// takes bearer tokens (Azurite has no plain-HTTP OAuth), so the token path is tested here even
/// though it cannot be tested against Azure.
mod managed_identity {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::{Query, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::{get, post};
    use chatr_backend::azure_identity::{Endpoint, ManagedIdentity, STORAGE_RESOURCE, TokenSource};
    use chatr_backend::store::Store;
    use chatr_backend::store::table::TableStore;
    use chatr_backend::store::table::client::{Auth, TableClient};
    use std::collections::HashMap;

    #[derive(Default)]
    struct Seen {
        hits: AtomicUsize,
        last_query: Mutex<HashMap<String, String>>,
        last_headers: Mutex<HeaderMap>,
        /// What the endpoint answers with (`expires_in` seconds).
        expires_in: AtomicUsize,
    }

    async fn token(
        State(seen): State<Arc<Seen>>,
        Query(query): Query<HashMap<String, String>>,
        headers: HeaderMap,
    ) -> (StatusCode, String) {
        let n = seen.hits.fetch_add(1, Ordering::SeqCst) + 1;
        *seen.last_query.lock().unwrap() = query;
        *seen.last_headers.lock().unwrap() = headers;
        let expires_in = seen.expires_in.load(Ordering::SeqCst);
        (
            StatusCode::OK,
            format!(
                r#"{{"access_token":"token-{n}","expires_in":"{expires_in}","token_type":"Bearer"}}"#
            ),
        )
    }

    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{address}")
    }

    async fn identity_endpoint(expires_in: usize) -> (Arc<Seen>, String) {
        let seen = Arc::new(Seen::default());
        seen.expires_in.store(expires_in, Ordering::SeqCst);
        let url = serve(
            Router::new()
                .route("/token", get(token))
                .with_state(seen.clone()),
        )
        .await;
        (seen, format!("{url}/token"))
    }

    #[tokio::test]
    async fn imds_is_asked_once_and_the_token_is_cached() {
        let (seen, url) = identity_endpoint(3600).await;
        let source = ManagedIdentity::new(Endpoint::Imds { url }, STORAGE_RESOURCE, None).unwrap();
        assert_eq!(source.token().await.unwrap(), "token-1");
        assert_eq!(
            source.token().await.unwrap(),
            "token-1",
            "served from the cache"
        );
        assert_eq!(seen.hits.load(Ordering::SeqCst), 1);
        let query = seen.last_query.lock().unwrap().clone();
        assert_eq!(query["resource"], "https://storage.azure.com/");
        assert_eq!(query["api-version"], "2018-02-01");
        assert!(!query.contains_key("client_id"));
        assert_eq!(seen.last_headers.lock().unwrap()["metadata"], "true");
    }

    #[tokio::test]
    async fn a_token_near_expiry_is_replaced() {
        // Expiring within the refresh margin: every call fetches a fresh one.
        let (seen, url) = identity_endpoint(60).await;
        let source = ManagedIdentity::new(Endpoint::Imds { url }, STORAGE_RESOURCE, None).unwrap();
        assert_eq!(source.token().await.unwrap(), "token-1");
        assert_eq!(source.token().await.unwrap(), "token-2");
        assert_eq!(seen.hits.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn app_service_style_sends_the_identity_header_and_client_id() {
        let (seen, url) = identity_endpoint(3600).await;
        let source = ManagedIdentity::new(
            Endpoint::AppService {
                url,
                header: "secret-header".into(),
            },
            STORAGE_RESOURCE,
            Some("user-assigned-id".into()),
        )
        .unwrap();
        source.token().await.unwrap();
        let query = seen.last_query.lock().unwrap().clone();
        assert_eq!(query["api-version"], "2019-08-01");
        assert_eq!(query["client_id"], "user-assigned-id");
        assert_eq!(
            seen.last_headers.lock().unwrap()["x-identity-header"],
            "secret-header"
        );
        assert!(!format!("{source:?}").contains("secret-header"));
    }

    #[tokio::test]
    async fn an_endpoint_error_is_an_error() {
        let url = serve(Router::new().route(
            "/token",
            get(|| async { (StatusCode::BAD_REQUEST, "no identity") }),
        ))
        .await;
        let source = ManagedIdentity::new(
            Endpoint::Imds {
                url: format!("{url}/token"),
            },
            STORAGE_RESOURCE,
            None,
        )
        .unwrap();
        assert!(source.token().await.is_err());
    }

    /// A table service that creates tables and finds nothing, for requests with the right bearer
    /// token only.
    #[tokio::test]
    async fn table_requests_carry_the_bearer_token() {
        let (seen, url) = identity_endpoint(3600).await;
        let source =
            Arc::new(ManagedIdentity::new(Endpoint::Imds { url }, STORAGE_RESOURCE, None).unwrap());
        let authorized = |headers: &HeaderMap| {
            headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer token-1")
                && headers.get("x-ms-version").is_some()
                && headers.get("x-ms-date").is_some()
        };
        let tables = serve(
            Router::new()
                .route(
                    "/Tables",
                    post(move |headers: HeaderMap| async move {
                        if authorized(&headers) {
                            StatusCode::CREATED
                        } else {
                            StatusCode::FORBIDDEN
                        }
                    }),
                )
                .fallback(move |uri: axum::http::Uri, headers: HeaderMap| async move {
                    if !authorized(&headers) {
                        StatusCode::FORBIDDEN.into_response()
                    } else if uri.path().ends_with("()") {
                        // A query (opening the store indexes what it finds): nothing stored.
                        axum::Json(serde_json::json!({"value": []})).into_response()
                    } else {
                        StatusCode::NOT_FOUND.into_response()
                    }
                }),
        )
        .await;
        let client = TableClient::new(&tables, "acct", Auth::Bearer(source)).unwrap();
        let store = TableStore::open(client, "chatr").await.unwrap();
        assert_eq!(store.user("github:1").await.unwrap(), None);
        assert_eq!(
            seen.hits.load(Ordering::SeqCst),
            1,
            "one token for every request"
        );
    }
}
