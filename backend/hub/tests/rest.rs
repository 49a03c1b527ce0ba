//! The data-plane REST API over real HTTP: authentication, sends with `excluded` and `filter`,
//! membership, existence checks, permissions, closing, and `:generateToken`.

#![allow(clippy::unwrap_used)]

mod support;

use reqwest::Method;
use serde_json::json;
use support::*;

async fn member(hub: &Hub, user: &str, groups: &[&str]) -> (Socket, String) {
    let token = hub.token("chat", json!({"sub": user, "webpubsub.group": groups}));
    let mut socket = connect(
        &format!("{}?access_token={token}", hub.url("chat")),
        Some(JSON),
    )
    .await
    .unwrap();
    let connected = next(&mut socket).await;
    (
        socket,
        connected["connectionId"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401() {
    let hub = Hub::plain().await;
    let url = hub.rest_url("chat/:send");
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .post(&url)
            .json(&json!(1))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let wrong_aud = rest_token(&hub.rest_url("chat/users/x/:send"), KEY);
    let response = client
        .post(&url)
        .bearer_auth(wrong_aud)
        .json(&json!(1))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let wrong_key = rest_token(&url, "other key");
    let response = client
        .post(&url)
        .bearer_auth(wrong_key)
        .json(&json!(1))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["x-ms-error-code"], "Unauthorized");
}

#[tokio::test]
async fn health_answers_head() {
    let hub = Hub::plain().await;
    let response = reqwest::Client::new()
        .head(format!("http://{}/api/health", hub.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn send_to_all_honours_excluded_and_content_types() {
    let hub = Hub::plain().await;
    let (mut a, a_id) = member(&hub, "a", &[]).await;
    let (mut b, _) = member(&hub, "b", &[]).await;
    let response = hub
        .rest(
            Method::POST,
            &format!("chat/:send?excluded={a_id}"),
            Some(json!({"hi": 1})),
        )
        .await;
    assert_eq!(response.status(), 202);
    let got = next(&mut b).await;
    assert_eq!(
        (got["from"].as_str(), got["dataType"].as_str()),
        (Some("server"), Some("json"))
    );
    assert!(silent(&mut a).await);

    let url = hub.rest_url("chat/users/b/:send");
    reqwest::Client::new()
        .post(&url)
        .bearer_auth(rest_token(&url, KEY))
        .header("content-type", "text/plain")
        .body("plain words")
        .send()
        .await
        .unwrap();
    let got = next(&mut b).await;
    assert_eq!(
        (got["dataType"].as_str(), got["data"].as_str()),
        (Some("text"), Some("plain words"))
    );
}

#[tokio::test]
async fn filters_select_connections_and_bad_filters_are_400() {
    let hub = Hub::plain().await;
    let (mut a, _) = member(&hub, "a", &["g1"]).await;
    let (mut b, _) = member(&hub, "b", &["g2"]).await;
    let filter = "filter='g1'%20in%20groups";
    let response = hub
        .rest(
            Method::POST,
            &format!("chat/:send?{filter}"),
            Some(json!("only g1")),
        )
        .await;
    assert_eq!(response.status(), 202);
    assert_eq!(next(&mut a).await["data"], "only g1");
    assert!(silent(&mut b).await);

    let response = hub
        .rest(
            Method::POST,
            "chat/:send?filter=userId%20eq",
            Some(json!(1)),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["x-ms-error-code"], "InvalidFilter");
}

#[tokio::test]
async fn membership_existence_and_listing() {
    let hub = Hub::plain().await;
    let (mut a, a_id) = member(&hub, "alice", &[]).await;
    assert_eq!(
        hub.rest(Method::HEAD, "chat/groups/g", None).await.status(),
        404
    );
    assert_eq!(
        hub.rest(
            Method::PUT,
            &format!("chat/groups/g/connections/{a_id}"),
            None
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        hub.rest(Method::HEAD, "chat/groups/g", None).await.status(),
        200
    );
    assert_eq!(
        hub.rest(Method::HEAD, "chat/users/alice", None)
            .await
            .status(),
        200
    );
    assert_eq!(
        hub.rest(Method::HEAD, "chat/users/nobody", None)
            .await
            .status(),
        404
    );
    assert_eq!(
        hub.rest(Method::HEAD, &format!("chat/connections/{a_id}"), None)
            .await
            .status(),
        200
    );

    let list: serde_json::Value = hub
        .rest(Method::GET, "chat/groups/g/connections", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["value"],
        json!([{"connectionId": a_id, "userId": "alice"}])
    );

    hub.rest(Method::POST, "chat/groups/g/:send", Some(json!("to g")))
        .await;
    assert_eq!(next(&mut a).await["data"], "to g");

    assert_eq!(
        hub.rest(Method::DELETE, "chat/users/alice/groups/g", None)
            .await
            .status(),
        204
    );
    assert_eq!(
        hub.rest(Method::HEAD, "chat/groups/g", None).await.status(),
        404
    );
    assert_eq!(
        hub.rest(Method::PUT, "chat/users/alice/groups/h", None)
            .await
            .status(),
        200
    );
    assert_eq!(
        hub.rest(Method::HEAD, "chat/groups/h", None).await.status(),
        200
    );
    let body = json!({"groups": ["h"], "filter": "userId eq 'alice'"});
    assert_eq!(
        hub.rest(Method::POST, "chat/:removeFromGroups", Some(body))
            .await
            .status(),
        200
    );
    assert_eq!(
        hub.rest(Method::HEAD, "chat/groups/h", None).await.status(),
        404
    );
}

#[tokio::test]
async fn permissions_are_granted_checked_and_revoked() {
    let hub = Hub::plain().await;
    let (mut socket, id) = member(&hub, "a", &[]).await;
    let path = format!("chat/permissions/sendToGroup/connections/{id}?targetName=room");
    assert_eq!(hub.rest(Method::HEAD, &path, None).await.status(), 404);
    assert_eq!(hub.rest(Method::PUT, &path, None).await.status(), 200);
    assert_eq!(hub.rest(Method::HEAD, &path, None).await.status(), 200);
    send(
        &mut socket,
        json!({"type": "sendToGroup", "group": "room", "ackId": 1, "data": 1}),
    )
    .await;
    assert_eq!(next(&mut socket).await["success"], true);
    assert_eq!(hub.rest(Method::DELETE, &path, None).await.status(), 204);
    send(
        &mut socket,
        json!({"type": "sendToGroup", "group": "room", "ackId": 2, "data": 1}),
    )
    .await;
    assert_eq!(next(&mut socket).await["error"]["name"], "Forbidden");
    let bad = format!("chat/permissions/admin/connections/{id}");
    assert_eq!(hub.rest(Method::PUT, &bad, None).await.status(), 400);
}

#[tokio::test]
async fn closing_a_connection_sends_disconnected_then_closes() {
    let hub = Hub::plain().await;
    let (mut socket, id) = member(&hub, "a", &[]).await;
    let response = hub
        .rest(
            Method::DELETE,
            &format!("chat/connections/{id}?reason=bye"),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    let farewell = next(&mut socket).await;
    assert_eq!(
        (farewell["event"].as_str(), farewell["message"].as_str()),
        (Some("disconnected"), Some("bye"))
    );
    assert!(next(&mut socket).await.get("close").is_some());
}

#[tokio::test]
async fn generated_tokens_connect() {
    let hub = Hub::plain().await;
    let response = hub
        .rest(
            Method::POST,
            "chat/:generateToken?userId=gen&role=webpubsub.joinLeaveGroup&minutesToExpire=5",
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let token = response.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut socket = connect(
        &format!("{}?access_token={token}", hub.url("chat")),
        Some(JSON),
    )
    .await
    .unwrap();
    assert_eq!(next(&mut socket).await["userId"], "gen");
    send(
        &mut socket,
        json!({"type": "joinGroup", "group": "any", "ackId": 1}),
    )
    .await;
    assert_eq!(next(&mut socket).await["success"], true);
}

#[tokio::test]
async fn unknown_operations_and_api_versions_are_refused() {
    let hub = Hub::plain().await;
    assert_eq!(
        hub.rest(Method::POST, "chat/:teleport", None)
            .await
            .status(),
        404
    );
    let url = format!(
        "http://{}/api/hubs/chat/:send?api-version=1999-01-01",
        hub.addr
    );
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(rest_token(&url, KEY))
        .json(&json!(1))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn an_unknown_or_finished_connection_is_404_for_existence_and_group_membership() {
    // What a backend relies on to notice a hub restart: the old connection ids are unknown.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut hub = Hub::start_on(listener, chatr_hub::HubConfig::new(KEY));
    let (mut socket, id) = member(&hub, "a", &[]).await;
    let exists = format!("chat/connections/{id}");
    let add = format!("chat/groups/g/connections/{id}");
    assert_eq!(hub.rest(Method::HEAD, &exists, None).await.status(), 200);

    let unknown = hub
        .rest(Method::PUT, "chat/groups/g/connections/nope", None)
        .await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.headers()["x-ms-error-code"], "NotFound");
    assert_eq!(
        hub.rest(Method::HEAD, "chat/connections/nope", None)
            .await
            .status(),
        404
    );

    // Closed by the client: gone at once for both.
    socket.close(None).await.unwrap();
    let mut gone = false;
    for _ in 0..100 {
        if hub.rest(Method::HEAD, &exists, None).await.status() == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(gone, "the closed connection still exists");
    assert_eq!(hub.rest(Method::PUT, &add, None).await.status(), 404);

    // A restarted hub on the same address knows none of the old ids.
    let (_socket, live) = member(&hub, "b", &[]).await;
    hub.stop();
    tokio::time::timeout(std::time::Duration::from_secs(5), hub.task.take().unwrap())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let hub = Hub::start_on(listener, chatr_hub::HubConfig::new(KEY));
    let path = format!("chat/connections/{live}");
    assert_eq!(hub.rest(Method::HEAD, &path, None).await.status(), 404);
    let path = format!("chat/groups/g/connections/{live}");
    assert_eq!(hub.rest(Method::PUT, &path, None).await.status(), 404);
}
