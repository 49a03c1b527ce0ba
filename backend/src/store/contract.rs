//! The contract every [`Store`] implementation must keep, as one test suite shared by all of them
//! (test support code: it must never be called outside tests). `tests/store_sqlite.rs` runs it on
//! SQLite (in memory and on a WAL file) and `tests/store_table.rs` on a real Azurite, both through
//! [`store_contract_tests!`](crate::store_contract_tests), so a rule added here runs everywhere.
//! Each function takes a fresh, empty store and panics on the first broken rule.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::sync::Arc;

use chatr_protocol::{Chat, ChatKind};

use super::RefreshFamily;
use super::{ChatRecord, Error, Page, Store, UserRecord};

/// Declares one `#[tokio::test]` per contract rule, each on a fresh store from `$make`: an
/// `async fn() -> (G, Arc<dyn Store>)` whose guard `G` (an emulator, a temp dir) lives as long as
/// the test. Every implementation's test file calls this once, so none can miss a rule.
#[macro_export]
macro_rules! store_contract_tests {
    ($make:path) => {
        $crate::store_contract_tests!(@each $make;
            users_upsert_and_list,
            connections_track_presence_per_device,
            chats_are_never_overwritten,
            membership_both_ways_and_concurrent_joins,
            deleting_a_chat_removes_everything_of_it,
            private_chats_keep_their_pair,
            messages_are_numbered_and_idempotent,
            concurrent_appends_get_distinct_numbers,
            history_pages_both_ways,
            invalid_keys_are_refused,
            unusual_but_legal_ids_round_trip,
            idle_is_stored_per_connection,
            concurrent_connects_see_first_and_last,
            leave_rejoin_and_private_get_or_create,
            paging_walks_everything_once,
            last_seen_is_when_the_last_connection_closed,
            joins_racing_a_delete_leave_nothing_behind,
            connections_belong_to_one_user,
            sent_messages_are_found_by_client_key,
            // Refresh-token families (local sign-in).
            refresh_families_rotate_once_per_generation,
            concurrent_refreshes_of_one_token_have_one_winner,
            revoked_refresh_families_stay_revoked,
            // Paged chat list.
            group_chats_are_paged_in_creation_order,
        );
    };
    (@each $make:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (_guard, store) = $make().await;
                $crate::store::contract::$name(store).await;
            }
        )*
    };
}

fn group(id: &str, owner: &str) -> ChatRecord {
    ChatRecord {
        chat: Chat {
            id: id.into(),
            name: format!("Chat {id}"),
            kind: ChatKind::Group,
            owner: owner.into(),
            created_at: 1_700_000_000_000,
        },
        pair: None,
    }
}

/// Users are created, renamed and listed.
pub async fn users_upsert_and_list(store: Arc<dyn Store>) {
    let ada = UserRecord {
        id: "local:1".into(),
        name: "Ada".into(),
        provider: "local".into(),
    };
    store.upsert_user(&ada).await.unwrap();
    assert_eq!(store.user("local:1").await.unwrap(), Some(ada.clone()));
    let renamed = UserRecord {
        name: "Ada L.".into(),
        ..ada
    };
    store.upsert_user(&renamed).await.unwrap();
    assert_eq!(store.user("local:1").await.unwrap().unwrap().name, "Ada L.");
    assert_eq!(store.users().await.unwrap().len(), 1);
    assert_eq!(store.user("nobody").await.unwrap(), None);
}

/// Connections are per user; idle flags are kept per connection; removal reports what is left.
pub async fn connections_track_presence_per_device(store: Arc<dyn Store>) {
    assert!(store.add_connection("u", "c1").await.unwrap().len() == 1);
    let both = store.add_connection("u", "c2").await.unwrap();
    assert_eq!(both.len(), 2);
    let after = store.set_idle("u", "c1", true).await.unwrap();
    assert_eq!(after.iter().filter(|c| c.idle).count(), 1);
    // Adding a connection twice changes nothing.
    assert_eq!(store.add_connection("u", "c2").await.unwrap().len(), 2);
    assert_eq!(store.remove_connection("u", "c2").await.unwrap().len(), 1);
    let last = store.remove_connection("u", "c1").await.unwrap();
    assert!(last.is_empty(), "the last connection is gone");
    assert!(store.connections("other").await.unwrap().is_empty());
}

/// Creating a chat never overwrites one (the seed's bug 8).
pub async fn chats_are_never_overwritten(store: Arc<dyn Store>) {
    store
        .create_chat(&group("c1", "owner"), &["owner".into()])
        .await
        .unwrap();
    let impostor = ChatRecord {
        chat: Chat {
            name: "Hijacked".into(),
            owner: "evil".into(),
            ..group("c1", "x").chat
        },
        pair: None,
    };
    assert!(matches!(
        store.create_chat(&impostor, &[]).await,
        Err(Error::AlreadyExists(_))
    ));
    let stored = store.chat("c1").await.unwrap().unwrap();
    assert_eq!(
        (stored.chat.name.as_str(), stored.chat.owner.as_str()),
        ("Chat c1", "owner")
    );
    assert_eq!(store.members("c1").await.unwrap(), ["owner"]);
}

/// Membership is indexed both ways and survives concurrent joins.
pub async fn membership_both_ways_and_concurrent_joins(store: Arc<dyn Store>) {
    store
        .create_chat(&group("c1", "o"), &["o".into()])
        .await
        .unwrap();
    store.create_chat(&group("c2", "o"), &[]).await.unwrap();
    let joins: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.add_member("c1", &format!("u{i:02}")).await.unwrap() })
        })
        .collect();
    for join in joins {
        assert!(join.await.unwrap(), "every join is new");
    }
    assert_eq!(
        store.members("c1").await.unwrap().len(),
        21,
        "no join was lost"
    );
    assert!(
        !store.add_member("c1", "u00").await.unwrap(),
        "joining twice is not new"
    );
    store.add_member("c2", "u00").await.unwrap();
    let chats: Vec<String> = store
        .chats_of("u00")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.chat.id)
        .collect();
    assert_eq!(chats, ["c1", "c2"]);
    assert!(store.is_member("c1", "u05").await.unwrap());
    assert!(store.remove_member("c1", "u05").await.unwrap());
    assert!(!store.is_member("c1", "u05").await.unwrap());
    assert!(!store.remove_member("c1", "u05").await.unwrap());
    assert!(matches!(
        store.add_member("nope", "u").await,
        Err(Error::NotFound(_))
    ));
}

/// Deleting a chat removes its members and history.
pub async fn deleting_a_chat_removes_everything_of_it(store: Arc<dyn Store>) {
    store
        .create_chat(&group("c1", "o"), &["o".into(), "a".into()])
        .await
        .unwrap();
    store
        .append_message("c1", "o", "hi", "k1", 1)
        .await
        .unwrap();
    store.delete_chat("c1").await.unwrap();
    assert_eq!(store.chat("c1").await.unwrap(), None);
    assert!(store.chats_of("a").await.unwrap().is_empty());
    assert!(store.members("c1").await.unwrap().is_empty());
    assert!(
        store
            .messages("c1", Page::Latest, 50)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.delete_chat("c1").await,
        Err(Error::NotFound(_))
    ));
    assert!(store.group_chats().await.unwrap().is_empty());
}

/// Private chats keep their pair; group listing leaves them out.
pub async fn private_chats_keep_their_pair(store: Arc<dyn Store>) {
    let private = ChatRecord {
        chat: Chat {
            id: "private-1".into(),
            name: String::new(),
            kind: ChatKind::Private,
            owner: "a".into(),
            created_at: 1,
        },
        pair: Some(("a".into(), "b".into())),
    };
    store
        .create_chat(&private, &["a".into(), "b".into()])
        .await
        .unwrap();
    store.create_chat(&group("g", "a"), &[]).await.unwrap();
    assert_eq!(
        store.chat("private-1").await.unwrap().unwrap().pair,
        Some(("a".into(), "b".into()))
    );
    let groups: Vec<String> = store
        .group_chats()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(groups, ["g"]);
}

/// Messages are numbered per chat in order; a resend with the same key returns the original.
pub async fn messages_are_numbered_and_idempotent(store: Arc<dyn Store>) {
    store.create_chat(&group("c1", "o"), &[]).await.unwrap();
    store.create_chat(&group("c2", "o"), &[]).await.unwrap();
    let first = store
        .append_message("c1", "o", "one", "k1", 10)
        .await
        .unwrap();
    let second = store
        .append_message("c1", "o", "two", "k2", 11)
        .await
        .unwrap();
    assert_eq!((first.seq, second.seq), (1, 2));
    let again = store
        .append_message("c1", "o", "one (resent)", "k1", 12)
        .await
        .unwrap();
    assert_eq!(again, first, "the resend returns the stored original");
    // Another sender may use the same key; another chat numbers from 1.
    assert_eq!(
        store
            .append_message("c1", "x", "x", "k1", 13)
            .await
            .unwrap()
            .seq,
        3
    );
    assert_eq!(
        store
            .append_message("c2", "o", "other", "k1", 14)
            .await
            .unwrap()
            .seq,
        1
    );
    assert_eq!(
        store.messages("c1", Page::Latest, 50).await.unwrap().len(),
        3
    );
    assert!(matches!(
        store.append_message("nope", "o", "t", "k", 1).await,
        Err(Error::NotFound(_))
    ));
}

/// Concurrent appends to one chat get distinct, gap-free numbers.
pub async fn concurrent_appends_get_distinct_numbers(store: Arc<dyn Store>) {
    store.create_chat(&group("c1", "o"), &[]).await.unwrap();
    let appends: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append_message("c1", "o", "t", &format!("k{i}"), i)
                    .await
                    .unwrap()
                    .seq
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for append in appends {
        seqs.push(append.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=50).collect::<Vec<u64>>());
}

/// Paging: latest, before and after, each oldest first, with limits.
pub async fn history_pages_both_ways(store: Arc<dyn Store>) {
    store.create_chat(&group("c1", "o"), &[]).await.unwrap();
    for i in 1..=10 {
        store
            .append_message("c1", "o", &format!("m{i}"), &format!("k{i}"), i)
            .await
            .unwrap();
    }
    let seqs =
        |page: Vec<chatr_protocol::Message>| page.into_iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(store.messages("c1", Page::Latest, 3).await.unwrap()),
        [8, 9, 10]
    );
    assert_eq!(
        seqs(store.messages("c1", Page::Before(8), 3).await.unwrap()),
        [5, 6, 7]
    );
    assert_eq!(
        seqs(store.messages("c1", Page::Before(2), 3).await.unwrap()),
        [1]
    );
    assert_eq!(
        seqs(store.messages("c1", Page::After(7), 2).await.unwrap()),
        [8, 9]
    );
    assert!(
        store
            .messages("c1", Page::After(10), 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.messages("c1", Page::Latest, 0).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        store.messages("c1", Page::Latest, 10_000).await,
        Err(Error::Invalid(_))
    ));
}

/// Ids that cannot be Table Storage keys (`/ \ # ?`, control characters, empty) are refused by
/// every store with `Invalid`, and nothing is stored (the seed's bug 14).
pub async fn invalid_keys_are_refused(store: Arc<dyn Store>) {
    for bad in ["a/b", "a\\b", "a#b", "a?b", "a\nb", ""] {
        assert!(
            matches!(
                store.create_chat(&group(bad, "o"), &["o".into()]).await,
                Err(Error::Invalid(_))
            ),
            "chat id {bad:?}"
        );
        let user = UserRecord {
            id: bad.into(),
            name: "n".into(),
            provider: "local".into(),
        };
        assert!(
            matches!(store.upsert_user(&user).await, Err(Error::Invalid(_))),
            "user id {bad:?}"
        );
        assert!(
            matches!(store.add_connection("u", bad).await, Err(Error::Invalid(_))),
            "connection id {bad:?}"
        );
    }
    store.create_chat(&group("ok", "o"), &[]).await.unwrap();
    assert!(matches!(
        store.add_member("ok", "evil/user").await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        store.append_message("ok", "o", "t", "bad#key", 1).await,
        Err(Error::Invalid(_))
    ));
    assert!(store.users().await.unwrap().is_empty());
    assert!(store.connections("u").await.unwrap().is_empty());
    assert_eq!(store.members("ok").await.unwrap(), Vec::<String>::new());
    assert_eq!(store.group_chats().await.unwrap().len(), 1);
}

/// Ids with characters that are legal keys but special elsewhere (quotes, spaces, colons,
/// percent signs, non-ASCII) round-trip unchanged.
pub async fn unusual_but_legal_ids_round_trip(store: Arc<dyn Store>) {
    let id = "o'brien's chat: 100% ünïcode";
    let user = "oidc:o'brien@example.com";
    store
        .create_chat(&group(id, user), &[user.into()])
        .await
        .unwrap();
    assert_eq!(store.chat(id).await.unwrap().unwrap().chat.id, id);
    assert_eq!(store.members(id).await.unwrap(), [user]);
    assert_eq!(store.chats_of(user).await.unwrap()[0].chat.id, id);
    let m = store
        .append_message(id, user, "it's", "key 'one'", 5)
        .await
        .unwrap();
    assert_eq!(
        store
            .append_message(id, user, "again", "key 'one'", 6)
            .await
            .unwrap(),
        m
    );
    assert_eq!(store.messages(id, Page::Latest, 5).await.unwrap(), [m]);
}

/// Idle flags are stored per connection and stay until that connection goes: any instance
/// reading later sees them; flipping a flag of an unknown connection changes nothing.
pub async fn idle_is_stored_per_connection(store: Arc<dyn Store>) {
    store.add_connection("u", "c1").await.unwrap();
    store.add_connection("u", "c2").await.unwrap();
    store.set_idle("u", "c1", true).await.unwrap();
    store.set_idle("u", "c2", true).await.unwrap();
    let flags: Vec<bool> = store
        .connections("u")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.idle)
        .collect();
    assert_eq!(flags, [true, true], "both devices idle is remembered");
    let back = store.set_idle("u", "c2", false).await.unwrap();
    assert_eq!(
        back.iter().map(|c| c.idle).collect::<Vec<_>>(),
        [true, false]
    );
    let unknown = store.set_idle("u", "ghost", true).await.unwrap();
    assert_eq!(unknown.len(), 2, "an unknown connection is not created");
    // A reconnecting device starts active.
    store.remove_connection("u", "c1").await.unwrap();
    let again = store.add_connection("u", "c1").await.unwrap();
    assert!(again.iter().all(|c| !c.idle));
}

/// Two devices of one user connecting (and later disconnecting) at the same moment: exactly one
/// call sees the first connection (one entry after it) and at least one sees none left, so
/// "online" and "offline" are each announced, with no in-memory state.
pub async fn concurrent_connects_see_first_and_last(store: Arc<dyn Store>) {
    let adds: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .add_connection("u", &format!("c{i}"))
                    .await
                    .unwrap()
                    .len()
            })
        })
        .collect();
    let mut sizes = Vec::new();
    for add in adds {
        sizes.push(add.await.unwrap());
    }
    sizes.sort_unstable();
    assert_eq!(
        sizes,
        (1..=8).collect::<Vec<_>>(),
        "each add saw a distinct count"
    );
    let removes: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .remove_connection("u", &format!("c{i}"))
                    .await
                    .unwrap()
                    .len()
            })
        })
        .collect();
    let mut left = Vec::new();
    for remove in removes {
        left.push(remove.await.unwrap());
    }
    left.sort_unstable();
    assert_eq!(
        left,
        (0..8).collect::<Vec<_>>(),
        "exactly one saw the last go"
    );
}

/// Leaving and rejoining keep both directions of the membership index in step; private chats
/// can be created once (get-or-create is `create_chat` then `AlreadyExists` → `chat`).
pub async fn leave_rejoin_and_private_get_or_create(store: Arc<dyn Store>) {
    store
        .create_chat(&group("g", "o"), &["o".into(), "a".into()])
        .await
        .unwrap();
    assert!(store.remove_member("g", "a").await.unwrap());
    assert!(store.chats_of("a").await.unwrap().is_empty());
    assert!(store.add_member("g", "a").await.unwrap());
    assert_eq!(store.chats_of("a").await.unwrap().len(), 1);
    let private = ChatRecord {
        chat: Chat {
            id: "private-ab".into(),
            name: String::new(),
            kind: ChatKind::Private,
            owner: "a".into(),
            created_at: 2,
        },
        pair: Some(("a".into(), "b".into())),
    };
    let creates: Vec<_> = (0..4)
        .map(|_| {
            let (store, private) = (store.clone(), private.clone());
            tokio::spawn(async move {
                store
                    .create_chat(&private, &["a".into(), "b".into()])
                    .await
                    .is_ok()
            })
        })
        .collect();
    let mut won = 0;
    for create in creates {
        won += usize::from(create.await.unwrap());
    }
    assert_eq!(won, 1, "exactly one concurrent create wins");
    assert_eq!(store.chat("private-ab").await.unwrap().unwrap(), private);
    assert_eq!(store.members("private-ab").await.unwrap(), ["a", "b"]);
    let mut b_chats: Vec<String> = store
        .chats_of("b")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.chat.id)
        .collect();
    b_chats.sort();
    assert_eq!(b_chats, ["private-ab"]);
}

/// Paging at the edges: pages walk the whole history without gaps or repeats both ways, a
/// page of exactly `MAX_PAGE` is allowed, and ids outside the history give empty pages.
pub async fn paging_walks_everything_once(store: Arc<dyn Store>) {
    store.create_chat(&group("c", "o"), &[]).await.unwrap();
    let total: u64 = 23;
    for i in 1..=total {
        store
            .append_message("c", "o", &format!("m{i}"), &format!("k{i}"), i as i64)
            .await
            .unwrap();
    }
    // Backwards from the newest, 5 at a time.
    let mut seen = Vec::new();
    let mut page = store.messages("c", Page::Latest, 5).await.unwrap();
    while let Some(first) = page.first().map(|m| m.seq) {
        seen.extend(page.iter().rev().map(|m| m.seq));
        page = store.messages("c", Page::Before(first), 5).await.unwrap();
    }
    assert_eq!(seen, (1..=total).rev().collect::<Vec<_>>());
    // Forwards from the start, 4 at a time.
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store.messages("c", Page::After(after), 4).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        seen.extend(page.iter().map(|m| m.seq));
    }
    assert_eq!(seen, (1..=total).collect::<Vec<_>>());
    assert_eq!(
        store
            .messages("c", Page::Latest, super::MAX_PAGE)
            .await
            .unwrap()
            .len(),
        total as usize
    );
    assert!(
        store
            .messages("c", Page::Before(1), 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .messages("c", Page::After(total), 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .messages("c", Page::Before(u64::MAX), 1)
            .await
            .unwrap()[0]
            .seq,
        total
    );
    assert!(
        store
            .messages("none", Page::Latest, 5)
            .await
            .unwrap()
            .is_empty()
    );
}

/// "Last seen" moves only when a user's last connection closes, and is kept.
pub async fn last_seen_is_when_the_last_connection_closed(store: Arc<dyn Store>) {
    assert_eq!(store.last_seen("u").await.unwrap(), None);
    let before = super::now_ms();
    store.add_connection("u", "c1").await.unwrap();
    store.add_connection("u", "c2").await.unwrap();
    store.remove_connection("u", "c1").await.unwrap();
    assert_eq!(
        store.last_seen("u").await.unwrap(),
        None,
        "c2 is still open"
    );
    store.remove_connection("u", "c2").await.unwrap();
    let seen = store.last_seen("u").await.unwrap().unwrap();
    assert!(seen >= before && seen <= super::now_ms());
    // A stray disconnect of an unknown connection does not move it.
    store.remove_connection("u", "ghost").await.unwrap();
    assert_eq!(store.last_seen("u").await.unwrap(), Some(seen));
    store.add_connection("u", "c3").await.unwrap();
    assert_eq!(
        store.last_seen("u").await.unwrap(),
        Some(seen),
        "kept while online again"
    );
    assert_eq!(store.last_seen("never").await.unwrap(), None);
}

/// Joins racing the chat's deletion either land before it (and go with it) or fail with
/// `NotFound`; afterwards no joiner's chat list names the deleted chat.
pub async fn joins_racing_a_delete_leave_nothing_behind(store: Arc<dyn Store>) {
    store
        .create_chat(&group("c", "o"), &["o".into()])
        .await
        .unwrap();
    let mut joins = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        joins.push(tokio::spawn(async move {
            match store.add_member("c", &format!("u{i}")).await {
                Ok(_) | Err(Error::NotFound(_)) => {}
                Err(other) => panic!("join failed: {other}"),
            }
        }));
    }
    let deleter = {
        let store = store.clone();
        tokio::spawn(async move { store.delete_chat("c").await.unwrap() })
    };
    for join in joins {
        join.await.unwrap();
    }
    deleter.await.unwrap();
    assert_eq!(store.chat("c").await.unwrap(), None);
    for i in 0..8 {
        assert!(
            store.chats_of(&format!("u{i}")).await.unwrap().is_empty(),
            "u{i} still lists the deleted chat"
        );
    }
    assert!(store.chats_of("o").await.unwrap().is_empty());
}

/// A connection is recorded for one user only, found by its id alone; another user cannot claim
/// it, and every recorded connection is listed for reconciling.
pub async fn connections_belong_to_one_user(store: Arc<dyn Store>) {
    assert_eq!(store.connection_owner("c1").await.unwrap(), None);
    store.add_connection("ada", "c1").await.unwrap();
    store.add_connection("ada", "c2").await.unwrap();
    store.add_connection("bob", "c3").await.unwrap();
    assert_eq!(
        store.connection_owner("c1").await.unwrap().as_deref(),
        Some("ada")
    );
    // A repeat by the owner changes nothing; a claim by anyone else is refused and changes nothing.
    assert_eq!(store.add_connection("ada", "c1").await.unwrap().len(), 2);
    assert!(matches!(
        store.add_connection("eve", "c1").await,
        Err(Error::AlreadyExists(_))
    ));
    assert!(store.connections("eve").await.unwrap().is_empty());
    assert_eq!(
        store.connection_owner("c1").await.unwrap().as_deref(),
        Some("ada")
    );
    let mut all: Vec<(String, String)> = store
        .all_connections()
        .await
        .unwrap()
        .into_iter()
        .map(|(user, c)| (user, c.connection_id))
        .collect();
    all.sort();
    let expected =
        [("ada", "c1"), ("ada", "c2"), ("bob", "c3")].map(|(u, c)| (u.to_owned(), c.to_owned()));
    assert_eq!(all, expected);
    // Removing it by another user's name does nothing; by the owner's, forgets it everywhere.
    store.remove_connection("eve", "c1").await.unwrap();
    assert_eq!(
        store.connection_owner("c1").await.unwrap().as_deref(),
        Some("ada")
    );
    store.remove_connection("ada", "c1").await.unwrap();
    assert_eq!(store.connection_owner("c1").await.unwrap(), None);
    assert_eq!(store.all_connections().await.unwrap().len(), 2);
}

/// A stored message can be looked up by `(chat, sender, client key)`; nothing else matches.
pub async fn sent_messages_are_found_by_client_key(store: Arc<dyn Store>) {
    store.create_chat(&group("c1", "o"), &[]).await.unwrap();
    assert_eq!(store.find_message("c1", "o", "k1").await.unwrap(), None);
    let sent = store
        .append_message("c1", "o", "one", "k1", 10)
        .await
        .unwrap();
    assert_eq!(
        store.find_message("c1", "o", "k1").await.unwrap(),
        Some(sent)
    );
    assert_eq!(store.find_message("c1", "x", "k1").await.unwrap(), None);
    assert_eq!(store.find_message("c1", "o", "k2").await.unwrap(), None);
    assert_eq!(store.find_message("c2", "o", "k1").await.unwrap(), None);
}

// --- Refresh-token families of the local sign-in provider ---

fn refresh_family(id: &str) -> RefreshFamily {
    RefreshFamily {
        id: id.into(),
        user_id: "local:ada".into(),
        name: "Ada".into(),
        provider: "local".into(),
        generation: 1,
        expires_at: 1_700_000_000_000,
        revoked: false,
    }
}

/// A family is created once, read back as stored, and advances only from its current generation.
pub async fn refresh_families_rotate_once_per_generation(store: Arc<dyn Store>) {
    let id = "0123456789abcdef0123456789abcdef";
    assert_eq!(store.refresh_family(id).await.unwrap(), None);
    store
        .create_refresh_family(&refresh_family(id))
        .await
        .unwrap();
    assert_eq!(
        store.refresh_family(id).await.unwrap(),
        Some(refresh_family(id))
    );
    assert!(matches!(
        store.create_refresh_family(&refresh_family(id)).await,
        Err(Error::AlreadyExists(_))
    ));
    // From 1 to 2, with the new expiry; a second use of 1 changes nothing.
    assert!(store.advance_refresh_family(id, 1, 42).await.unwrap());
    assert!(!store.advance_refresh_family(id, 1, 99).await.unwrap());
    let now = store.refresh_family(id).await.unwrap().unwrap();
    assert_eq!((now.generation, now.expires_at), (2, 42));
    assert!(!store.advance_refresh_family(id, 3, 99).await.unwrap());
    assert!(
        !store
            .advance_refresh_family("ffffffffffffffffffffffffffffffff", 1, 9)
            .await
            .unwrap()
    );
    // Families are not users.
    assert!(store.users().await.unwrap().is_empty());
    assert!(store.user(id).await.unwrap().is_none());
}

/// Of many concurrent redemptions of the same generation, exactly one advances the family.
pub async fn concurrent_refreshes_of_one_token_have_one_winner(store: Arc<dyn Store>) {
    let id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    store
        .create_refresh_family(&refresh_family(id))
        .await
        .unwrap();
    let tries: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.advance_refresh_family(id, 1, i).await.unwrap() })
        })
        .collect();
    let mut winners = 0;
    for t in tries {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
    assert_eq!(
        store.refresh_family(id).await.unwrap().unwrap().generation,
        2
    );
}

/// A revoked family is kept, stays revoked, and never advances again.
pub async fn revoked_refresh_families_stay_revoked(store: Arc<dyn Store>) {
    let id = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    assert!(!store.revoke_refresh_family(id).await.unwrap());
    store
        .create_refresh_family(&refresh_family(id))
        .await
        .unwrap();
    assert!(store.revoke_refresh_family(id).await.unwrap());
    assert!(store.revoke_refresh_family(id).await.unwrap());
    assert!(!store.advance_refresh_family(id, 1, 9).await.unwrap());
    let family = store.refresh_family(id).await.unwrap().unwrap();
    assert!(family.revoked);
    assert_eq!(family.generation, 1);
}

// --- Paged chat list ---

/// Group chats come in pages ordered by creation time, then id (ties, negative and far-future
/// times included); private chats are not in them; walking by the last chat's cursor lists every
/// chat once while chats are created and deleted meanwhile; bad limits are refused.
pub async fn group_chats_are_paged_in_creation_order(store: Arc<dyn Store>) {
    use super::{ChatCursor, MAX_CHATS_PAGE};
    let at = |id: &str, created_at: i64| {
        let mut record = group(id, "local:1");
        record.chat.created_at = created_at;
        record
    };
    // Created out of order; `b` and `a2` tie on time and are ordered by id.
    for (id, time) in [
        ("c", 30),
        ("b", 20),
        ("a2", 20),
        ("old", -5),
        ("e", 50),
        ("d", 40),
        ("future", 4_102_444_800_000),
    ] {
        store.create_chat(&at(id, time), &[]).await.unwrap();
    }
    let mut private = group("private:pair", "local:1");
    private.chat.kind = ChatKind::Private;
    private.chat.created_at = 25;
    private.pair = Some(("local:1".into(), "local:2".into()));
    store
        .create_chat(&private, &["local:1".into(), "local:2".into()])
        .await
        .unwrap();
    let ids = |chats: &[Chat]| chats.iter().map(|c| c.id.clone()).collect::<Vec<_>>();

    let everything = store.group_chats_page(None, MAX_CHATS_PAGE).await.unwrap();
    assert_eq!(
        ids(&everything),
        ["old", "a2", "b", "c", "d", "e", "future"],
        "creation time, then id; no private chat"
    );
    assert_eq!(everything[1], at("a2", 20).chat, "the chat as stored");

    // Walk two at a time; meanwhile a chat is created after the cursor (it is listed), one
    // before it (it is not: its place was already passed), and one not yet reached is deleted.
    let first = store.group_chats_page(None, 2).await.unwrap();
    assert_eq!(ids(&first), ["old", "a2"]);
    let cursor = ChatCursor::of(&first[1]);
    store.create_chat(&at("late", 45), &[]).await.unwrap();
    store.create_chat(&at("early", 1), &[]).await.unwrap();
    store.delete_chat("d").await.unwrap();
    let mut walked = ids(&first);
    let mut cursor = Some(cursor);
    while let Some(after) = cursor.take() {
        let page = store.group_chats_page(Some(&after), 2).await.unwrap();
        assert!(page.len() <= 2);
        cursor = page.last().map(ChatCursor::of);
        walked.extend(ids(&page));
    }
    assert_eq!(walked, ["old", "a2", "b", "c", "late", "e", "future"]);

    // A cursor between two chats (a deleted chat's position) works as well.
    let between = ChatCursor {
        created_at: 20,
        id: "a3".into(),
    };
    assert_eq!(
        ids(&store.group_chats_page(Some(&between), 1).await.unwrap()),
        ["b"]
    );
    let end = ChatCursor::of(everything.last().unwrap());
    assert!(
        store
            .group_chats_page(Some(&end), 5)
            .await
            .unwrap()
            .is_empty()
    );
    for limit in [0, MAX_CHATS_PAGE + 1] {
        assert!(
            matches!(
                store.group_chats_page(None, limit).await,
                Err(Error::Invalid(_))
            ),
            "limit {limit} was accepted"
        );
    }
}
