//! The REST API, driven in-process through `app()` and once over a real socket.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chatr_backend::{AppState, Config, app, serve};
use chatr_protocol::{Health, HealthStatus};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[tokio::test]
async fn health_answers_ok_with_the_crate_version() {
    let response = app(state())
        .oneshot(Request::get("/api/health").body(Body::empty()).unwrap())
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let health: Health = serde_json::from_slice(&body).unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    assert_eq!(health.service, "chatr-backend");
    assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn health_answers_head_without_a_body() {
    let response = app(state())
        .oneshot(Request::head("/api/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(body.is_empty());
}

#[tokio::test]
async fn unknown_route_is_404() {
    let response = app(state())
        .oneshot(Request::get("/api/nope").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn serves_over_a_real_socket_and_shuts_down_on_signal() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state(), async {
        let _ = stop_rx.await;
    }));

    let health: Health = reqwest::get(format!("http://{addr}/api/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health.status, HealthStatus::Ok);

    stop_tx.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), server)
        .await
        .expect("server stops after the shutdown signal")
        .unwrap()
        .unwrap();
}

fn state() -> AppState {
    AppState::new(Config::local("http://127.0.0.1:7071")).expect("in-memory state builds")
}
