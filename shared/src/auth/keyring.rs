//! The token keys in force, and how a warm container picks up a rotation: the
//! secret the settings came from is re-read once its interval has passed, in the
//! background, so the read never adds its latency to a request.

use crate::auth::token::{TokenError, TokenKeys};
use crate::error::error_chain;
use crate::settings::secret::SecretSource;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How soon a failed re-read is tried again: an emergency rotation must not
/// wait a whole interval because Secrets Manager hiccuped once. (On Lambda a
/// read only progresses while some request runs: the container is frozen in
/// between, so a read started just before a long idle spell may time out when
/// it thaws, and is then retried after this.)
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Keyring {
    shared: Arc<Shared>,
}

struct Shared {
    /// Swapped when a re-read secret brings new keys.
    keys: RwLock<Arc<TokenKeys>>,
    refresh: Option<SecretRefresh>,
}

/// The secret the settings came from, and when to read it again.
struct SecretRefresh {
    source: SecretSource,
    every: Duration,
    next: Mutex<NextRead>,
}

struct NextRead {
    due: Instant,
    /// A read is under way; nobody starts another.
    running: bool,
}

#[derive(Debug, thiserror::Error)]
enum RefreshError {
    #[error(transparent)]
    Secret(#[from] crate::settings::secret::SecretError),
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    #[error("setting SECRET_KEY is unusable")]
    Key(#[from] TokenError),
}

impl Keyring {
    /// Keys that never change (settings from the environment).
    pub fn fixed(keys: TokenKeys) -> Self {
        Self::with(keys, None)
    }

    /// Keys read from `source`, to be read again every `every`.
    pub fn refreshed_from(keys: TokenKeys, source: SecretSource, every: Duration) -> Self {
        let next = NextRead {
            due: Instant::now() + every,
            running: false,
        };
        let refresh = SecretRefresh {
            source,
            every,
            next: Mutex::new(next),
        };
        Self::with(keys, Some(refresh))
    }

    fn with(keys: TokenKeys, refresh: Option<SecretRefresh>) -> Self {
        Keyring {
            shared: Arc::new(Shared {
                keys: RwLock::new(Arc::new(keys)),
                refresh,
            }),
        }
    }

    /// The keys in force.
    pub fn current(&self) -> Arc<TokenKeys> {
        match self.shared.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Starts a re-read of the secret in the background once its interval has
    /// passed, so a key rotation reaches warm containers without a redeploy.
    /// Called at the start of each request, which goes on with the keys in
    /// force; costs a clock read when not due. A failed read keeps the keys and
    /// logs a warning; it is tried again after [`RETRY_AFTER_FAILURE`].
    pub fn refresh_if_due(&self) {
        let Some(refresh) = &self.shared.refresh else {
            return;
        };
        {
            let Ok(mut next) = refresh.next.lock() else {
                return;
            };
            if next.running || Instant::now() < next.due {
                return;
            }
            next.running = true;
        }
        let keyring = self.clone();
        tokio::spawn(async move { keyring.reread().await });
    }

    async fn reread(&self) {
        let Some(refresh) = &self.shared.refresh else {
            return;
        };
        // Should this task die mid-read, the next request may start another.
        let running = Running(&refresh.next);
        let outcome = read_keys(&refresh.source).await;
        let wait = match outcome {
            Ok(keys) => {
                if let Ok(mut slot) = self.shared.keys.write() {
                    *slot = Arc::new(keys);
                }
                tracing::info!(secret = refresh.source.id(), "secret re-read");
                refresh.every
            }
            Err(err) => {
                let error = error_chain(&err);
                tracing::warn!(%error, "secret refresh failed; keeping the keys in force");
                RETRY_AFTER_FAILURE.min(refresh.every)
            }
        };
        if let Ok(mut next) = refresh.next.lock() {
            next.due = Instant::now() + wait;
        }
        drop(running);
    }
}

/// Marks a re-read as under way; clears the mark when dropped, however the
/// read ended.
struct Running<'a>(&'a Mutex<NextRead>);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Ok(mut next) = self.0.lock() {
            next.running = false;
        }
    }
}

async fn read_keys(source: &SecretSource) -> Result<TokenKeys, RefreshError> {
    let settings = source.read().await?.settings()?;
    Ok(TokenKeys::new(
        &settings.secret_key,
        &settings.previous_secret_keys,
    )?)
}
