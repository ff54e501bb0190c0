//! Preparing a database for the service: the indexes every function and
//! `auth-admin` rely on.

use crate::app::App;
use crate::response::error_chain;
use crate::settings::DatabaseSettings;
use crate::store::{Store, StoreError};
use std::time::Duration;

/// Makes sure the indexes exist, in the background: a cold start doesn't wait
/// for it and a database that is down (or a user without the privilege) only
/// costs a warning.
pub fn spawn_index_setup(app: &App) {
    let store = app.store.clone();
    let lifetime = Duration::from_secs(u64::from(app.settings.refresh_token_expire_minutes) * 60);
    tokio::spawn(async move {
        if let Err(err) = store.ensure_unique_indexes().await {
            let error = error_chain(&err);
            tracing::warn!(%error, "could not ensure the unique indexes");
        }
        if let Err(err) = store.ensure_session_expiry(lifetime).await {
            let error = error_chain(&err);
            tracing::warn!(%error, "could not ensure the session expiry index");
        }
        if let Err(err) = store.ensure_attempt_expiry().await {
            let error = error_chain(&err);
            tracing::warn!(%error, "could not ensure the login-attempt expiry index");
        }
        if let Err(err) = store.ensure_session_meta_indexes().await {
            let error = error_chain(&err);
            tracing::warn!(%error, "could not ensure the session side-document indexes");
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
