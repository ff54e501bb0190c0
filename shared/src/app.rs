//! Everything a function needs, built once per container (at Lambda init) and
//! borrowed by every invocation after.

use crate::keyring::Keyring;
use crate::response::error_chain;
use crate::secrets::{SecretError, SecretSource, SecretValues};
use crate::settings::{Settings, SettingsError};
use crate::setup;
use crate::store::{Store, StoreError};
use crate::token::{Lifetimes, TokenError, TokenKeys};
use std::sync::Arc;
use std::time::Duration;

pub struct App {
    pub settings: Settings,
    pub store: Store,
    keyring: Keyring,
    /// The secret's values as read at start-up, for settings a function reads
    /// itself (graphql's): they win over the environment like the shared ones.
    secret_values: Option<SecretValues>,
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
        let Some(id) = secret_id() else {
            let settings = Settings::from_env()?;
            let store = Store::connect(&settings.database).await?;
            return Self::new(settings, store);
        };
        let source = SecretSource::new(&id).await;
        let values = source.read().await?;
        let settings = values.settings()?;
        let store = Store::connect(&settings.database).await?;
        let keys = TokenKeys::new(&settings.secret_key, &settings.previous_secret_keys)?;
        let keyring = Keyring::refreshed_from(keys, source, settings.secret_refresh);
        Ok(App {
            settings,
            store,
            keyring,
            secret_values: Some(values),
        })
    }

    /// An app whose keys never change.
    pub fn new(settings: Settings, store: Store) -> Result<Self, InitError> {
        let keys = TokenKeys::new(&settings.secret_key, &settings.previous_secret_keys)?;
        Ok(App {
            settings,
            store,
            keyring: Keyring::fixed(keys),
            secret_values: None,
        })
    }

    /// A setting's raw value, from the secret if it has one, else from the
    /// environment: for settings of one function, read as the shared ones are.
    pub fn setting(&self, name: &str) -> Option<String> {
        self.secret_values
            .as_ref()
            .and_then(|values| values.get(name))
            .or_else(|| std::env::var(name).ok())
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

    /// Starts re-reading the secret in the background when it is due, to pick
    /// up a key rotation; never waits for the read.
    pub fn refresh_secret_if_due(&self) {
        self.keyring.refresh_if_due();
    }
}

/// The secret `AUTH_SECRET_ID` names, if it is set and not blank: where the
/// functions and `auth-admin` read their settings from before the environment.
pub(crate) fn secret_id() -> Option<String> {
    std::env::var("AUTH_SECRET_ID")
        .ok()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
}

/// How long start-up waits for the database connections: enough for TCP, TLS
/// and authentication to a remote cluster at a small memory size; a database
/// that is down costs a cold start this much, and only a warning.
const WARM_UP_LIMIT: Duration = Duration::from_millis(1500);

/// The start of every function's `main`: logging, then the [`App`], then the
/// database connections opened (bounded: see [`Store::warm_up`]), then the
/// index set-up in the background. A failure is logged (naming the setting or
/// secret at fault, never a value) before it is returned.
pub async fn start() -> Result<App, InitError> {
    crate::telemetry::init();
    let app = App::from_env().await.inspect_err(|err| {
        tracing::error!(error = %err, "start-up failed");
    })?;
    if let Err(err) = app.store.warm_up(WARM_UP_LIMIT).await {
        let error = error_chain(&err);
        tracing::warn!(%error, "database connections not opened at start-up");
    }
    setup::spawn_index_setup(&app);
    Ok(app)
}
