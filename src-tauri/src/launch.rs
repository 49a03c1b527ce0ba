//! Options given on the command line (or, for people, in the environment): which backend to use,
//! where the app keeps its data and how soon it reports the user idle. Tests and packagers use the flags, because
//! WebDriver launches the app with arguments but without our environment.

use std::path::PathBuf;
use std::time::Duration;

/// What the app was launched with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    /// `--data-dir=PATH` or `CHATR_DATA_DIR`: where the embedded database lives.
    pub data_dir: Option<PathBuf>,
    /// `--idle-seconds=N` or `CHATR_IDLE_SECONDS`: the idle threshold.
    pub idle_threshold: Option<Duration>,
    /// `--server=URL` or `CHATR_SERVER_URL`: a remote backend instead of the embedded one.
    pub server: Option<String>,
}

impl LaunchOptions {
    /// Reads the process's arguments and environment.
    pub fn from_process() -> Self {
        Self::parse(std::env::args().skip(1), |name| std::env::var(name).ok())
    }

    /// Parses `args` (flags win) and `env`. Unknown arguments are ignored: the OS and WebDriver
    /// add their own.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let mut options = Self {
            data_dir: env("CHATR_DATA_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            idle_threshold: env("CHATR_IDLE_SECONDS").and_then(|v| seconds(&v)),
            server: env(crate::backend::SERVER_URL_VAR).filter(|v| !v.trim().is_empty()),
        };
        for arg in args {
            if let Some(dir) = arg.strip_prefix("--data-dir=").filter(|v| !v.is_empty()) {
                options.data_dir = Some(PathBuf::from(dir));
            } else if let Some(url) = arg.strip_prefix("--server=").filter(|v| !v.is_empty()) {
                options.server = Some(url.to_owned());
            } else if let Some(value) = arg.strip_prefix("--idle-seconds=") {
                options.idle_threshold = seconds(value).or(options.idle_threshold);
            }
        }
        options
    }
}

fn seconds(value: &str) -> Option<Duration> {
    value
        .parse::<u64>()
        .ok()
        .filter(|s| *s > 0)
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn flags_set_the_options() {
        let options = LaunchOptions::parse(
            [
                "--data-dir=/tmp/x".to_owned(),
                "--idle-seconds=2".to_owned(),
                "--server=https://chatr.example".to_owned(),
                "--other".to_owned(),
            ],
            env(&[("CHATR_SERVER_URL", "http://env.example")]),
        );
        assert_eq!(options.server.as_deref(), Some("https://chatr.example"));
        assert_eq!(options.data_dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!(options.idle_threshold, Some(Duration::from_secs(2)));
    }

    #[test]
    fn flags_win_over_the_environment_and_nonsense_is_ignored() {
        let options = LaunchOptions::parse(
            ["--idle-seconds=0".to_owned(), "--data-dir=/flag".to_owned()],
            env(&[("CHATR_IDLE_SECONDS", "30"), ("CHATR_DATA_DIR", "/env")]),
        );
        assert_eq!(options.data_dir, Some(PathBuf::from("/flag")));
        assert_eq!(options.idle_threshold, Some(Duration::from_secs(30)));
        assert_eq!(LaunchOptions::parse([], env(&[])), LaunchOptions::default());
        let from_env = LaunchOptions::parse([], env(&[("CHATR_SERVER_URL", "http://env.example")]));
        assert_eq!(from_env.server.as_deref(), Some("http://env.example"));
    }
}
