//! Everything a function needs, built once per container (at Lambda init) and
//! borrowed by every invocation after.

use crate::secrets::{SecretError, SecretSource, SecretValues};
use crate::settings::{Settings, SettingsError};
use crate::store::{Store, StoreError};
use crate::token::{Lifetimes, TokenError, TokenKeys};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub struct App {
    pub settings: Settings,
    pub store: Store,
    /// Swapped when a re-read secret brings new keys.
    keys: RwLock<Arc<TokenKeys>>,
    secret: Option<SecretRefresh>,
}

/// The secret the settings came from, and when to read it again.
struct SecretRefresh {
    source: SecretSource,
    every: Duration,
    due: Mutex<Instant>,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("cannot set up the database client: {0}")]
    Store(#[from] StoreError),
    #[error("setting SECRET_KEY is unusable: {0}")]
    Token(#[from] TokenError),
}

impl App {
    /// Settings from the environment, overridden by the secret `AUTH_SECRET_ID`
    /// names (if set), and a database client that has not yet connected: a
    /// database outage does not fail start-up.
    pub async fn from_env() -> Result<Self, InitError> {
        let secret_id = std::env::var("AUTH_SECRET_ID")
            .ok()
            .filter(|id| !id.trim().is_empty());
        let (settings, source) = match secret_id {
            None => (Settings::from_env()?, None),
            Some(id) => {
                let source = SecretSource::new(id.trim()).await;
                let values = source.read().await?;
                (settings_from(&values)?, Some(source))
            }
        };
        let store = Store::connect(&settings.database).await?;
        let mut app = Self::new(settings, store)?;
        app.secret = source.map(|source| SecretRefresh {
            source,
            every: app.settings.secret_refresh,
            due: Mutex::new(Instant::now() + app.settings.secret_refresh),
        });
        Ok(app)
    }

    pub fn new(settings: Settings, store: Store) -> Result<Self, InitError> {
        let keys = TokenKeys::new(&settings.secret_key, &settings.previous_secret_keys)?;
        Ok(App {
            settings,
            store,
            keys: RwLock::new(Arc::new(keys)),
            secret: None,
        })
    }

    /// The token keys in force.
    pub fn tokens(&self) -> Arc<TokenKeys> {
        match self.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_minutes: self.settings.token_expire_minutes,
            refresh_minutes: self.settings.refresh_token_expire_minutes,
        }
    }

    /// Re-reads the secret once its refresh interval has passed, so a key
    /// rotation reaches warm containers without a redeploy. Called at the start of
    /// each request; costs a clock read when not due. A failed read keeps the keys
    /// in force and logs a warning; the next try is one interval later.
    pub async fn refresh_secret_if_due(&self) {
        let Some(secret) = &self.secret else {
            return;
        };
        {
            let Ok(mut due) = secret.due.lock() else {
                return;
            };
            let now = Instant::now();
            if now < *due {
                return;
            }
            *due = now + secret.every;
        }
        let keys = match secret.source.read().await {
            Ok(values) => settings_from(&values)
                .map_err(|err| err.to_string())
                .and_then(|s| {
                    TokenKeys::new(&s.secret_key, &s.previous_secret_keys)
                        .map_err(|e| e.to_string())
                }),
            Err(err) => Err(err.to_string()),
        };
        match keys {
            Ok(keys) => {
                if let Ok(mut slot) = self.keys.write() {
                    *slot = Arc::new(keys);
                }
                tracing::debug!(secret = secret.source.id(), "secret re-read");
            }
            Err(error) => {
                tracing::warn!(%error, "secret refresh failed; keeping the keys in force");
            }
        }
    }

    /// Makes sure the indexes exist, in the background: a cold start doesn't wait
    /// for it and a database that is down (or a user without the privilege) only
    /// costs a warning.
    pub fn spawn_index_setup(&self) {
        let store = self.store.clone();
        let lifetime =
            Duration::from_secs(u64::from(self.settings.refresh_token_expire_minutes) * 60);
        tokio::spawn(async move {
            if let Err(err) = store.ensure_unique_indexes().await {
                tracing::warn!(error = %err, "could not ensure the unique indexes");
            }
            if let Err(err) = store.ensure_session_expiry(lifetime).await {
                tracing::warn!(error = %err, "could not ensure the session expiry index");
            }
        });
    }
}

/// The secret's values over the environment's.
fn settings_from(values: &SecretValues) -> Result<Settings, SettingsError> {
    Settings::from_lookup(|name| values.get(name).or_else(|| std::env::var(name).ok()))
}

/// The start of every function's `main`: logging, then the [`App`]. A failure is
/// logged (naming the setting or secret at fault, never a value) before it is
/// returned.
pub async fn start() -> Result<App, InitError> {
    crate::telemetry::init();
    let app = App::from_env().await.inspect_err(|err| {
        tracing::error!(error = %err, "start-up failed");
    })?;
    app.spawn_index_setup();
    Ok(app)
}
