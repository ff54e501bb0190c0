//! Everything a function needs, built once per container (at Lambda init) and
//! borrowed by every invocation after.

use crate::keyring::Keyring;
use crate::secrets::{SecretError, SecretSource};
use crate::settings::{Settings, SettingsError};
use crate::setup;
use crate::store::{Store, StoreError};
use crate::token::{Lifetimes, TokenError, TokenKeys};
use std::sync::Arc;

pub struct App {
    pub settings: Settings,
    pub store: Store,
    keyring: Keyring,
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
        let Some(id) = secret_id else {
            let settings = Settings::from_env()?;
            let store = Store::connect(&settings.database).await?;
            return Self::new(settings, store);
        };
        let source = SecretSource::new(id.trim()).await;
        let settings = source.read().await?.settings()?;
        let store = Store::connect(&settings.database).await?;
        let keys = TokenKeys::new(&settings.secret_key, &settings.previous_secret_keys)?;
        let keyring = Keyring::refreshed_from(keys, source, settings.secret_refresh);
        Ok(App {
            settings,
            store,
            keyring,
        })
    }

    /// An app whose keys never change.
    pub fn new(settings: Settings, store: Store) -> Result<Self, InitError> {
        let keys = TokenKeys::new(&settings.secret_key, &settings.previous_secret_keys)?;
        Ok(App {
            settings,
            store,
            keyring: Keyring::fixed(keys),
        })
    }

    /// The token keys in force.
    pub fn keys(&self) -> Arc<TokenKeys> {
        self.keyring.current()
    }

    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access_minutes: self.settings.token_expire_minutes,
            refresh_minutes: self.settings.refresh_token_expire_minutes,
        }
    }

    /// Picks up a key rotation when the secret is due to be re-read.
    pub async fn refresh_secret_if_due(&self) {
        self.keyring.refresh_if_due().await;
    }
}

/// The start of every function's `main`: logging, then the [`App`], then the
/// index set-up in the background. A failure is logged (naming the setting or
/// secret at fault, never a value) before it is returned.
pub async fn start() -> Result<App, InitError> {
    crate::telemetry::init();
    let app = App::from_env().await.inspect_err(|err| {
        tracing::error!(error = %err, "start-up failed");
    })?;
    setup::spawn_index_setup(&app);
    Ok(app)
}
