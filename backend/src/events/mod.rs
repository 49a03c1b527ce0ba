//! The Web PubSub event handler (CloudEvents webhook): `parse` and `verify` are pure; `handler`
//! is the axum endpoint that ties them to `chat_service`.

pub(crate) mod handler;
pub mod parse;
pub mod verify;
