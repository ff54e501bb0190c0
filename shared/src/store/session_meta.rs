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

use super::{bounded, collect, Store, StoreError};
use crate::ids::{SessionId, UserId};
use crate::token::TokenIds;
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

/// What a rotation needs besides the ids: the time, and the two limits.
#[derive(Debug, Clone, Copy)]
pub struct RotationClock {
    pub now: DateTime,
    pub refresh_lifetime: Duration,
    pub max_lifetime: Option<Duration>,
}

impl RotationClock {
    /// When a session started at `started_at` and refreshed now stops being
    /// refreshable: the refresh token's expiry or the cap, whichever is first.
    pub fn expires_at(&self, started_at: DateTime) -> DateTime {
        let refresh_expiry = add(self.now, self.refresh_lifetime);
        match self.max_lifetime {
            Some(cap) => refresh_expiry.min(add(started_at, cap)),
            None => refresh_expiry,
        }
    }

    /// The whitelist entry's `created_at` for a pair that stops being
    /// refreshable at `expires_at`: its TTL index sweeps it a refresh
    /// lifetime after that, so at `expires_at`. It is the time the pair was
    /// issued, except in the session's last refresh lifetime before the cap.
    pub fn entry_created_at(&self, expires_at: DateTime) -> DateTime {
        DateTime::from_millis(
            expires_at
                .timestamp_millis()
                .saturating_sub(millis(self.refresh_lifetime)),
        )
    }

    /// Whether a session started at `started_at` has reached the cap.
    pub fn past_cap(&self, started_at: DateTime) -> bool {
        self.max_lifetime
            .is_some_and(|cap| add(started_at, cap) <= self.now)
    }
}

pub fn add(at: DateTime, duration: Duration) -> DateTime {
    let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    DateTime::from_millis(at.timestamp_millis().saturating_add(millis))
}

pub fn millis(duration: Duration) -> i64 {
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

    /// Writes a session's side document, replacing one of the same id.
    pub async fn put_session_meta(&self, meta: &SessionMeta) -> Result<(), StoreError> {
        bounded(async {
            self.session_meta::<SessionMeta>()
                .replace_one(doc! { "_id": meta.id.object_id() }, meta)
                .upsert(true)
                .await?;
            Ok(())
        })
        .await
    }

    /// Rotates the session whose current refresh id is `presented` (and whose
    /// user is `user_id`, when given, and whose cap has not passed) to
    /// `new_ids`, retiring `presented`, in one atomic command. The session
    /// after the rotation if this call made it; `None` otherwise.
    ///
    /// The document *after* the update decides: it names the refresh id just
    /// written only if this call wrote it. (Not the document before: the test
    /// server can answer a stale one after retrying a write conflict.)
    pub async fn rotate_session_meta(
        &self,
        presented: &str,
        user_id: Option<UserId>,
        new_ids: &TokenIds,
        clock: RotationClock,
    ) -> Result<Option<SessionMeta>, StoreError> {
        let mut filter = doc! { "refresh": presented };
        if let Some(user_id) = user_id {
            filter.insert("user", user_id.object_id());
        }
        if let Some(cap) = clock.max_lifetime {
            let earliest =
                DateTime::from_millis(clock.now.timestamp_millis().saturating_sub(millis(cap)));
            filter.insert("started_at", doc! { "$gt": earliest });
        }
        let refresh_expiry = add(clock.now, clock.refresh_lifetime);
        let expires_at = match clock.max_lifetime {
            Some(cap) => {
                doc! { "$min": [refresh_expiry, { "$add": ["$started_at", millis(cap)] }] }
            }
            None => doc! { "$literal": refresh_expiry },
        };
        let update = vec![doc! { "$set": {
            "access": { "$literal": &new_ids.access },
            "refresh": { "$literal": &new_ids.refresh },
            "refreshed_at": clock.now,
            "previous": { "refresh": { "$literal": presented }, "retired_at": clock.now },
            "retired": { "$slice": [
                { "$concatArrays": [{ "$ifNull": ["$retired", []] }, [{ "$literal": presented }]] },
                -MAX_RETIRED,
            ] },
            "expires_at": expires_at,
        } }];
        bounded(async {
            let after = self
                .session_meta::<SessionMeta>()
                .find_one_and_update(filter, update)
                .return_document(ReturnDocument::After)
                .await?;
            Ok(after.filter(|meta| meta.refresh == new_ids.refresh))
        })
        .await
    }

    /// The session that has or had refresh id `refresh`, if one still knows it.
    pub async fn session_meta_by_refresh(
        &self,
        refresh: &str,
    ) -> Result<Option<SessionMeta>, StoreError> {
        let filter = doc! { "$or": [{ "refresh": refresh }, { "retired": refresh }] };
        bounded(async { Ok(self.session_meta().find_one(filter).await?) }).await
    }

    /// The side documents of a user's sessions.
    pub async fn session_metas_of(&self, user_id: UserId) -> Result<Vec<SessionMeta>, StoreError> {
        bounded(async {
            let cursor = self
                .session_meta()
                .find(doc! { "user": user_id.object_id() })
                .await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn clock(now: i64, cap_minutes: Option<u64>) -> RotationClock {
        RotationClock {
            now: DateTime::from_millis(now),
            refresh_lifetime: Duration::from_secs(10 * 60),
            max_lifetime: cap_minutes.map(|m| Duration::from_secs(m * 60)),
        }
    }

    #[test]
    fn a_session_expires_at_refresh_expiry_or_the_cap_whichever_is_first() {
        let started = DateTime::from_millis(0);
        // Far from the cap: the refresh token's expiry.
        let early = clock(5 * MINUTE, Some(60));
        assert_eq!(early.expires_at(started).timestamp_millis(), 15 * MINUTE);
        assert_eq!(early.entry_created_at(early.expires_at(started)), early.now);
        // Within a refresh lifetime of the cap: the cap, and the entry's
        // `created_at` that long before it.
        let late = clock(55 * MINUTE, Some(60));
        assert_eq!(late.expires_at(started).timestamp_millis(), 60 * MINUTE);
        assert_eq!(
            late.entry_created_at(late.expires_at(started))
                .timestamp_millis(),
            50 * MINUTE
        );
        // No cap: always the refresh expiry.
        let open = clock(55 * MINUTE, None);
        assert_eq!(open.expires_at(started).timestamp_millis(), 65 * MINUTE);
    }

    #[test]
    fn the_cap_is_reached_at_its_minute_and_never_without_one() {
        let started = DateTime::from_millis(0);
        assert!(!clock(60 * MINUTE - 1, Some(60)).past_cap(started));
        assert!(clock(60 * MINUTE, Some(60)).past_cap(started));
        assert!(!clock(i64::MAX / 2, None).past_cap(started));
    }
}
