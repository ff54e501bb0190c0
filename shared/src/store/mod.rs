//! The MongoDB repository for `role`, `user` and `whitelist_token`.
//!
//! Every database round trip is on some request's critical path, so each method is
//! exactly one command, and every one of them is bounded by a timeout: a database
//! that is down or silent costs a request a few seconds, never the Lambda timeout.

mod error;
mod records;

pub use error::StoreError;
pub use records::{DbRef, NewRole, NewSession, NewUser, RoleRecord, SessionRecord, UserRecord};

use crate::settings::DatabaseSettings;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Bson, DateTime, Document};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};
use records::{ROLE, USER, WHITELIST_TOKEN};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::time::Duration;

/// How long the driver may look for a usable server before giving up. Well below
/// API Gateway's 29 s, so an outage answers 503 instead of a gateway timeout.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The bound on one whole operation, server selection included; the driver has no
/// socket read timeout, so without this a silent server would hang the request.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Parses the connection string and builds the client. No I/O happens here for
    /// a `mongodb://` URI, so a database outage can't fail a cold start; a
    /// `mongodb+srv://` URI costs one DNS lookup.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let parse = ClientOptions::parse(settings.uri.expose_secret());
        let options = tokio::time::timeout(OPERATION_TIMEOUT, parse)
            .await
            .map_err(|_| StoreError::Timeout)?
            .map_err(|_| StoreError::InvalidUri)?;
        Self::with_options(options, &settings.name)
    }

    /// Builds the store from ready options (tests add command monitoring here).
    /// Timeouts the options leave unset get this service's bounds.
    pub fn with_options(mut options: ClientOptions, database: &str) -> Result<Self, StoreError> {
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION_TIMEOUT);
        options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        options
            .app_name
            .get_or_insert_with(|| "auth-service".to_owned());
        let client = Client::with_options(options).map_err(|_| StoreError::InvalidUri)?;
        Ok(Store {
            db: client.database(database),
        })
    }

    fn users<T: Send + Sync>(&self) -> Collection<T> {
        self.db.collection(USER)
    }

    fn roles<T: Send + Sync>(&self) -> Collection<T> {
        self.db.collection(ROLE)
    }

    pub async fn role_by_name(&self, name: &str) -> Result<Option<RoleRecord>, StoreError> {
        bounded(async {
            Ok(self
                .roles::<RoleRecord>()
                .find_one(doc! { "name": name })
                .await?)
        })
        .await
    }

    /// Inserts a role; [`StoreError::Duplicate`] if the name is taken.
    pub async fn insert_role(&self, role: &NewRole) -> Result<ObjectId, StoreError> {
        bounded(async { inserted_id(self.roles::<NewRole>().insert_one(role).await?) }).await
    }

    /// Whether a user has this (lower-cased) username: one small command.
    pub async fn username_exists(&self, username: &str) -> Result<bool, StoreError> {
        bounded(async {
            let found = self
                .users::<Document>()
                .find_one(doc! { "username": username })
                .projection(doc! { "_id": 1 })
                .await?;
            Ok(found.is_some())
        })
        .await
    }

    /// Inserts a user; [`StoreError::Duplicate`] if the unique username index
    /// refuses it (it settles concurrent creations of one name).
    pub async fn insert_user(&self, user: &NewUser) -> Result<ObjectId, StoreError> {
        bounded(async { inserted_id(self.users::<NewUser>().insert_one(user).await?) }).await
    }

    /// One page of users in `_id` order, after `after`; roles not resolved.
    pub async fn users_page(
        &self,
        after: Option<ObjectId>,
        limit: i64,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let filter = match after {
            Some(id) => doc! { "_id": { "$gt": id } },
            None => doc! {},
        };
        bounded(async {
            let cursor = self
                .users::<UserRecord>()
                .find(filter)
                .sort(doc! { "_id": 1 })
                .limit(limit)
                .batch_size(u32::try_from(limit).unwrap_or(u32::MAX))
                .await?;
            collect(cursor).await
        })
        .await
    }

    pub async fn all_roles(&self) -> Result<Vec<RoleRecord>, StoreError> {
        bounded(async { collect(self.roles::<RoleRecord>().find(doc! {}).await?).await }).await
    }

    /// Applies `$set: changes` to a user; `false` if there is no such user.
    pub async fn update_user(&self, id: ObjectId, changes: Document) -> Result<bool, StoreError> {
        bounded(async {
            let result = self
                .users::<Document>()
                .update_one(doc! { "_id": id }, doc! { "$set": changes })
                .await?;
            Ok(result.matched_count == 1)
        })
        .await
    }

    /// `false` if there was no such user.
    pub async fn delete_user(&self, id: ObjectId) -> Result<bool, StoreError> {
        bounded(async {
            let result = self
                .users::<Document>()
                .delete_one(doc! { "_id": id })
                .await?;
            Ok(result.deleted_count == 1)
        })
        .await
    }

    /// Ends a user's sessions, all of them or all but `keep`.
    pub async fn delete_sessions_of(
        &self,
        user_id: ObjectId,
        keep: Option<ObjectId>,
    ) -> Result<u64, StoreError> {
        // The whole DBRef is matched, not `user.$id`: both real MongoDB and the
        // test server answer that form.
        let mut filter = doc! { "user": { "$ref": USER, "$id": user_id } };
        if let Some(keep) = keep {
            filter.insert("_id", doc! { "$ne": keep });
        }
        bounded(async {
            let result = self.sessions::<Document>().delete_many(filter).await?;
            Ok(result.deleted_count)
        })
        .await
    }

    /// Swaps the token ids of the session holding refresh id `old_refresh` (and,
    /// when given, belonging to `owner`) for new ones, in one atomic command, and
    /// returns the session as it was. `None` if there is no such session: a
    /// refresh token works once, even under concurrent use.
    pub async fn rotate_session(
        &self,
        old_refresh: &str,
        owner: Option<ObjectId>,
        uuid_access: &str,
        uuid_refresh: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let mut filter = doc! { "uuid_refresh": old_refresh };
        if let Some(owner) = owner {
            filter.insert("user", doc! { "$ref": USER, "$id": owner });
        }
        let update = doc! { "$set": {
            "uuid_access": uuid_access,
            "uuid_refresh": uuid_refresh,
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

    fn sessions<T: Send + Sync>(&self) -> Collection<T> {
        self.db.collection(WHITELIST_TOKEN)
    }

    /// A user by (already lower-cased) username, with its role: one command.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        self.user_where(doc! { "username": username }).await
    }

    /// A user by id, with its role: one command.
    pub async fn user_by_id(&self, id: ObjectId) -> Result<Option<UserRecord>, StoreError> {
        self.user_where(doc! { "_id": id }).await
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
            let mut cursor = self.users::<Document>().aggregate(pipeline).await?;
            if !cursor.advance().await? {
                return Ok(None);
            }
            let raw: Document = cursor.deserialize_current()?;
            Ok(Some(user_from_document(raw)?))
        })
        .await
    }

    /// The whitelist entry of an access token id: one command.
    pub async fn session_by_access(
        &self,
        uuid_access: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let filter = doc! { "uuid_access": uuid_access };
        bounded(async { Ok(self.sessions::<SessionRecord>().find_one(filter).await?) }).await
    }

    pub async fn insert_session(&self, session: &NewSession) -> Result<(), StoreError> {
        bounded(async {
            self.sessions::<NewSession>().insert_one(session).await?;
            Ok(())
        })
        .await
    }

    /// Removes one whitelist entry; `false` if it was already gone.
    pub async fn delete_session(&self, id: ObjectId) -> Result<bool, StoreError> {
        bounded(async {
            let result = self
                .sessions::<Document>()
                .delete_one(doc! { "_id": id })
                .await?;
            Ok(result.deleted_count == 1)
        })
        .await
    }

    pub async fn set_password_hash(&self, user_id: ObjectId, hash: &str) -> Result<(), StoreError> {
        bounded(async {
            self.users::<Document>()
                .update_one(
                    doc! { "_id": user_id },
                    doc! { "$set": { "password": hash } },
                )
                .await?;
            Ok(())
        })
        .await
    }

    /// Creates the unique indexes the Python service created (same names, same
    /// keys, so an existing database sees no change). They decide races between
    /// concurrent writes of one username or token id.
    pub async fn ensure_unique_indexes(&self) -> Result<(), StoreError> {
        let unique = |field: &str| {
            IndexModel::builder()
                .keys(doc! { field: 1 })
                .options(IndexOptions::builder().unique(true).build())
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

    /// A TTL index that sweeps whitelist entries once their refresh token has
    /// expired (entries the Python service wrote have no `created_at` and stay).
    /// An existing index with another lifetime makes this fail; housekeeping only.
    pub async fn ensure_session_expiry(&self, lifetime: Duration) -> Result<(), StoreError> {
        let ttl = IndexModel::builder()
            .keys(doc! { "created_at": 1 })
            .options(IndexOptions::builder().expire_after(lifetime).build())
            .build();
        bounded(async {
            self.sessions::<Document>().create_index(ttl).await?;
            Ok(())
        })
        .await
    }
}

/// Runs one database operation under [`OPERATION_TIMEOUT`].
async fn bounded<T>(
    operation: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(OPERATION_TIMEOUT, operation)
        .await
        .unwrap_or(Err(StoreError::Timeout))
}

/// Every document a cursor yields.
async fn collect<T: DeserializeOwned + Send + Sync>(
    mut cursor: mongodb::Cursor<T>,
) -> Result<Vec<T>, StoreError> {
    let mut all = Vec::new();
    while cursor.advance().await? {
        all.push(cursor.deserialize_current()?);
    }
    Ok(all)
}

fn inserted_id(result: mongodb::results::InsertOneResult) -> Result<ObjectId, StoreError> {
    result
        .inserted_id
        .as_object_id()
        .ok_or_else(|| StoreError::Unexpected("insert returned a non-ObjectId _id"))
}

fn decode<T: DeserializeOwned>(raw: Document) -> Result<T, StoreError> {
    mongodb::bson::from_document(raw).map_err(StoreError::Malformed)
}

/// Splits the aggregate's output into the user and the role its DBRef names.
fn user_from_document(mut raw: Document) -> Result<UserRecord, StoreError> {
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
    attach_role(&mut user, &roles);
    Ok(user)
}

/// Sets `user.role` to the role its reference names, if it is among `roles`.
pub fn attach_role(user: &mut UserRecord, roles: &[RoleRecord]) {
    user.role = user
        .role_ref
        .as_ref()
        .and_then(|reference| roles.iter().find(|role| role.id == reference.id))
        .cloned();
}
