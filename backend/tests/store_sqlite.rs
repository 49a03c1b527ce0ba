//! The store contract on SQLite (in memory), plus the file-backed rules: data survives reopening,
//! and a database from a newer schema is refused.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chatr_backend::store::sqlite::SqliteStore;
use chatr_backend::store::{ChatRecord, Page, Store};

async fn fresh() -> ((), Arc<dyn Store>) {
    ((), Arc::new(SqliteStore::in_memory().unwrap()))
}

chatr_backend::store_contract_tests!(fresh);

/// A temporary directory removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "chatr-store-{name}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The same contract on a WAL file (a second connection setup path: pragmas on a real file).
async fn on_file() -> (TempDir, Arc<dyn Store>) {
    let dir = TempDir::new("contract");
    let store = SqliteStore::open(dir.0.join("chatr.db")).unwrap();
    (dir, Arc::new(store))
}

mod file {
    use super::on_file;
    chatr_backend::store_contract_tests!(on_file);
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = TempDir::new("reopen");
    let path = dir.0.join("chatr.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .create_chat(
                &ChatRecord {
                    chat: chatr_protocol::Chat {
                        id: "c".into(),
                        name: "n".into(),
                        kind: chatr_protocol::ChatKind::Group,
                        owner: "o".into(),
                        created_at: 0,
                    },
                    pair: None,
                },
                &["o".into()],
            )
            .await
            .unwrap();
        store
            .append_message("c", "o", "kept", "k", 1)
            .await
            .unwrap();
        store.add_connection("o", "conn").await.unwrap();
        store.set_idle("o", "conn", true).await.unwrap();
    }
    let reopened = SqliteStore::open(&path).unwrap();
    let history = reopened.messages("c", Page::Latest, 10).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].text, "kept");
    assert_eq!(reopened.members("c").await.unwrap(), ["o"]);
    assert!(
        reopened.connections("o").await.unwrap()[0].idle,
        "idle survives a restart"
    );
    let next = reopened
        .append_message("c", "o", "next", "k2", 2)
        .await
        .unwrap();
    assert_eq!(next.seq, 2, "numbering continues after a restart");
}

#[tokio::test]
async fn a_database_from_a_newer_chatr_is_refused() {
    let dir = TempDir::new("newer");
    let path = dir.0.join("chatr.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let db = rusqlite::Connection::open(&path).unwrap();
        db.pragma_update(None, "user_version", 999).unwrap();
    }
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.to_string().contains("newer"), "{err}");
}

#[tokio::test]
async fn an_older_database_is_migrated_in_place() {
    let dir = TempDir::new("migrate");
    let path = dir.0.join("chatr.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.add_connection("u", "c").await.unwrap();
    }
    {
        // Back to schema 1: as a database written before "last seen" and everything after it
        // existed.
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch(
            "DROP TABLE last_seen; DROP INDEX connections_by_id; DROP TABLE refresh_families;
             DROP INDEX chats_by_kind_and_time; PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let latest: i64 = {
        let fresh = dir.0.join("fresh.db");
        drop(SqliteStore::open(&fresh).unwrap());
        rusqlite::Connection::open(&fresh)
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.connections("u").await.unwrap().len(), 1, "data kept");
    store.remove_connection("u", "c").await.unwrap();
    assert!(store.last_seen("u").await.unwrap().is_some());
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, latest);
    assert!(latest >= 3, "every migration since schema 1 ran");
}
