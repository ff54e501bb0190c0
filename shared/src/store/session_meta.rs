//! The `session_meta` collection: what this service knows about a session
//! beyond its whitelist entry, one document per entry (same `_id`). A
//! collection of its own because the Python service loads `whitelist_token`
//! strictly: one undeclared field there would break it.
//!
//! The whitelist stays the source of truth for whether a session is alive;
//! this document decides refreshes (the current and the retired refresh ids,
//! in one document, so one atomic command rotates them and a racing client
//! never sees half a rotation) and remembers the login time, source IP and
//! user agent. Its TTL index (`expires_at`) drops it when its session can no
//! longer be refreshed: at the refresh token's expiry or the lifetime cap,
//! whichever comes first.

use super::{bounded, collect, Store, StoreError, MAX_TIME};
use crate::auth::token::TokenIds;
use crate::ids::{SessionId, UserId};
use mongodb::bson::{doc, DateTime, Document};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const SESSION_META: &str = "session_meta";

/// How many retired refresh ids a session keeps: far more than a session
/// uses in a refresh lifetime unless it refreshes every few minutes; past
/// that the oldest are forgotten (they then get a plain `unauthorized`).
const MAX_RETIRED: i64 = 1000;

/// One session's side document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionMeta {
    #[serde(rename = "_id")]
    pub id: SessionId,
    pub user: UserId,
    /// Login time: survives every refresh, and the lifetime cap counts from it.
    pub started_at: DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshed_at: Option<DateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The ids of the current pair (the whitelist entry's, once a rotation
    /// has finished writing it).
    pub access: String,
    pub refresh: String,
    /// The refresh id the last rotation retired, and when: what the grace
    /// window is judged on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousRefresh>,
    /// Every refresh id the session had before the current one.
    #[serde(default)]
    pub retired: Vec<String>,
    pub expires_at: DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreviousRefresh {
    pub refresh: String,
    pub retired_at: DateTime,
}

/// What a rotation writes besides the ids, as the session rules
/// ([`crate::sessions::lifetime`]) computed it: the time, the new refresh
/// token's expiry, and the lifetime cap counted from the session's start.
#[derive(Debug, Clone, Copy)]
pub struct MetaRotation {
    pub now: DateTime,
    pub refresh_expiry: DateTime,
    pub cap: Option<Duration>,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    fn session_meta<T: Send + Sync>(&self) -> mongodb::Collection<T> {
        self.db.collection(SESSION_META)
    }

    pub async fn insert_session_meta(&self, meta: &SessionMeta) -> Result<(), StoreError> {
        bounded(async {
            self.session_meta::<SessionMeta>().insert_one(meta).await?;
            Ok(())
        })
        .await
    }

    /// Writes a session's side document, replacing one of the same id. Two
    /// concurrent upserts of one id can both try to insert it: the loser's
    /// duplicate key (E11000) is retried once, and then replaces.
    pub async fn put_session_meta(&self, meta: &SessionMeta) -> Result<(), StoreError> {
        let put = || async {
            self.session_meta::<SessionMeta>()
                .replace_one(doc! { "_id": meta.id.object_id() }, meta)
                .upsert(true)
                .await
                .map_err(StoreError::from)
        };
        bounded(async {
            match put().await {
                Err(StoreError::Duplicate) => put().await.map(drop),
                other => other.map(drop),
            }
        })
        .await
    }

    /// Rotates the session whose current refresh id is `presented` (and whose
    /// user is `user_id`, when given, and whose cap has not passed, and whose
    /// side document has not expired) to `new_ids`, retiring `presented`, in
    /// one atomic command. The session after the rotation if this call made
    /// it; `None` otherwise.
    ///
    /// The document *after* the update decides: it names the refresh id just
    /// written only if this call wrote it. (Not the document before: the test
    /// server can answer a stale one after retrying a write conflict.)
    ///
    /// Classic update operators only (MongoDB 4.4+ and DocumentDB 5.0):
    /// `$set` of the ids, times and `previous`, and `$push` with `$each` and
    /// `$slice` for the retired ids. The new `expires_at` is min(refresh
    /// expiry, started_at + cap), and without a pipeline the update can't
    /// read `started_at`; so the command sets the refresh expiry, and the
    /// session returned carries the true expiry computed from the
    /// `started_at` the same command returned. Only in a session's last
    /// refresh lifetime before the cap do the two differ: the caller then
    /// sends [`Store::cap_session_meta`] beside its next commands (same
    /// wait). Until it lands (or if it never does) the TTL index may keep the
    /// document up to one refresh lifetime too long, but never lets the
    /// session live longer: the cap is in this filter and in the judgement of
    /// a refresh that misses it. Documents written before this change have
    /// the same fields and rotate the same way.
    pub async fn rotate_session_meta(
        &self,
        presented: &str,
        user_id: Option<UserId>,
        new_ids: &TokenIds,
        rotation: MetaRotation,
    ) -> Result<Option<SessionMeta>, StoreError> {
        let MetaRotation {
            now,
            refresh_expiry,
            cap,
        } = rotation;
        let mut filter = doc! { "refresh": presented, "expires_at": { "$gt": now } };
        if let Some(user_id) = user_id {
            filter.insert("user", user_id.object_id());
        }
        if let Some(cap) = cap {
            let earliest =
                DateTime::from_millis(now.timestamp_millis().saturating_sub(millis(cap)));
            filter.insert("started_at", doc! { "$gt": earliest });
        }
        let update = doc! {
            "$set": {
                "access": &new_ids.access,
                "refresh": &new_ids.refresh,
                "refreshed_at": now,
                "previous": { "refresh": presented, "retired_at": now },
                "expires_at": refresh_expiry,
            },
            "$push": { "retired": { "$each": [presented], "$slice": -MAX_RETIRED } },
        };
        bounded(async {
            let after = self
                .session_meta::<SessionMeta>()
                .find_one_and_update(filter, update)
                .return_document(ReturnDocument::After)
                .max_time(MAX_TIME)
                .await?;
            Ok(after
                .filter(|meta| meta.refresh == new_ids.refresh)
                .map(|mut meta| {
                    if let Some(cap) = cap {
                        let cap_at = DateTime::from_millis(
                            meta.started_at
                                .timestamp_millis()
                                .saturating_add(millis(cap)),
                        );
                        meta.expires_at = meta.expires_at.min(cap_at);
                    }
                    meta
                }))
        })
        .await
    }

    /// Brings a just-rotated side document's `expires_at` down to
    /// `expires_at` (its cap), if it still holds refresh id `refresh`: the
    /// second half of a rotation in a session's last refresh lifetime (see
    /// [`Store::rotate_session_meta`]).
    pub async fn cap_session_meta(
        &self,
        id: SessionId,
        refresh: &str,
        expires_at: DateTime,
    ) -> Result<(), StoreError> {
        bounded(async {
            self.session_meta::<Document>()
                .update_one(
                    doc! { "_id": id.object_id(), "refresh": refresh },
                    doc! { "$min": { "expires_at": expires_at } },
                )
                .await?;
            Ok(())
        })
        .await
    }

    /// The session that has or had refresh id `refresh`, if one still knows
    /// it, expired or not: an expired one (not yet swept) says the session
    /// is over, which its absence would not (see `sessions::refresh`).
    pub async fn session_meta_by_refresh(
        &self,
        refresh: &str,
    ) -> Result<Option<SessionMeta>, StoreError> {
        let filter = doc! { "$or": [{ "refresh": refresh }, { "retired": refresh }] };
        bounded(async {
            Ok(self
                .session_meta()
                .find_one(filter)
                .max_time(MAX_TIME)
                .await?)
        })
        .await
    }

    /// The side documents of a user's sessions.
    pub async fn session_metas_of(&self, user_id: UserId) -> Result<Vec<SessionMeta>, StoreError> {
        bounded(async {
            // Expired ones are absent, swept or not.
            let filter =
                doc! { "user": user_id.object_id(), "expires_at": { "$gt": DateTime::now() } };
            let cursor = self.session_meta().find(filter).max_time(MAX_TIME).await?;
            collect(cursor).await
        })
        .await
    }

    pub async fn delete_session_meta(&self, id: SessionId) -> Result<(), StoreError> {
        bounded(async {
            self.session_meta::<Document>()
                .delete_one(doc! { "_id": id.object_id() })
                .await?;
            Ok(())
        })
        .await
    }

    /// Drops the side document whose current access id is `access` and whose
    /// user is `user_id` (logout's, sent with the whitelist entry's removal).
    /// A document mid-rotation already holds a newer access id and is left:
    /// the refresh rotating it finds the whitelist entry gone and drops it.
    pub async fn delete_session_meta_by_access(
        &self,
        access: &str,
        user_id: UserId,
    ) -> Result<(), StoreError> {
        bounded(async {
            self.session_meta::<Document>()
                .delete_one(doc! { "access": access, "user": user_id.object_id() })
                .await?;
            Ok(())
        })
        .await
    }

    /// Drops the side documents of a user's sessions, all or all but `keep`.
    pub async fn delete_session_metas_of(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
    ) -> Result<(), StoreError> {
        let mut filter = doc! { "user": user_id.object_id() };
        if let Some(keep) = keep {
            filter.insert("_id", doc! { "$ne": keep.object_id() });
        }
        bounded(async {
            self.session_meta::<Document>().delete_many(filter).await?;
            Ok(())
        })
        .await
    }

    pub async fn clear_session_metas(&self) -> Result<(), StoreError> {
        bounded(async {
            self.session_meta::<Document>().delete_many(doc! {}).await?;
            Ok(())
        })
        .await
    }
}
