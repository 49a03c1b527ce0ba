//! Remembered accounts (`accounts.json` in the app's data folder): who signed in where, with
//! which provider, most recent first. The list holds names and ids only; each account's refresh
//! token is in the OS keyring under [`Account::id`] ([`crate::auth::secrets`]), never here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One remembered account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The keyring entry's name: server, provider and user id (see `secrets::account_key`).
    pub id: String,
    /// The Chatr user id (provider-prefixed).
    pub user_id: String,
    /// The display name.
    pub name: String,
    /// The provider's name (`local`, `github`, …).
    pub provider: String,
    /// The backend's base URL, or `embedded` for the app's own backend (its port changes).
    pub server: String,
    /// When it was last used, ms since the epoch.
    pub last_used: i64,
}

/// The list, most recent first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounts(pub Vec<Account>);

impl Accounts {
    /// Puts `account` first (replacing an older entry with the same id).
    pub fn remember(&mut self, account: Account) {
        self.0.retain(|a| a.id != account.id);
        self.0.insert(0, account);
    }

    /// Drops the account `id`; `true` if it was there.
    pub fn forget(&mut self, id: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|a| a.id != id);
        self.0.len() != before
    }

    /// The account `id`.
    pub fn get(&self, id: &str) -> Option<&Account> {
        self.0.iter().find(|a| a.id == id)
    }

    /// The most recently used account on `server`.
    pub fn last_on(&self, server: &str) -> Option<&Account> {
        self.0.iter().find(|a| a.server == server)
    }
}

/// Reads and writes the accounts file.
#[derive(Debug, Clone)]
pub struct AccountsFile {
    path: PathBuf,
}

impl AccountsFile {
    /// The accounts file in the data folder `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            path: dir.join("accounts.json"),
        }
    }

    /// The remembered accounts (none when the file is missing or unreadable).
    pub fn load(&self) -> Accounts {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Saves the list.
    pub fn save(&self, accounts: &Accounts) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(accounts).map_err(std::io::Error::other)?;
        crate::settings::write_atomically(&self.path, &bytes)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn account(id: &str, server: &str, at: i64) -> Account {
        Account {
            id: id.into(),
            user_id: format!("local:{id}"),
            name: id.to_uppercase(),
            provider: "local".into(),
            server: server.into(),
            last_used: at,
        }
    }

    #[test]
    fn the_latest_sign_in_comes_first_once() {
        let mut accounts = Accounts::default();
        accounts.remember(account("a", "s1", 1));
        accounts.remember(account("b", "s1", 2));
        accounts.remember(account("a", "s1", 3));
        let ids: Vec<_> = accounts.0.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(accounts.get("a").unwrap().last_used, 3);
    }

    #[test]
    fn the_last_account_is_per_server() {
        let mut accounts = Accounts::default();
        accounts.remember(account("a", "s1", 1));
        accounts.remember(account("b", "s2", 2));
        assert_eq!(accounts.last_on("s1").unwrap().id, "a");
        assert_eq!(accounts.last_on("s2").unwrap().id, "b");
        assert!(accounts.last_on("s3").is_none());
    }

    #[test]
    fn forgetting_removes_only_that_account() {
        let mut accounts = Accounts::default();
        accounts.remember(account("a", "s1", 1));
        accounts.remember(account("b", "s1", 2));
        assert!(accounts.forget("a"));
        assert!(!accounts.forget("a"));
        assert_eq!(accounts.0.len(), 1);
    }

    #[test]
    fn the_file_round_trips_and_holds_no_token() {
        let dir = std::env::temp_dir().join(format!("chatr-accounts-{}", uuid::Uuid::new_v4()));
        let file = AccountsFile::in_dir(&dir);
        assert_eq!(file.load(), Accounts::default());
        let mut accounts = Accounts::default();
        accounts.remember(account("a", "s1", 1));
        file.save(&accounts).unwrap();
        assert_eq!(file.load(), accounts);
        let text = std::fs::read_to_string(dir.join("accounts.json")).unwrap();
        assert!(!text.to_lowercase().contains("token"));
    }
}
