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
