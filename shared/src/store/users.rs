//! The `user` collection. A user is always read with its role, in one command.

use super::records::ROLE;
use super::{
    bounded, collect, decode, inserted_id, NewUser, RoleRecord, Store, StoreError, UserRecord,
    MAX_TIME,
};
use crate::ids::UserId;
use crate::ids::Username;
use mongodb::bson::{doc, Bson, Document};

impl Store {
    /// A user by username, with its role: one command.
    pub async fn user_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.user_where(doc! { "username": username.as_str() })
            .await
    }

    /// A user by id, with its role: one command.
    pub async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        self.user_where(doc! { "_id": id.object_id() }).await
    }

    /// Whether a user has this username: one small command.
    pub async fn username_exists(&self, username: &Username) -> Result<bool, StoreError> {
        bounded(async {
            let found = self
                .users::<Document>()
                .find_one(doc! { "username": username.as_str() })
                .max_time(MAX_TIME)
                .projection(doc! { "_id": 1 })
                .await?;
            Ok(found.is_some())
        })
        .await
    }

    /// Inserts a user; [`StoreError::Duplicate`] if the unique username index
    /// refuses it (it settles concurrent creations of one name).
    pub async fn insert_user(&self, user: &NewUser) -> Result<UserId, StoreError> {
        bounded(async { inserted_id(self.users::<NewUser>().insert_one(user).await?) })
            .await
            .map(UserId::from)
    }

    /// One page of users in `_id` order, after `after`; roles not resolved.
    pub async fn users_page(
        &self,
        after: Option<UserId>,
        limit: i64,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let filter = match after {
            Some(id) => doc! { "_id": { "$gt": id.object_id() } },
            None => doc! {},
        };
        bounded(async {
            let cursor = self
                .users::<UserRecord>()
                .find(filter)
                .max_time(MAX_TIME)
                .sort(doc! { "_id": 1 })
                .limit(limit)
                .batch_size(u32::try_from(limit).unwrap_or(u32::MAX))
                .await?;
            collect(cursor).await
        })
        .await
    }

    /// Every stored password hash, for counting schemes (administration only:
    /// it reads the whole collection, one small field per user).
    pub async fn password_hashes(&self) -> Result<Vec<String>, StoreError> {
        #[derive(serde::Deserialize)]
        struct PasswordOnly {
            #[serde(default)]
            password: String,
        }
        bounded(async {
            let cursor = self
                .users::<PasswordOnly>()
                .find(doc! {})
                .max_time(MAX_TIME)
                .projection(doc! { "_id": 0, "password": 1 })
                .await?;
            Ok(collect(cursor)
                .await?
                .into_iter()
                .map(|user| user.password)
                .collect())
        })
        .await
    }

    /// Stores a new password hash and sets `change_password` to `must_change`;
    /// `false` if there is no such user.
    pub async fn set_password(
        &self,
        id: UserId,
        hash: &str,
        must_change: bool,
    ) -> Result<bool, StoreError> {
        self.set_fields(
            id,
            doc! { "password": hash, "change_password": must_change },
        )
        .await
    }

    /// Replaces the hash of a password that was just proven (an upgrade to a
    /// stronger scheme); the user's flags stay as they are.
    pub async fn replace_password_hash(&self, id: UserId, hash: &str) -> Result<(), StoreError> {
        self.set_fields(id, doc! { "password": hash })
            .await
            .map(drop)
    }

    /// Sets `change_password` and `active`, each when given; `false` if there
    /// is no such user.
    pub async fn set_flags(
        &self,
        id: UserId,
        change_password: Option<bool>,
        active: Option<bool>,
    ) -> Result<bool, StoreError> {
        let mut fields = Document::new();
        if let Some(change_password) = change_password {
            fields.insert("change_password", change_password);
        }
        if let Some(active) = active {
            fields.insert("active", active);
        }
        self.set_fields(id, fields).await
    }

    /// `false` if there was no such user.
    pub async fn delete_user(&self, id: UserId) -> Result<bool, StoreError> {
        bounded(async {
            let result = self
                .users::<Document>()
                .delete_one(doc! { "_id": id.object_id() })
                .await?;
            Ok(result.deleted_count == 1)
        })
        .await
    }

    async fn set_fields(&self, id: UserId, fields: Document) -> Result<bool, StoreError> {
        bounded(async {
            let result = self
                .users::<Document>()
                .update_one(doc! { "_id": id.object_id() }, doc! { "$set": fields })
                .await?;
            Ok(result.matched_count == 1)
        })
        .await
    }

    async fn user_where(&self, filter: Document) -> Result<Option<UserRecord>, StoreError> {
        // The role arrives in the same command. A `$lookup` joined on the DBRef's
        // `$id` is not expressible (field paths can't start with `$`), so the
        // uncorrelated form brings the role collection along, which stays a handful
        // of small documents, and the user's role is picked out here.
        let pipeline = [
            doc! { "$match": filter },
            doc! { "$limit": 1 },
            doc! { "$lookup": { "from": ROLE, "pipeline": [], "as": "roles" } },
        ];
        bounded(async {
            let mut cursor = self
                .users::<Document>()
                .aggregate(pipeline)
                .max_time(MAX_TIME)
                .await?;
            if !cursor.advance().await? {
                return Ok(None);
            }
            let raw: Document = cursor.deserialize_current()?;
            Ok(Some(user_from_document(raw)?))
        })
        .await
    }
}

/// Splits the aggregate's output into the user and the role its DBRef names.
pub(super) fn user_from_document(mut raw: Document) -> Result<UserRecord, StoreError> {
    let roles: Vec<RoleRecord> = match raw.remove("roles") {
        Some(Bson::Array(roles)) => roles
            .into_iter()
            .filter_map(|role| match role {
                Bson::Document(role) => decode::<RoleRecord>(role).ok(),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut user: UserRecord = decode(raw)?;
    user.attach_role(&roles);
    Ok(user)
}
