//! The Web PubSub event handler (CloudEvents webhook): `parse` and `verify` are pure; `origin`
//! checks that a signed event comes from its connection's own user while that connection is open;
//! `handler` is the axum endpoint that ties them to `chat_service`.

pub(crate) mod handler;
pub(crate) mod origin;
pub mod parse;
pub mod verify;
