//! Refresh tokens in the OS keyring (Secret Service on Linux, Credential Manager on Windows,
//! Keychain on macOS), under the service name `chatr`: one entry per remembered account. Nothing
//! secret is ever written to a file; the list of accounts (names, ids) lives in the app's settings.
//!
//! Linux without a Secret Service (a bare window manager, a headless box, WSL) falls back to the
//! kernel keyring (keyutils): the token then lives until logout or reboot, so silent sign-in works
//! for the rest of the login session instead of never. Reads look in both stores.
//!
//! Keyring calls block (D-Bus round trips): call them from a blocking task.

/// The keyring service every Chatr secret is filed under.
pub const SERVICE: &str = "chatr";

/// Why the keyring could not be used.
#[derive(Debug, thiserror::Error)]
#[error("the system keyring is not available: {0}")]
pub struct Error(#[from] keyring::Error);

/// The keyring entry name of one account: which backend, which provider, which user.
pub fn account_key(backend_url: &str, provider: &str, user_id: &str) -> String {
    format!("{}|{provider}|{user_id}", backend_url.trim_end_matches('/'))
}

/// Reads and writes refresh tokens.
#[derive(Debug, Clone)]
pub struct Secrets {
    service: String,
}

impl Default for Secrets {
    fn default() -> Self {
        Self {
            service: SERVICE.to_owned(),
        }
    }
}

impl Secrets {
    /// Secrets under another service name (tests use their own).
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    /// The platform's keyring entry (the Secret Service on Linux).
    fn entry(&self, account: &str) -> Result<keyring::Entry, Error> {
        Ok(keyring::Entry::new(&self.service, account)?)
    }

    /// The kernel keyring's entry for `account` (Linux only).
    #[cfg(target_os = "linux")]
    fn kernel_entry(&self, account: &str) -> Result<keyring::Entry, Error> {
        let credential =
            keyring::keyutils::KeyutilsCredential::new_with_target(None, &self.service, account)?;
        Ok(keyring::Entry::new_with_credential(Box::new(credential)))
    }

    /// Saves (or replaces) the refresh token of `account`.
    pub fn save(&self, account: &str, refresh_token: &str) -> Result<(), Error> {
        let saved = self
            .entry(account)
            .and_then(|entry| Ok(entry.set_password(refresh_token)?));
        #[cfg(target_os = "linux")]
        if let Err(err) = &saved {
            tracing::info!(cause = %err, "no Secret Service; keeping the sign-in in the kernel keyring until logout");
            return Ok(self.kernel_entry(account)?.set_password(refresh_token)?);
        }
        saved
    }

    /// The refresh token of `account`, if one is saved.
    pub fn load(&self, account: &str) -> Result<Option<String>, Error> {
        let found = self.entry(account).and_then(|entry| read(&entry));
        #[cfg(target_os = "linux")]
        if !matches!(found, Ok(Some(_))) {
            return match (found, self.kernel_entry(account).and_then(|e| read(&e))) {
                (_, Ok(token)) => Ok(token),
                (Ok(None), Err(_)) => Ok(None),
                // Neither store could be read: report the platform store's failure.
                (Err(err), Err(_)) | (Ok(Some(_)), Err(err)) => Err(err),
            };
        }
        found
    }

    /// Forgets `account`'s token (sign-out) wherever it is. Forgetting what is not there is not an
    /// error.
    pub fn delete(&self, account: &str) -> Result<(), Error> {
        let deleted = self.entry(account).and_then(|entry| remove(&entry));
        #[cfg(target_os = "linux")]
        {
            let kernel = self.kernel_entry(account).and_then(|entry| remove(&entry));
            return deleted.or(kernel);
        }
        #[allow(unreachable_code)]
        deleted
    }
}

fn read(entry: &keyring::Entry) -> Result<Option<String>, Error> {
    match entry.get_password() {
        Ok(token) => Ok(Some(token)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

fn remove(entry: &keyring::Entry) -> Result<(), Error> {
    match entry.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

#[cfg(all(test, target_os = "linux"))]
#[allow(clippy::unwrap_used)] // test helpers: a panic is the failure report
mod tests {
    //! Against a real Secret Service: each test process starts its own session bus and an unlocked
    //! gnome-keyring in a temporary home, so nothing touches the developer's keyring.

    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Child, Command, Stdio};

    struct SecretService {
        bus: Child,
        home: std::path::PathBuf,
    }

    impl SecretService {
        /// A session bus with an unlocked gnome-keyring on it, serving.
        fn start() -> Self {
            let service = Self::launch();
            assert!(
                service.ready_within(std::time::Duration::from_secs(10)),
                "the Secret Service did not become ready within 10 s"
            );
            service
        }

        fn launch() -> Self {
            // A fresh folder every time: a keyring left by an earlier process with the same pid
            // (its control socket is in here) made the new daemon hand over to a dead one.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let home =
                std::env::temp_dir().join(format!("chatr-keyring-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&home).unwrap();
            let mut bus = Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .spawn()
                .expect("dbus-daemon must be installed (Debian package dbus)");
            let mut address = String::new();
            BufReader::new(bus.stdout.take().unwrap())
                .read_line(&mut address)
                .unwrap();
            let address = address.trim().to_owned();
            // SAFETY: nextest runs every test in its own process, and this runs before any thread
            // of this test reads the environment.
            #[allow(unsafe_code)]
            unsafe {
                std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);
            }
            let mut keyring = Command::new("gnome-keyring-daemon")
                .args(["--unlock", "--components=secrets"])
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .env("HOME", &home)
                .env("XDG_DATA_HOME", home.join("data"))
                .env("XDG_RUNTIME_DIR", &home)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .expect("gnome-keyring-daemon must be installed (Debian package gnome-keyring)");
            keyring
                .stdin
                .take()
                .unwrap()
                .write_all(b"test-password")
                .unwrap();
            // The daemon forks into the background once it holds the bus name.
            keyring.wait().unwrap();
            Self { bus, home }
        }

        /// Holding the bus name is not the same as serving: the default collection appears a
        /// moment later (reads meanwhile fail with `NoStorageAccess`). Whether a probe secret can
        /// be written and removed within `limit`.
        fn ready_within(&self, limit: std::time::Duration) -> bool {
            let probe = Secrets::with_service("chatr-probe");
            let deadline = std::time::Instant::now() + limit;
            while probe.save("probe", "ready").is_err() || probe.delete("probe").is_err() {
                if std::time::Instant::now() >= deadline {
                    return false;
                }
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            true
        }
    }

    impl Drop for SecretService {
        fn drop(&mut self) {
            // gnome-keyring-daemon exits with its session bus.
            let _ = self.bus.kill();
            let _ = self.bus.wait();
            let _ = std::fs::remove_dir_all(&self.home);
        }
    }

    /// Without a Secret Service (no session bus at all), tokens go to the kernel keyring. Run in a
    /// fresh session keyring (`keyctl session -`) so nothing touches the caller's: the test starts
    /// itself again under `keyctl` and does the work in that child.
    #[test]
    fn without_a_secret_service_the_kernel_keyring_keeps_the_token() {
        const CHILD: &str = "CHATR_KEYCTL_CHILD";
        if std::env::var_os(CHILD).is_none() {
            let status = Command::new("keyctl")
                .args(["session", "-"])
                .arg(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "auth::secrets::tests::without_a_secret_service_the_kernel_keyring_keeps_the_token",
                    "--nocapture",
                ])
                .env(CHILD, "1")
                .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/chatr-no-bus")
                .status()
                .expect("keyctl must be installed (Debian package keyutils)");
            assert!(
                status.success(),
                "the test in a fresh session keyring failed"
            );
            return;
        }
        let secrets = Secrets::with_service("chatr-kernel-test");
        let account = account_key("http://127.0.0.1:7071", "local", "local:k");
        assert_eq!(secrets.load(&account).unwrap(), None);
        secrets.save(&account, "refresh-k").unwrap();
        assert_eq!(
            secrets.load(&account).unwrap().as_deref(),
            Some("refresh-k")
        );
        // It really is in the kernel's keyring, where `keyctl` finds it by its description.
        let found = Command::new("keyctl")
            .args([
                "search",
                "@s",
                "user",
                &format!("keyring-rs:{account}@chatr-kernel-test"),
            ])
            .output()
            .unwrap();
        assert!(
            found.status.success(),
            "not in the session keyring: {found:?}"
        );
        secrets.delete(&account).unwrap();
        assert_eq!(secrets.load(&account).unwrap(), None);
    }

    #[test]
    fn a_token_is_saved_read_back_and_deleted() {
        let _service = SecretService::start();
        let secrets = Secrets::with_service("chatr-test");
        let account = account_key("http://127.0.0.1:7071/", "local", "local:1");
        assert_eq!(account, "http://127.0.0.1:7071|local|local:1");

        assert_eq!(secrets.load(&account).unwrap(), None);
        secrets.save(&account, "refresh-1").unwrap();
        assert_eq!(
            secrets.load(&account).unwrap().as_deref(),
            Some("refresh-1")
        );
        secrets.save(&account, "refresh-2").unwrap();
        assert_eq!(
            secrets.load(&account).unwrap().as_deref(),
            Some("refresh-2")
        );

        // Another account is another entry.
        let other = account_key("http://127.0.0.1:7071", "local", "local:2");
        assert_eq!(secrets.load(&other).unwrap(), None);

        secrets.delete(&account).unwrap();
        assert_eq!(secrets.load(&account).unwrap(), None);
        secrets.delete(&account).unwrap();
    }
}

#[cfg(all(test, target_os = "windows"))]
#[allow(clippy::unwrap_used)] // tests: a panic is the failure report
mod windows_tests {
    //! Against Windows Credential Manager (`CredWriteW` / `CredReadW` / `CredDeleteW` through
    //! keyring's `windows-native`); CI runs it under Wine, whose Credential Manager keeps
    //! credentials in the prefix's registry.

    use super::*;

    #[test]
    fn a_token_is_saved_read_back_and_deleted_in_credential_manager() {
        let secrets = Secrets::with_service(format!("chatr-test-{}", std::process::id()));
        let account = account_key("http://127.0.0.1:7071/", "local", "local:w");
        assert_eq!(secrets.load(&account).unwrap(), None);
        secrets.save(&account, "refresh-w1").unwrap();
        assert_eq!(
            secrets.load(&account).unwrap().as_deref(),
            Some("refresh-w1")
        );
        // Saving again replaces the token (a refresh rotates it).
        secrets.save(&account, "refresh-w2").unwrap();
        assert_eq!(
            secrets.load(&account).unwrap().as_deref(),
            Some("refresh-w2")
        );
        // The entry really is in Credential Manager: another handle on it reads the same token.
        let entry = keyring::Entry::new(&secrets.service, &account).unwrap();
        assert_eq!(entry.get_password().unwrap(), "refresh-w2");

        let other = account_key("http://127.0.0.1:7071", "local", "local:x");
        assert_eq!(secrets.load(&other).unwrap(), None);

        secrets.delete(&account).unwrap();
        assert_eq!(secrets.load(&account).unwrap(), None);
        assert!(matches!(entry.get_password(), Err(keyring::Error::NoEntry)));
        // Forgetting what is not there is not an error.
        secrets.delete(&account).unwrap();
    }
}
