//! The REST API's OpenAPI 3.1 document, served at `GET /api/openapi.json`. Built from the
//! handlers' `#[utoipa::path]` annotations and the wire types' schemas, so it cannot drift from
//! the code without a test noticing (`tests/openapi.rs`, and schemathesis in CI).

use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Declares the `session` bearer scheme (the token from `POST /api/token`).
struct SessionAuth;

impl Modify for SessionAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The session token from POST /api/token"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chatr backend",
        description = "The REST API of the Chatr desktop app and the Web PubSub event handler."
    ),
    paths(
        super::health::get_health,
        super::providers::list,
        super::token::exchange,
        super::chats::me,
        super::chats::users,
        super::chats::chats,
        super::chats::members,
        super::chats::messages,
        super::local_signin::start_device_grant,
        super::local_signin::token,
        super::local_signin::revoke,
        super::local_signin::verify_page,
        super::local_signin::verify_submit,
        crate::events::handler::event_handler,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&SessionAuth)
)]
struct ApiDoc;

/// The document, built once.
pub(crate) fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        doc
    })
}

/// `GET /api/openapi.json`
pub(crate) async fn get_document() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document())
}
