//! The token keys in force, and how a warm container picks up a rotation: the
//! secret the settings came from is re-read once its interval has passed.

use crate::response::error_chain;
use crate::secrets::SecretSource;
use crate::token::{TokenError, TokenKeys};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub struct Keyring {
    /// Swapped when a re-read secret brings new keys.
    keys: RwLock<Arc<TokenKeys>>,
    refresh: Option<SecretRefresh>,
}

/// The secret the settings came from, and when to read it again.
struct SecretRefresh {
    source: SecretSource,
    every: Duration,
    due: Mutex<Instant>,
}

#[derive(Debug, thiserror::Error)]
enum RefreshError {
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    #[error("setting SECRET_KEY is unusable")]
    Key(#[from] TokenError),
}

impl Keyring {
    /// Keys that never change (settings from the environment).
    pub fn fixed(keys: TokenKeys) -> Self {
        Keyring {
            keys: RwLock::new(Arc::new(keys)),
            refresh: None,
        }
    }

    /// Keys read from `source`, to be read again every `every`.
    pub fn refreshed_from(keys: TokenKeys, source: SecretSource, every: Duration) -> Self {
        Keyring {
            keys: RwLock::new(Arc::new(keys)),
            refresh: Some(SecretRefresh {
                source,
                every,
                due: Mutex::new(Instant::now() + every),
            }),
        }
    }

    /// The keys in force.
    pub fn current(&self) -> Arc<TokenKeys> {
        match self.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the secret once its refresh interval has passed, so a key
    /// rotation reaches warm containers without a redeploy. Called at the start of
    /// each request; costs a clock read when not due. A failed read keeps the keys
    /// in force and logs a warning; the next try is one interval later.
    pub async fn refresh_if_due(&self) {
        let Some(refresh) = &self.refresh else {
            return;
        };
        {
            let Ok(mut due) = refresh.due.lock() else {
                return;
            };
            let now = Instant::now();
            if now < *due {
                return;
            }
            *due = now + refresh.every;
        }
        match read_keys(&refresh.source).await {
            Ok(keys) => {
                if let Ok(mut slot) = self.keys.write() {
                    *slot = Arc::new(keys);
                }
                tracing::debug!(secret = refresh.source.id(), "secret re-read");
            }
            Err(err) => {
                let error = error_chain(&err);
                tracing::warn!(%error, "secret refresh failed; keeping the keys in force");
            }
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
