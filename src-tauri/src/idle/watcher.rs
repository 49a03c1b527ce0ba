//! Why: presence must follow the person, not the window — idle after a minute without keyboard or
//! mouse anywhere, back as soon as they touch either. How: read the OS source at the policy's
//! interval, feed the policy, and hand each transition to `on_change` (which tells the backend).
//! Generic over the source so tests drive it with scripted readings on a paused clock.

use std::future::Future;

use super::{Error, IdlePolicy, IdleReading, Transition};

/// Something that can tell how long the user has been idle.
pub trait ReadIdle: Send + Sync {
    /// One reading.
    fn read(&self) -> impl Future<Output = Result<IdleReading, Error>> + Send;
}

impl ReadIdle for super::PlatformSource {
    async fn read(&self) -> Result<IdleReading, Error> {
        super::PlatformSource::read(self).await
    }
}

/// Watches until `on_change` returns `false` (the session is gone) or the source fails for good.
pub async fn watch<S, F, Fut>(source: S, mut policy: IdlePolicy, mut on_change: F)
where
    S: ReadIdle,
    F: FnMut(Transition) -> Fut,
    Fut: Future<Output = bool>,
{
    let mut failures = 0u32;
    loop {
        tokio::time::sleep(policy.poll_interval()).await;
        match source.read().await {
            Ok(reading) => {
                failures = 0;
                if let Some(transition) = policy.observe(reading)
                    && !on_change(transition).await
                {
                    return;
                }
            }
            Err(err) => {
                failures += 1;
                tracing::debug!(cause = %err, "idle reading failed");
                if failures >= 10 {
                    tracing::warn!(cause = %err, "idle detection stopped");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// Replays readings; after the script, the last one forever.
    struct Script(Mutex<Vec<IdleReading>>);

    impl ReadIdle for Script {
        async fn read(&self) -> Result<IdleReading, Error> {
            let mut readings = self.0.lock().unwrap();
            Ok(if readings.len() > 1 {
                readings.remove(0)
            } else {
                readings[0]
            })
        }
    }

    fn idle(secs: u64) -> IdleReading {
        IdleReading {
            idle_for: Duration::from_secs(secs),
            locked: false,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn transitions_are_reported_once_each_until_the_session_ends() {
        let source = Script(Mutex::new(vec![
            idle(1),
            idle(61),
            idle(70),
            idle(0),
            idle(0),
            idle(90),
        ]));
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        watch(source, IdlePolicy::default(), move |t| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(t);
                // Stop after the third transition, as a closed session would.
                log.lock().unwrap().len() < 3
            }
        })
        .await;
        assert_eq!(
            *seen.lock().unwrap(),
            [
                Transition::EnterIdle,
                Transition::ExitIdle,
                Transition::EnterIdle
            ]
        );
    }

    struct Broken;

    impl ReadIdle for Broken {
        async fn read(&self) -> Result<IdleReading, Error> {
            Err(Error::Read("gone".into()))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_source_that_keeps_failing_stops_the_watch() {
        let mut calls = 0;
        watch(Broken, IdlePolicy::default(), |_| {
            calls += 1;
            async { true }
        })
        .await;
        assert_eq!(calls, 0);
    }
}
