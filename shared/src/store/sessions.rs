//! The `whitelist_token` collection: one entry per live session.

use super::records::USER;
use super::{bounded, NewSession, SessionRecord, Store, StoreError};
use crate::ids::{SessionId, UserId};
use crate::token::TokenIds;
use mongodb::bson::{doc, DateTime, Document};

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
        bounded(async { Ok(self.sessions::<SessionRecord>().find_one(filter).await?) }).await
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

    /// Swaps the token ids of the session holding refresh id `old_refresh` (and,
    /// when given, belonging to `user_id`) for `new_ids`, in one atomic command,
    /// and returns the session as it was. `None` if there is no such session: a
    /// refresh token works once, even under concurrent use.
    pub async fn rotate_session(
        &self,
        old_refresh: &str,
        user_id: Option<UserId>,
        new_ids: &TokenIds,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let mut filter = doc! { "uuid_refresh": old_refresh };
        if let Some(user_id) = user_id {
            filter.extend(owned_by(user_id));
        }
        let update = doc! { "$set": {
            "uuid_access": &new_ids.access,
            "uuid_refresh": &new_ids.refresh,
            "created_at": DateTime::now(),
        } };
        bounded(async {
            Ok(self
                .sessions::<SessionRecord>()
                .find_one_and_update(filter, update)
                .await?)
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
