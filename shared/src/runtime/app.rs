//! Everything a function needs, built once per container (at Lambda init) and
//! borrowed by every invocation after.

use crate::auth::keyring::Keyring;
use crate::auth::token::{Lifetimes, TokenError, TokenKeys};
use crate::error::error_chain;
use crate::runtime::setup;
use crate::settings::secret::SecretError;
use crate::settings::{Layers, Settings, SettingsError};
use crate::store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

pub struct App {
    pub settings: Settings,
    pub store: Store,
    keyring: Keyring,
    /// Where the settings were read, for settings a function reads itself
    /// (graphql's): the secret's values win over the environment like the
    /// shared ones.
    layers: Layers,
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
        let layers = Layers::read().await?;
        let settings = Settings::from_lookup(|name| layers.get(name))?;
        let store = Store::connect(&settings.database).await?;
        let keys = TokenKeys::new(&settings.secret_key, &settings.previous_secret_keys)?;
        let keyring = match &layers.secret {
            Some((source, _)) => {
                Keyring::refreshed_from(keys, source.clone(), settings.secret_refresh)
            }
            None => Keyring::fixed(keys),
        };
        Ok(App {
            settings,
            store,
            keyring,
            layers,
        })
    }

    /// An app whose keys never change.
    pub fn new(settings: Settings, store: Store) -> Result<Self, InitError> {
        let keys = TokenKeys::new(&settings.secret_key, &settings.previous_secret_keys)?;
        Ok(App {
            settings,
            store,
            keyring: Keyring::fixed(keys),
            layers: Layers::environment(),
        })
    }

    /// A setting's raw value, from the secret if it has one, else from the
    /// environment: for settings of one function, read as the shared ones are.
    pub fn setting(&self, name: &str) -> Option<String> {
        self.layers.get(name)
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

/// How long start-up waits for the database connections: enough for TCP, TLS
/// and authentication to a remote cluster at a small memory size; a database
/// that is down costs a cold start this much, and only a warning.
const WARM_UP_LIMIT: Duration = Duration::from_millis(1500);

/// The start of every function's `main`: logging, then the [`App`], then the
/// database connections opened (bounded: see [`Store::warm_up`]), then the
/// index set-up in the background. A failure is logged (naming the setting or
/// secret at fault, never a value) before it is returned.
pub async fn start() -> Result<App, InitError> {
    crate::runtime::telemetry::init();
    let app = App::from_env().await.inspect_err(|err| {
        tracing::error!(error = %err, "start-up failed");
    })?;
    if let Err(err) = app.store.warm_up(WARM_UP_LIMIT).await {
        let error = error_chain(&err);
        tracing::warn!(%error, "database connections not opened at start-up");
    }
    let session_lifetime =
        Duration::from_secs(u64::from(app.settings.refresh_token_expire_minutes) * 60);
    setup::spawn_index_setup(&app.store, session_lifetime);
    Ok(app)
}
