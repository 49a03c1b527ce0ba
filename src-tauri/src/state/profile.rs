//! The data folder of this app instance: settings and remembered accounts, behind locks with short
//! critical sections (file writes are small).

use std::sync::{Mutex, PoisonError};

use crate::accounts::{Account, Accounts, AccountsFile};
use crate::settings::{Settings, SettingsFile};

/// Settings and accounts of one data folder.
#[derive(Debug)]
pub(crate) struct Profile {
    settings_file: SettingsFile,
    accounts_file: AccountsFile,
    settings: Mutex<Settings>,
    accounts: Mutex<Accounts>,
    /// The server this run uses (settings changes apply at the next start).
    pub(crate) started_with: Option<String>,
}

impl Profile {
    /// Loads the profile in `dir`; `started_with` is the server this run connected to.
    pub(crate) fn load(dir: &std::path::Path, started_with: Option<String>) -> Self {
        let settings_file = SettingsFile::in_dir(dir);
        let accounts_file = AccountsFile::in_dir(dir);
        Self {
            settings: Mutex::new(settings_file.load()),
            accounts: Mutex::new(accounts_file.load()),
            settings_file,
            accounts_file,
            started_with,
        }
    }

    /// The current settings.
    pub(crate) fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Validates and saves `new`; the answer says whether a restart is needed.
    pub(crate) fn save_settings(&self, new: Settings) -> Result<Settings, crate::settings::Error> {
        let new = new.validated()?;
        self.settings_file.save(&new)?;
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner) = new.clone();
        Ok(Settings {
            restart_needed: new.server_url != self.started_with,
            ..new
        })
    }

    /// The remembered accounts, most recent first.
    pub(crate) fn accounts(&self) -> Accounts {
        self.accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Changes the accounts list and saves it; a failed save is logged (the sign-in still works,
    /// it is only not remembered).
    pub(crate) fn update_accounts(&self, change: impl FnOnce(&mut Accounts)) {
        let mut accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut accounts);
        if let Err(err) = self.accounts_file.save(&accounts) {
            tracing::warn!(cause = %err, "cannot save the accounts list");
        }
    }

    /// Remembers `account` as the most recent.
    pub(crate) fn remember(&self, account: Account) {
        self.update_accounts(|accounts| accounts.remember(account));
    }
}
