//! The store contract on SQLite: in memory, plus one file-backed test that data survives reopening.

use std::sync::Arc;

use chatr_backend::store::sqlite::SqliteStore;
use chatr_backend::store::{Page, Store, contract};

fn fresh() -> Arc<dyn Store> {
    Arc::new(SqliteStore::in_memory().expect("an in-memory database opens"))
}

macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                contract::$name(fresh()).await;
            }
        )*
    };
}

contract_tests!(
    users_upsert_and_list,
    connections_track_presence_per_device,
    chats_are_never_overwritten,
    membership_both_ways_and_concurrent_joins,
    deleting_a_chat_removes_everything_of_it,
    private_chats_keep_their_pair,
    messages_are_numbered_and_idempotent,
    concurrent_appends_get_distinct_numbers,
    history_pages_both_ways,
);

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = std::env::temp_dir().join(format!("chatr-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("chatr.db");
    {
        let store = SqliteStore::open(&path).expect("opens");
        store
            .create_chat(
                &chatr_backend::store::ChatRecord {
                    chat: chatr_protocol::Chat {
                        id: "c".into(),
                        name: "n".into(),
                        kind: chatr_protocol::ChatKind::Group,
                        owner: "o".into(),
                        created_at: 0,
                    },
                    pair: None,
                },
                &[],
            )
            .await
            .expect("creates");
        store
            .append_message("c", "o", "kept", "k", 1)
            .await
            .expect("appends");
    }
    let reopened = SqliteStore::open(&path).expect("reopens");
    let history = reopened
        .messages("c", Page::Latest, 10)
        .await
        .expect("reads");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].text, "kept");
    let _ = std::fs::remove_dir_all(&dir);
}
