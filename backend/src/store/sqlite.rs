//! The SQLite store: one file (WAL journal), one writer connection behind a mutex, each call run on
//! the blocking thread pool. Schema changes are numbered migrations applied at open
//! (`PRAGMA user_version`). `synchronous = NORMAL` with WAL survives the process being killed; a
//! power cut may lose the last few commits, which is the usual trade for an app's local database.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chatr_protocol::{Chat, ChatKind, Message};
use rusqlite::{Connection, OptionalExtension, params};

use super::RefreshFamily;
use super::{ChatCursor, MAX_CHATS_PAGE};
use super::{ChatRecord, ConnectionRecord, Error, MAX_PAGE, Page, Store, UserRecord, key};

/// The schema, one migration per entry; never edit a released one, append a new one.
const MIGRATIONS: &[&str] = &[
    r"
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        provider TEXT NOT NULL
    );
    CREATE TABLE connections (
        user_id TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        idle INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, connection_id)
    );
    CREATE TABLE chats (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('group', 'private')),
        owner TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        pair_a TEXT,
        pair_b TEXT
    );
    CREATE TABLE members (
        chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        PRIMARY KEY (chat_id, user_id)
    );
    CREATE INDEX members_by_user ON members(user_id, chat_id);
    CREATE TABLE messages (
        chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        sender TEXT NOT NULL,
        text TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        client_key TEXT NOT NULL,
        PRIMARY KEY (chat_id, seq),
        UNIQUE (chat_id, sender, client_key)
    );
",
    r"
    -- When each user's last connection closed (ms since the epoch), for 'last seen'.
    CREATE TABLE last_seen (
        user_id TEXT PRIMARY KEY,
        at INTEGER NOT NULL
    );
",
    r"
    -- A connection belongs to one user: look it up by id alone (replayed events naming another
    -- user are refused). Connection ids are unique, so no duplicates exist; keep one if they do.
    DELETE FROM connections WHERE rowid NOT IN
        (SELECT MIN(rowid) FROM connections GROUP BY connection_id);
    CREATE UNIQUE INDEX IF NOT EXISTS connections_by_id ON connections(connection_id);
",
    r"
    -- Refresh-token families of the local sign-in provider (one per sign-in; no tokens stored).
    CREATE TABLE IF NOT EXISTS refresh_families (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        provider TEXT NOT NULL,
        generation INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );
",
    r"
    -- Group chats in listing order (creation time, then id): a page is one index range read.
    CREATE INDEX IF NOT EXISTS chats_by_kind_and_time ON chats(kind, created_at, id);
",
];

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    db: Arc<Mutex<Connection>>,
}

fn backend(err: impl std::fmt::Display) -> Error {
    Error::Backend(err.to_string())
}

/// The store's clock, in ms since the Unix epoch.
fn now_ms() -> i64 {
    super::now_ms()
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::setup(Connection::open(path).map_err(backend)?)
    }

    /// A private in-memory database (tests).
    pub fn in_memory() -> Result<Self, Error> {
        Self::setup(Connection::open_in_memory().map_err(backend)?)
    }

    fn setup(mut db: Connection) -> Result<Self, Error> {
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        db.pragma_update(None, "synchronous", "NORMAL")
            .map_err(backend)?;
        db.pragma_update(None, "foreign_keys", "ON")
            .map_err(backend)?;
        db.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        let version: usize = db
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(backend)?;
        if version > MIGRATIONS.len() {
            return Err(Error::Backend(format!(
                "the database is from a newer Chatr (schema {version}, this build knows {})",
                MIGRATIONS.len()
            )));
        }
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = db.transaction().map_err(backend)?;
            tx.execute_batch(migration).map_err(backend)?;
            tx.pragma_update(None, "user_version", i + 1)
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
        }
        Ok(Self {
            db: Arc::new(Mutex::new(db)),
        })
    }

    /// Runs `f` on the connection, off the async threads.
    async fn with<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let mut db = db.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut db)
        })
        .await
        .map_err(backend)?
    }
}

fn owner_of(db: &Connection, connection: &str) -> Result<Option<String>, Error> {
    db.prepare_cached("SELECT user_id FROM connections WHERE connection_id = ?1")
        .map_err(backend)?
        .query_row(params![connection], |r| r.get(0))
        .optional()
        .map_err(backend)
}

fn connections_of(db: &Connection, user: &str) -> Result<Vec<ConnectionRecord>, Error> {
    let mut stmt = db
        .prepare_cached(
            "SELECT connection_id, idle FROM connections WHERE user_id = ?1 ORDER BY connection_id",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![user], |row| {
            Ok(ConnectionRecord {
                connection_id: row.get(0)?,
                idle: row.get(1)?,
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

fn chat_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ChatRecord> {
    let kind: String = row.get(2)?;
    let pair_a: Option<String> = row.get(5)?;
    let pair_b: Option<String> = row.get(6)?;
    Ok(ChatRecord {
        chat: Chat {
            id: row.get(0)?,
            name: row.get(1)?,
            kind: if kind == "private" {
                ChatKind::Private
            } else {
                ChatKind::Group
            },
            owner: row.get(3)?,
            created_at: row.get(4)?,
        },
        pair: pair_a.zip(pair_b),
    })
}

const CHAT_COLUMNS: &str = "id, name, kind, owner, created_at, pair_a, pair_b";

fn message_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        chat_id: row.get(0)?,
        seq: row.get(1)?,
        from: row.get(2)?,
        text: row.get(3)?,
        sent_at: row.get(4)?,
        client_key: row.get(5)?,
    })
}

const MESSAGE_COLUMNS: &str = "chat_id, seq, sender, text, sent_at, client_key";

#[async_trait]
impl Store for SqliteStore {
    async fn upsert_user(&self, user: &UserRecord) -> Result<(), Error> {
        key::check("user id", &user.id)?;
        let user = user.clone();
        self.with(move |db| {
            db.execute(
                "INSERT INTO users (id, name, provider) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, provider = excluded.provider",
                params![user.id, user.name, user.provider],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn user(&self, id: &str) -> Result<Option<UserRecord>, Error> {
        key::check("user id", id)?;
        let id = id.to_owned();
        self.with(move |db| {
            db.query_row(
                "SELECT id, name, provider FROM users WHERE id = ?1",
                params![id],
                |row| {
                    Ok(UserRecord {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        provider: row.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn users(&self) -> Result<Vec<UserRecord>, Error> {
        self.with(|db| {
            let mut stmt = db
                .prepare("SELECT id, name, provider FROM users ORDER BY name, id")
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |row| {
                    Ok(UserRecord {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        provider: row.get(2)?,
                    })
                })
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn add_connection(
        &self,
        user: &str,
        connection: &str,
    ) -> Result<Vec<ConnectionRecord>, Error> {
        key::check("user id", user)?;
        key::check("connection id", connection)?;
        let (user, connection) = (user.to_owned(), connection.to_owned());
        self.with(move |db| {
            let tx = db.transaction().map_err(backend)?;
            if let Some(owner) = owner_of(&tx, &connection)?
                && owner != user
            {
                return Err(Error::AlreadyExists(format!("connection {connection}")));
            }
            tx.execute(
                "INSERT OR IGNORE INTO connections (user_id, connection_id, idle) VALUES (?1, ?2, 0)",
                params![user, connection],
            )
            .map_err(backend)?;
            let after = connections_of(&tx, &user)?;
            tx.commit().map_err(backend)?;
            Ok(after)
        })
        .await
    }

    async fn connection_owner(&self, connection: &str) -> Result<Option<String>, Error> {
        key::check("connection id", connection)?;
        let connection = connection.to_owned();
        self.with(move |db| owner_of(db, &connection)).await
    }

    async fn all_connections(&self) -> Result<Vec<(String, ConnectionRecord)>, Error> {
        self.with(|db| {
            let mut stmt = db
                .prepare("SELECT user_id, connection_id, idle FROM connections ORDER BY user_id")
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        ConnectionRecord {
                            connection_id: r.get(1)?,
                            idle: r.get(2)?,
                        },
                    ))
                })
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn remove_connection(
        &self,
        user: &str,
        connection: &str,
    ) -> Result<Vec<ConnectionRecord>, Error> {
        key::check("user id", user)?;
        key::check("connection id", connection)?;
        let (user, connection) = (user.to_owned(), connection.to_owned());
        let now = now_ms();
        self.with(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let removed = tx
                .execute(
                    "DELETE FROM connections WHERE user_id = ?1 AND connection_id = ?2",
                    params![user, connection],
                )
                .map_err(backend)?;
            let left = connections_of(&tx, &user)?;
            if removed == 1 && left.is_empty() {
                tx.execute(
                    "INSERT INTO last_seen (user_id, at) VALUES (?1, ?2)
                     ON CONFLICT (user_id) DO UPDATE SET at = excluded.at",
                    params![user, now],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            Ok(left)
        })
        .await
    }

    async fn last_seen(&self, user: &str) -> Result<Option<i64>, Error> {
        key::check("user id", user)?;
        let user = user.to_owned();
        self.with(move |db| {
            db.query_row(
                "SELECT at FROM last_seen WHERE user_id = ?1",
                params![user],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn set_idle(
        &self,
        user: &str,
        connection: &str,
        idle: bool,
    ) -> Result<Vec<ConnectionRecord>, Error> {
        key::check("user id", user)?;
        key::check("connection id", connection)?;
        let (user, connection) = (user.to_owned(), connection.to_owned());
        self.with(move |db| {
            db.execute(
                "UPDATE connections SET idle = ?3 WHERE user_id = ?1 AND connection_id = ?2",
                params![user, connection, idle],
            )
            .map_err(backend)?;
            connections_of(db, &user)
        })
        .await
    }

    async fn connections(&self, user: &str) -> Result<Vec<ConnectionRecord>, Error> {
        key::check("user id", user)?;
        let user = user.to_owned();
        self.with(move |db| connections_of(db, &user)).await
    }

    async fn create_chat(&self, record: &ChatRecord, members: &[String]) -> Result<(), Error> {
        key::check("chat id", &record.chat.id)?;
        for member in members {
            key::check("user id", member)?;
        }
        let (record, members) = (record.clone(), members.to_vec());
        self.with(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let chat = &record.chat;
            let kind = match chat.kind {
                ChatKind::Group => "group",
                ChatKind::Private => "private",
            };
            let (pair_a, pair_b) = record.pair.clone().unzip();
            let inserted = tx
                .execute(
                    "INSERT OR IGNORE INTO chats (id, name, kind, owner, created_at, pair_a, pair_b)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![chat.id, chat.name, kind, chat.owner, chat.created_at, pair_a, pair_b],
                )
                .map_err(backend)?;
            if inserted == 0 {
                return Err(Error::AlreadyExists(chat.id.clone()));
            }
            for member in &members {
                tx.execute(
                    "INSERT OR IGNORE INTO members (chat_id, user_id) VALUES (?1, ?2)",
                    params![chat.id, member],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn chat(&self, id: &str) -> Result<Option<ChatRecord>, Error> {
        key::check("chat id", id)?;
        let id = id.to_owned();
        self.with(move |db| {
            db.query_row(
                &format!("SELECT {CHAT_COLUMNS} FROM chats WHERE id = ?1"),
                params![id],
                chat_from_row,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn group_chats(&self) -> Result<Vec<Chat>, Error> {
        self.with(|db| {
            let mut stmt = db
                .prepare(&format!(
                    "SELECT {CHAT_COLUMNS} FROM chats WHERE kind = 'group' ORDER BY created_at, id"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map([], chat_from_row).map_err(backend)?;
            rows.map(|r| r.map(|record| record.chat))
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
        .await
    }

    async fn delete_chat(&self, id: &str) -> Result<(), Error> {
        key::check("chat id", id)?;
        let id = id.to_owned();
        self.with(move |db| {
            let deleted = db
                .execute("DELETE FROM chats WHERE id = ?1", params![id])
                .map_err(backend)?;
            if deleted == 0 {
                return Err(Error::NotFound(id));
            }
            Ok(())
        })
        .await
    }

    async fn add_member(&self, chat: &str, user: &str) -> Result<bool, Error> {
        key::check("chat id", chat)?;
        key::check("user id", user)?;
        let (chat, user) = (chat.to_owned(), user.to_owned());
        self.with(move |db| {
            let exists: bool = db
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM chats WHERE id = ?1)",
                    params![chat],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if !exists {
                return Err(Error::NotFound(chat));
            }
            let added = db
                .execute(
                    "INSERT OR IGNORE INTO members (chat_id, user_id) VALUES (?1, ?2)",
                    params![chat, user],
                )
                .map_err(backend)?;
            Ok(added == 1)
        })
        .await
    }

    async fn remove_member(&self, chat: &str, user: &str) -> Result<bool, Error> {
        key::check("chat id", chat)?;
        key::check("user id", user)?;
        let (chat, user) = (chat.to_owned(), user.to_owned());
        self.with(move |db| {
            let removed = db
                .execute(
                    "DELETE FROM members WHERE chat_id = ?1 AND user_id = ?2",
                    params![chat, user],
                )
                .map_err(backend)?;
            Ok(removed == 1)
        })
        .await
    }

    async fn is_member(&self, chat: &str, user: &str) -> Result<bool, Error> {
        key::check("chat id", chat)?;
        key::check("user id", user)?;
        let (chat, user) = (chat.to_owned(), user.to_owned());
        self.with(move |db| {
            db.query_row(
                "SELECT EXISTS (SELECT 1 FROM members WHERE chat_id = ?1 AND user_id = ?2)",
                params![chat, user],
                |r| r.get(0),
            )
            .map_err(backend)
        })
        .await
    }

    async fn members(&self, chat: &str) -> Result<Vec<String>, Error> {
        key::check("chat id", chat)?;
        let chat = chat.to_owned();
        self.with(move |db| {
            let mut stmt = db
                .prepare_cached("SELECT user_id FROM members WHERE chat_id = ?1 ORDER BY user_id")
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![chat], |r| r.get(0))
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn chats_of(&self, user: &str) -> Result<Vec<ChatRecord>, Error> {
        key::check("user id", user)?;
        let user = user.to_owned();
        self.with(move |db| {
            let mut stmt = db
                .prepare_cached(&format!(
                    "SELECT {CHAT_COLUMNS} FROM chats WHERE id IN
                       (SELECT chat_id FROM members WHERE user_id = ?1)
                     ORDER BY created_at, id"
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![user], chat_from_row)
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn append_message(
        &self,
        chat: &str,
        from: &str,
        text: &str,
        client_key: &str,
        sent_at: i64,
    ) -> Result<Message, Error> {
        key::check("chat id", chat)?;
        key::check("user id", from)?;
        key::check("client key", client_key)?;
        let (chat, from, text, client_key) = (
            chat.to_owned(),
            from.to_owned(),
            text.to_owned(),
            client_key.to_owned(),
        );
        self.with(move |db| {
            let tx = db.transaction().map_err(backend)?;
            // Cached statements: this is the hot path of every chat message.
            let existing = tx
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages
                     WHERE chat_id = ?1 AND sender = ?2 AND client_key = ?3"
                ))
                .map_err(backend)?
                .query_row(params![chat, from, client_key], message_from_row)
                .optional()
                .map_err(backend)?;
            if let Some(original) = existing {
                return Ok(original);
            }
            let exists: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM chats WHERE id = ?1)")
                .map_err(backend)?
                .query_row(params![chat], |r| r.get(0))
                .map_err(backend)?;
            if !exists {
                return Err(Error::NotFound(chat));
            }
            let seq: u64 = tx
                .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE chat_id = ?1")
                .map_err(backend)?
                .query_row(params![chat], |r| r.get(0))
                .map_err(backend)?;
            tx.prepare_cached(
                "INSERT INTO messages (chat_id, seq, sender, text, sent_at, client_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend)?
            .execute(params![chat, seq, from, text, sent_at, client_key])
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(Message {
                chat_id: chat,
                seq,
                from,
                text,
                sent_at,
                client_key,
            })
        })
        .await
    }

    async fn find_message(
        &self,
        chat: &str,
        from: &str,
        client_key: &str,
    ) -> Result<Option<Message>, Error> {
        key::check("chat id", chat)?;
        key::check("user id", from)?;
        key::check("client key", client_key)?;
        let (chat, from, client_key) = (chat.to_owned(), from.to_owned(), client_key.to_owned());
        self.with(move |db| {
            db.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE chat_id = ?1 AND sender = ?2 AND client_key = ?3"
            ))
            .map_err(backend)?
            .query_row(params![chat, from, client_key], message_from_row)
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn messages(&self, chat: &str, page: Page, limit: usize) -> Result<Vec<Message>, Error> {
        key::check("chat id", chat)?;
        if limit == 0 || limit > MAX_PAGE {
            return Err(Error::Invalid(format!("limit must be 1 to {MAX_PAGE}")));
        }
        let chat = chat.to_owned();
        self.with(move |db| {
            let (sql, bound) = match page {
                Page::Latest => (
                    format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ?1 AND seq > ?2 ORDER BY seq DESC LIMIT ?3"),
                    0,
                ),
                // SQLite integers are i64: no stored seq reaches beyond that.
                Page::Before(seq) => (
                    format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"),
                    seq.min(i64::MAX as u64),
                ),
                Page::After(seq) => (
                    format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT ?3"),
                    seq.min(i64::MAX as u64),
                ),
            };
            let mut stmt = db.prepare_cached(&sql).map_err(backend)?;
            let rows = stmt
                .query_map(params![chat, bound, limit], message_from_row)
                .map_err(backend)?;
            let mut messages: Vec<Message> = rows.collect::<Result<_, _>>().map_err(backend)?;
            messages.sort_by_key(|m| m.seq);
            Ok(messages)
        })
        .await
    }

    // --- Refresh-token families of the local sign-in provider ---

    async fn create_refresh_family(&self, family: &RefreshFamily) -> Result<(), Error> {
        key::check("refresh family id", &family.id)?;
        let family = family.clone();
        let generation = i64::try_from(family.generation).map_err(backend)?;
        self.with(move |db| {
            let inserted = db
                .execute(
                    "INSERT INTO refresh_families
                         (id, user_id, name, provider, generation, expires_at, revoked)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
                    params![
                        family.id,
                        family.user_id,
                        family.name,
                        family.provider,
                        generation,
                        family.expires_at,
                        family.revoked
                    ],
                )
                .map_err(backend)?;
            if inserted == 0 {
                return Err(Error::AlreadyExists(format!(
                    "refresh family {}",
                    family.id
                )));
            }
            Ok(())
        })
        .await
    }

    async fn refresh_family(&self, id: &str) -> Result<Option<RefreshFamily>, Error> {
        key::check("refresh family id", id)?;
        let id = id.to_owned();
        self.with(move |db| {
            db.query_row(
                "SELECT id, user_id, name, provider, generation, expires_at, revoked
                 FROM refresh_families WHERE id = ?1",
                params![id],
                |row| {
                    let generation: i64 = row.get(4)?;
                    Ok(RefreshFamily {
                        id: row.get(0)?,
                        user_id: row.get(1)?,
                        name: row.get(2)?,
                        provider: row.get(3)?,
                        generation: u64::try_from(generation).unwrap_or(0),
                        expires_at: row.get(5)?,
                        revoked: row.get(6)?,
                    })
                },
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn advance_refresh_family(
        &self,
        id: &str,
        generation: u64,
        expires_at: i64,
    ) -> Result<bool, Error> {
        key::check("refresh family id", id)?;
        let id = id.to_owned();
        let generation = i64::try_from(generation).map_err(backend)?;
        self.with(move |db| {
            let changed = db
                .execute(
                    "UPDATE refresh_families SET generation = generation + 1, expires_at = ?3
                     WHERE id = ?1 AND generation = ?2 AND revoked = 0",
                    params![id, generation, expires_at],
                )
                .map_err(backend)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn revoke_refresh_family(&self, id: &str) -> Result<bool, Error> {
        key::check("refresh family id", id)?;
        let id = id.to_owned();
        self.with(move |db| {
            let changed = db
                .execute(
                    "UPDATE refresh_families SET revoked = 1 WHERE id = ?1",
                    params![id],
                )
                .map_err(backend)?;
            Ok(changed == 1)
        })
        .await
    }

    // --- Paged listing of group chats ---

    async fn group_chats_page(
        &self,
        after: Option<&ChatCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, Error> {
        if limit == 0 || limit > MAX_CHATS_PAGE {
            return Err(Error::Invalid(format!(
                "limit must be 1 to {MAX_CHATS_PAGE}"
            )));
        }
        let after = after.cloned();
        self.with(move |db| {
            let (created_at, id) =
                after.map_or((i64::MIN, String::new()), |c| (c.created_at, c.id));
            // Row-value comparison keeps the range on the (kind, created_at, id) index.
            let mut stmt = db
                .prepare_cached(&format!(
                    "SELECT {CHAT_COLUMNS} FROM chats WHERE kind = 'group' \
                     AND (created_at, id) > (?1, ?2) ORDER BY created_at, id LIMIT ?3"
                ))
                .map_err(backend)?;
            let limit = i64::try_from(limit).map_err(backend)?;
            let rows = stmt
                .query_map(params![created_at, id, limit], chat_from_row)
                .map_err(backend)?;
            rows.map(|r| r.map(|record| record.chat))
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
        .await
    }
}
