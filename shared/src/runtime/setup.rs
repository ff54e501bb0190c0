//! Preparing a database for the service: the indexes every function and
//! `auth-admin` rely on, one list for both.

use crate::error::error_chain;
use crate::settings::{AdminSettings, DatabaseSettings};
use crate::store::{Store, StoreError};
use std::time::Duration;

/// The indexes the service relies on, each created the one way
/// [`crate::store`] creates it. The functions and `auth-admin init` both walk
/// [`Index::ALL`], so what `init` prepares is what a function would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// `role.name`, `user.username`, `whitelist_token.uuid_access` and
    /// `uuid_refresh`, unique, exactly as mongoengine creates them.
    Unique,
    /// The TTL index that sweeps sessions whose refresh token has expired.
    SessionExpiry,
    /// The TTL index that sweeps login-attempt counts once they are over.
    AttemptExpiry,
    /// The session side documents' indexes: their TTL and the lookups by
    /// current refresh id, retired refresh id and user.
    SessionMeta,
}

impl Index {
    pub const ALL: [Index; 4] = [
        Index::Unique,
        Index::SessionExpiry,
        Index::AttemptExpiry,
        Index::SessionMeta,
    ];

    /// What it is, for a log line or an `auth-admin init` report.
    pub fn describe(self) -> &'static str {
        match self {
            Index::Unique => {
                "unique indexes role.name, user.username, whitelist_token.uuid_access and .uuid_refresh"
            }
            Index::SessionExpiry => "session expiry index whitelist_token.created_at (TTL)",
            Index::AttemptExpiry => "login-attempt expiry index login_attempt.expires_at (TTL)",
            Index::SessionMeta => {
                "session side-document indexes session_meta.expires_at (TTL), .refresh, .retired and .user"
            }
        }
    }

    /// Creates the index unless it exists as specified (idempotent); fails if
    /// one of its names exists with other options, but for the session expiry
    /// index, whose lifetime is brought to `session_lifetime`
    /// (`REFRESH_TOKEN_EXPIRE_MINUTES`).
    pub async fn ensure(self, store: &Store, session_lifetime: Duration) -> Result<(), StoreError> {
        match self {
            Index::Unique => store.ensure_unique_indexes().await,
            Index::SessionExpiry => store.ensure_session_expiry(session_lifetime).await,
            Index::AttemptExpiry => store.ensure_attempt_expiry().await,
            Index::SessionMeta => store.ensure_session_meta_indexes().await,
        }
    }
}

/// Why `auth-admin init` stopped.
#[derive(Debug, thiserror::Error)]
pub enum InitIndexError {
    #[error(transparent)]
    Connect(StoreError),
    /// The database refused this index (say, one of its names exists with
    /// other options); the ones before it are in place.
    #[error("{}", .index.describe())]
    Index {
        index: Index,
        #[source]
        source: StoreError,
    },
}

/// `auth-admin init`: every index of [`Index::ALL`], in order, stopping at the
/// first the database refuses. Idempotent.
pub async fn init(settings: &AdminSettings) -> Result<(), InitIndexError> {
    let store = Store::connect(&settings.database)
        .await
        .map_err(InitIndexError::Connect)?;
    let mut outcome = Ok(());
    for index in Index::ALL {
        if let Err(source) = index.ensure(&store, settings.session_lifetime).await {
            outcome = Err(InitIndexError::Index { index, source });
            break;
        }
    }
    store.shutdown().await;
    outcome
}

/// Makes sure the indexes exist, in the background: a cold start doesn't wait
/// for it and a database that is down (or a user without the privilege) only
/// costs a warning.
/// `session_lifetime` is `REFRESH_TOKEN_EXPIRE_MINUTES`.
pub fn spawn_index_setup(store: &Store, session_lifetime: Duration) {
    let (store, lifetime) = (store.clone(), session_lifetime);
    tokio::spawn(async move {
        for index in Index::ALL {
            if let Err(err) = index.ensure(&store, lifetime).await {
                let error = error_chain(&err);
                tracing::warn!(%error, index = index.describe(), "could not ensure an index");
            }
        }
    });
}

/// A connected store for an administration command, with the unique indexes in
/// place (they settle duplicate names, so they must exist before any write)
/// the login-attempt expiry and the session side documents' indexes. Every collection the service writes then
/// exists before a function first writes to it. (SecantusDB, the test and
/// `scripts/dev` server, can livelock when a collection is created implicitly
/// by an index build and a write at the same moment; real MongoDB doesn't.)
pub async fn open_for_administration(settings: &DatabaseSettings) -> Result<Store, StoreError> {
    let store = Store::connect(settings).await?;
    store.ensure_unique_indexes().await?;
    store.ensure_attempt_expiry().await?;
    store.ensure_session_meta_indexes().await?;
    Ok(store)
}
