//! The Web PubSub event handler (CloudEvents webhook): `parse` and `verify` are pure; the axum
//! handler that ties them to the chat rules and the store arrives with the chat server.

pub mod parse;
pub mod verify;
