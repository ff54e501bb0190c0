//! The indexes the service relies on.

use super::{bounded, Store, StoreError};
use mongodb::bson::{doc, Document};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;
use std::time::Duration;

/// The session expiry index's name (the driver's default for its key).
const SESSION_EXPIRY: &str = "created_at_1";

/// `IndexOptionsConflict` (85), or `IndexKeySpecsConflict` (86), which some
/// servers answer instead when the name is the same: an index of that name
/// exists with other options (for a TTL index: another `expireAfterSeconds`).
fn is_options_conflict(err: &mongodb::error::Error) -> bool {
    matches!(err.kind.as_ref(), mongodb::error::ErrorKind::Command(c) if c.code == 85 || c.code == 86)
}

impl Store {
    /// Creates the unique indexes the Python service creates, exactly as
    /// mongoengine sends them (name `<field>_1`, `unique`, `sparse: false`,
    /// `background: false`): a server that compares index options strictly
    /// would otherwise refuse the Python service's own index creation when it
    /// starts beside us. They decide races between concurrent writes of one
    /// username or token id.
    pub async fn ensure_unique_indexes(&self) -> Result<(), StoreError> {
        #[allow(deprecated)] // `background` is ignored by servers since 4.2, but compared.
        let unique = |field: &str| {
            let options = IndexOptions::builder()
                .name(format!("{field}_1"))
                .background(false)
                .unique(true)
                .sparse(false)
                .build();
            IndexModel::builder()
                .keys(doc! { field: 1 })
                .options(options)
                .build()
        };
        bounded(async {
            self.roles::<Document>()
                .create_index(unique("name"))
                .await?;
            self.users::<Document>()
                .create_index(unique("username"))
                .await?;
            self.sessions::<Document>()
                .create_indexes([unique("uuid_access"), unique("uuid_refresh")])
                .await?;
            Ok(())
        })
        .await
    }

    /// A TTL index that sweeps login-attempt counts once they are over (each
    /// entry carries its own `expires_at`).
    pub async fn ensure_attempt_expiry(&self) -> Result<(), StoreError> {
        let ttl = IndexModel::builder()
            .keys(doc! { "expires_at": 1 })
            .options(IndexOptions::builder().expire_after(Duration::ZERO).build())
            .build();
        bounded(async {
            self.db
                .collection::<Document>(super::attempts::LOGIN_ATTEMPT)
                .create_index(ttl)
                .await?;
            Ok(())
        })
        .await
    }

    /// The side documents' indexes: the TTL (each carries its own
    /// `expires_at`), and lookups by current refresh id (every refresh), by
    /// retired refresh id (a reuse) and by user (the session list). Building
    /// them also creates the collection, before any function writes to it.
    pub async fn ensure_session_meta_indexes(&self) -> Result<(), StoreError> {
        let ttl = IndexModel::builder()
            .keys(doc! { "expires_at": 1 })
            .options(IndexOptions::builder().expire_after(Duration::ZERO).build())
            .build();
        let by = |field: &str| IndexModel::builder().keys(doc! { field: 1 }).build();
        bounded(async {
            self.db
                .collection::<Document>(super::SESSION_META)
                .create_indexes([ttl, by("refresh"), by("retired"), by("user")])
                .await?;
            Ok(())
        })
        .await
    }

    /// A TTL index that sweeps whitelist entries once their refresh token has
    /// expired or their session reached its lifetime cap (entries the Python
    /// service wrote have no `created_at` until this service first sees them).
    /// An existing one with another lifetime (`REFRESH_TOKEN_EXPIRE_MINUTES`
    /// changed) is given the new one with `collMod`, which changes a TTL
    /// index's `expireAfterSeconds` in place on MongoDB 4.4+ and DocumentDB
    /// alike; otherwise the old lifetime would go on sweeping sessions.
    pub async fn ensure_session_expiry(&self, lifetime: Duration) -> Result<(), StoreError> {
        let ttl = IndexModel::builder()
            .keys(doc! { "created_at": 1 })
            .options(
                IndexOptions::builder()
                    .name(SESSION_EXPIRY.to_owned())
                    .expire_after(lifetime)
                    .build(),
            )
            .build();
        bounded(async {
            match self.sessions::<Document>().create_index(ttl).await {
                Ok(_) => Ok(()),
                Err(err) if is_options_conflict(&err) => {
                    let seconds = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
                    self.db
                        .run_command(doc! {
                            "collMod": super::records::WHITELIST_TOKEN,
                            "index": { "name": SESSION_EXPIRY, "expireAfterSeconds": seconds },
                        })
                        .await?;
                    Ok(())
                }
                Err(err) => Err(err.into()),
            }
        })
        .await
    }
}
