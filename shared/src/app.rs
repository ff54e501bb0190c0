//! Everything a function needs, built once per container (at Lambda init) and
//! borrowed by every invocation after.

use crate::settings::{Settings, SettingsError};
use crate::store::{Store, StoreError};
use crate::token::{Lifetimes, TokenError, TokenKeys};
use std::time::Duration;

pub struct App {
    pub settings: Settings,
    pub store: Store,
    pub tokens: TokenKeys,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot set up the database client: {0}")]
    Store(#[from] StoreError),
    #[error("setting SECRET_KEY is unusable: {0}")]
    Token(#[from] TokenError),
}

impl App {
    /// Settings from the environment and a database client that has not yet
    /// connected: a database outage does not fail start-up.
    pub async fn from_env() -> Result<Self, InitError> {
        let settings = Settings::from_env()?;
        let store = Store::connect(&settings.database).await?;
        Self::new(settings, store)
    }

    pub fn new(settings: Settings, store: Store) -> Result<Self, InitError> {
        let tokens = TokenKeys::new(&settings.secret_key, &[])?;
        Ok(App {
            settings,
            store,
            tokens,
        })
    }

    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_minutes: self.settings.token_expire_minutes,
            refresh_minutes: self.settings.refresh_token_expire_minutes,
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

/// The start of every function's `main`: logging, then the [`App`]. A failure is
/// logged (naming the setting at fault, never its value) before it is returned.
pub async fn start() -> Result<App, InitError> {
    crate::telemetry::init();
    let app = App::from_env().await.inspect_err(|err| {
        tracing::error!(error = %err, "start-up failed");
    })?;
    app.spawn_index_setup();
    Ok(app)
}
