//! The `whitelist_token` collection: one entry per live session.
//!
//! `created_at` is when the entry's current pair was issued (login, then each
//! refresh), so its TTL index (a refresh lifetime) sweeps the entry when its
//! refresh token expires. In a session's last refresh lifetime before the
//! lifetime cap it is set that much before the cap instead, so the same index
//! sweeps the entry at the cap: see [`super::session_meta::RotationClock`].

use super::records::USER;
use super::{bounded, collect, NewSession, SessionRecord, Store, StoreError, MAX_TIME};
use crate::auth::token::TokenIds;
use crate::ids::{SessionId, UserId};
use mongodb::bson::{doc, DateTime, Document};
use mongodb::options::ReturnDocument;

/// The whole DBRef is matched, not `user.$id`: both real MongoDB and the test
/// server answer that form.
fn owned_by(user_id: UserId) -> Document {
    doc! { "user": { "$ref": USER, "$id": user_id.object_id() } }
}

impl Store {
    /// The whitelist entry of an access token id: one command.
    pub async fn session_by_access(
        &self,
        uuid_access: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let filter = doc! { "uuid_access": uuid_access };
        bounded(async {
            let sessions = self.sessions::<SessionRecord>();
            Ok(sessions.find_one(filter).max_time(MAX_TIME).await?)
        })
        .await
    }

    /// Removes the whitelist entry of access token id `uuid_access` if it is
    /// `user_id`'s, and returns it as it was: one command. Logout sends it
    /// alongside the read of the user, so it runs before the guard's checks.
    pub async fn take_session_by_access(
        &self,
        uuid_access: &str,
        user_id: UserId,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let mut filter = doc! { "uuid_access": uuid_access };
        filter.extend(owned_by(user_id));
        bounded(async {
            Ok(self
                .sessions::<SessionRecord>()
                .find_one_and_delete(filter)
                .max_time(MAX_TIME)
                .await?)
        })
        .await
    }

    pub async fn insert_session(&self, session: &NewSession) -> Result<(), StoreError> {
        bounded(async {
            self.sessions::<NewSession>().insert_one(session).await?;
            Ok(())
        })
        .await
    }

    /// Removes one whitelist entry; `false` if it was already gone.
    pub async fn delete_session(&self, id: SessionId) -> Result<bool, StoreError> {
        bounded(async {
            let result = self
                .sessions::<Document>()
                .delete_one(doc! { "_id": id.object_id() })
                .await?;
            Ok(result.deleted_count == 1)
        })
        .await
    }

    /// Ends a user's sessions, all of them or all but `keep`.
    pub async fn delete_sessions_of(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
    ) -> Result<u64, StoreError> {
        let mut filter = owned_by(user_id);
        if let Some(keep) = keep {
            filter.insert("_id", doc! { "$ne": keep.object_id() });
        }
        bounded(async {
            let result = self.sessions::<Document>().delete_many(filter).await?;
            Ok(result.deleted_count)
        })
        .await
    }

    /// A session that has no side document yet (opened by the Python
    /// service, or before there were side documents): swaps the token ids of
    /// the entry holding refresh id `old_refresh` (and, when given, belonging
    /// to `user_id`) for `new_ids`, in one atomic command, unless its
    /// `created_at` says the TTL index is due to sweep it. The entry after the
    /// swap if this call made it; `None` otherwise: a refresh token works
    /// once, even under concurrent use.
    pub async fn rotate_session(
        &self,
        old_refresh: &str,
        user_id: Option<UserId>,
        new_ids: &TokenIds,
        created_at: DateTime,
        swept_before: DateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let mut filter = doc! {
            "uuid_refresh": old_refresh,
            "$or": [{ "created_at": { "$exists": false } }, { "created_at": { "$gt": swept_before } }],
        };
        if let Some(user_id) = user_id {
            filter.extend(owned_by(user_id));
        }
        let update = new_pair(new_ids, created_at);
        bounded(async {
            let after = self
                .sessions::<SessionRecord>()
                .find_one_and_update(filter, update)
                .max_time(MAX_TIME)
                .return_document(ReturnDocument::After)
                .await?;
            // The document after the swap names the ids only this call wrote.
            Ok(after.filter(|entry| entry.uuid_refresh == new_ids.refresh))
        })
        .await
    }

    /// Writes a rotated pair into the entry that still holds `old_refresh`;
    /// `false` if it no longer does (ended meanwhile).
    pub async fn advance_session(
        &self,
        id: SessionId,
        old_refresh: &str,
        new_ids: &TokenIds,
        created_at: DateTime,
    ) -> Result<bool, StoreError> {
        let filter = doc! { "_id": id.object_id(), "uuid_refresh": old_refresh };
        let update = new_pair(new_ids, created_at);
        bounded(async {
            let result = self
                .sessions::<Document>()
                .update_one(filter, update)
                .await?;
            Ok(result.matched_count == 1)
        })
        .await
    }

    /// One whitelist entry by id.
    pub async fn session_by_id(&self, id: SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let filter = doc! { "_id": id.object_id() };
        bounded(async {
            let sessions = self.sessions::<SessionRecord>();
            Ok(sessions.find_one(filter).max_time(MAX_TIME).await?)
        })
        .await
    }

    /// Removes one whitelist entry unless it still holds refresh id `holding`
    /// (a rotation of it has not finished writing); `false` if nothing went.
    pub async fn delete_session_unless_holding(
        &self,
        id: SessionId,
        holding: &str,
    ) -> Result<bool, StoreError> {
        let filter = doc! { "_id": id.object_id(), "uuid_refresh": { "$ne": holding } };
        bounded(async {
            let result = self.sessions::<Document>().delete_one(filter).await?;
            Ok(result.deleted_count == 1)
        })
        .await
    }

    /// Removes session `id` if it is `user_id`'s; `false` if it was not there.
    pub async fn delete_session_of(
        &self,
        id: SessionId,
        user_id: UserId,
    ) -> Result<bool, StoreError> {
        let mut filter = owned_by(user_id);
        filter.insert("_id", id.object_id());
        bounded(async {
            let result = self.sessions::<Document>().delete_one(filter).await?;
            Ok(result.deleted_count == 1)
        })
        .await
    }

    /// A user's whitelist entries.
    pub async fn sessions_of(&self, user_id: UserId) -> Result<Vec<SessionRecord>, StoreError> {
        bounded(async {
            let cursor = self
                .sessions()
                .find(owned_by(user_id))
                .max_time(MAX_TIME)
                .await?;
            collect(cursor).await
        })
        .await
    }

    /// Gives the entries among `ids` that have no `created_at` (the Python
    /// service's) one, so the TTL index sweeps them too.
    pub async fn stamp_session_starts(
        &self,
        ids: &[SessionId],
        now: DateTime,
    ) -> Result<(), StoreError> {
        let ids: Vec<_> = ids.iter().map(|id| id.object_id()).collect();
        let filter = doc! { "_id": { "$in": ids }, "created_at": { "$exists": false } };
        bounded(async {
            self.sessions::<Document>()
                .update_many(filter, doc! { "$set": { "created_at": now } })
                .await?;
            Ok(())
        })
        .await
    }

    /// Drops every whitelist entry: all sessions end.
    pub async fn clear_sessions(&self) -> Result<u64, StoreError> {
        bounded(async {
            let result = self.sessions::<Document>().delete_many(doc! {}).await?;
            Ok(result.deleted_count)
        })
        .await
    }
}

/// The update that gives a whitelist entry a new pair of token ids, issued at
/// `created_at` (the entry's expiry clock).
fn new_pair(new_ids: &TokenIds, created_at: DateTime) -> Document {
    doc! { "$set": {
        "uuid_access": &new_ids.access,
        "uuid_refresh": &new_ids.refresh,
        "created_at": created_at,
    } }
}
