//! Where the functions and `auth-admin` read their settings: the secret
//! `AUTH_SECRET_ID` names (when it is set and not blank) wins over the
//! environment, setting by setting.

use super::secret::{SecretError, SecretSource, SecretValues};
use super::{AdminSettings, SettingsError};

/// The sources of one container's settings, read once at start-up.
#[derive(Debug, Default)]
pub struct Layers {
    /// The secret's client (kept for key rotations) and its values as read.
    pub secret: Option<(SecretSource, SecretValues)>,
}

/// Why settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

impl Layers {
    /// The environment alone, with no secret.
    pub fn environment() -> Self {
        Layers::default()
    }

    /// Reads the secret `AUTH_SECRET_ID` names, if any.
    pub async fn read() -> Result<Self, SecretError> {
        let Some(id) = secret_id() else {
            return Ok(Layers::environment());
        };
        let source = SecretSource::new(&id).await;
        let values = source.read().await?;
        Ok(Layers {
            secret: Some((source, values)),
        })
    }

    /// A setting's raw value: the secret's if it has one, else the
    /// environment's.
    pub fn get(&self, name: &str) -> Option<String> {
        self.secret
            .as_ref()
            .and_then(|(_, values)| values.get(name))
            .or_else(|| std::env::var(name).ok())
    }
}

impl AdminSettings {
    /// `auth-admin`'s settings, read as the functions read theirs, so an
    /// operator can point the command at a deployed stack's secret instead of
    /// copying the connection string into a shell.
    pub async fn load() -> Result<Self, LoadError> {
        let layers = Layers::read().await?;
        Ok(AdminSettings::from_lookup(|name| layers.get(name))?)
    }
}

/// The secret `AUTH_SECRET_ID` names, if it is set and not blank.
fn secret_id() -> Option<String> {
    std::env::var("AUTH_SECRET_ID")
        .ok()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
}
