//! A fresh database per test on the shared server, and the documents the Python
//! service would have left in it.

use crate::mongo_server;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Document};
use mongodb::{Client, Database};
use serde_json::Value;

/// A bcrypt hash of `python-pass` made by Python's bcrypt at 12 rounds, as
/// flask-auth-service-mongo stores it.
pub const PYTHON_BCRYPT_HASH: &str = "$2b$12$SAi73xqOTSlUoqw.a7K50eZv/27qMjEL9PCd4Rl.Ej4Q0fdtB76Aa";
pub const PYTHON_BCRYPT_PASSWORD: &str = "python-pass";

pub struct TestDb {
    pub uri: String,
    pub name: String,
    pub db: Database,
}

impl TestDb {
    /// A database of its own on the shared test server, prepared as
    /// `auth-admin` prepares one (collections and indexes made up front): the
    /// test server can livelock when a function's background index build
    /// creates a collection at the moment its first write does.
    pub async fn new() -> TestDb {
        let name = format!("e2e_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        TestDb::prepared(&mongo_server::uri(), &name).await
    }

    /// A database of its own with nothing in it, not even an index: for the
    /// preparation itself under test (`auth-admin init`, the Python service's).
    pub async fn empty() -> TestDb {
        let name = format!("e2e_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        let uri = mongo_server::uri();
        let client = Client::with_uri_str(&uri)
            .await
            .expect("test database client");
        TestDb {
            db: client.database(&name),
            uri,
            name,
        }
    }

    /// Database `name` on the server at `uri`, prepared like [`TestDb::new`]'s.
    pub async fn prepared(uri: &str, name: &str) -> TestDb {
        let client = Client::with_uri_str(uri)
            .await
            .expect("test database client");
        let settings = shared::settings::DatabaseSettings {
            uri: uri.to_owned().into(),
            name: name.to_owned(),
        };
        shared::runtime::setup::open_for_administration(&settings)
            .await
            .expect("prepare the test database");
        TestDb {
            uri: uri.to_owned(),
            name: name.to_owned(),
            db: client.database(name),
        }
    }

    /// The environment a function needs to use this database.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SECRET_KEY", crate::SECRET_KEY.to_owned()),
            ("MONGODB_URI", self.uri.clone()),
            ("MONGODB_DATABASE", self.name.clone()),
        ]
    }

    pub async fn role(&self, name: &str) -> ObjectId {
        self.role_with_permissions(name, doc! {}).await
    }

    pub async fn role_with_permissions(&self, name: &str, permissions: Document) -> ObjectId {
        let id = ObjectId::new();
        self.db
            .collection::<Document>("role")
            .insert_one(doc! { "_id": id, "name": name, "permissions": permissions })
            .await
            .expect("insert role");
        id
    }

    /// A user as the Python service stores one; `hash` is the stored password hash.
    pub async fn user_with_hash(&self, username: &str, hash: &str, role: ObjectId) -> ObjectId {
        self.insert_user(doc! {
            "username": username,
            "password": hash,
            "active": true,
            "change_password": false,
            "role": { "$ref": "role", "$id": role },
        })
        .await
    }

    /// A user whose password is hashed the way this service hashes new ones.
    pub async fn user(&self, username: &str, password: &str, role: ObjectId) -> ObjectId {
        let hash = shared::auth::password::hash(password).expect("hash");
        self.user_with_hash(username, &hash, role).await
    }

    pub async fn insert_user(&self, user: Document) -> ObjectId {
        let id = user
            .get_object_id("_id")
            .unwrap_or_else(|_| ObjectId::new());
        let mut user = user;
        user.insert("_id", id);
        self.db
            .collection::<Document>("user")
            .insert_one(user)
            .await
            .expect("insert user");
        id
    }

    pub async fn set_user(&self, id: ObjectId, changes: Document) {
        self.db
            .collection::<Document>("user")
            .update_one(doc! { "_id": id }, doc! { "$set": changes })
            .await
            .expect("update user");
    }

    pub async fn delete_user(&self, id: ObjectId) {
        self.db
            .collection::<Document>("user")
            .delete_one(doc! { "_id": id })
            .await
            .expect("delete user");
    }

    pub async fn user_doc(&self, id: ObjectId) -> Document {
        self.db
            .collection::<Document>("user")
            .find_one(doc! { "_id": id })
            .await
            .expect("find user")
            .expect("user exists")
    }

    /// A whitelist entry written by hand, as the Python service writes it (no
    /// `created_at`).
    pub async fn whitelist(&self, user: ObjectId, uuid_access: &str, uuid_refresh: &str) {
        self.db
            .collection::<Document>("whitelist_token")
            .insert_one(doc! {
                "uuid_access": uuid_access,
                "uuid_refresh": uuid_refresh,
                "user": { "$ref": "user", "$id": user },
            })
            .await
            .expect("insert whitelist entry");
    }

    /// `username`'s entry in `login_attempt` (its lockout count), if it has one.
    pub async fn login_attempt_of(&self, username: &str) -> Option<Document> {
        self.db
            .collection::<Document>("login_attempt")
            .find_one(doc! { "_id": format!("user:{username}") })
            .await
            .expect("read login_attempt")
    }

    pub async fn count_users(&self, filter: Document) -> u64 {
        self.db
            .collection::<Document>("user")
            .count_documents(filter)
            .await
            .expect("count users")
    }

    /// The indexes of `collection` as `listIndexes` describes them, by name.
    pub async fn indexes(&self, collection: &str) -> std::collections::BTreeMap<String, Document> {
        let mut all = std::collections::BTreeMap::new();
        let listed = self
            .db
            .collection::<Document>(collection)
            .list_indexes()
            .await;
        let mut cursor = match listed {
            Ok(cursor) => cursor,
            // No collection yet: no index.
            Err(err) if matches!(&*err.kind, mongodb::error::ErrorKind::Command(c) if c.code == 26) => {
                return all
            }
            Err(err) => panic!("list indexes of {collection}: {err}"),
        };
        while cursor.advance().await.expect("cursor") {
            let index = cursor.deserialize_current().expect("index description");
            let name = index
                .options
                .as_ref()
                .and_then(|o| o.name.clone())
                .unwrap_or_default();
            let mut description = mongodb::bson::to_document(&index.options).unwrap_or_default();
            description.insert("key", index.keys);
            all.insert(name, description);
        }
        all
    }

    pub async fn sessions(&self) -> Vec<Document> {
        self.all("whitelist_token").await
    }

    /// The sessions' side documents (`session_meta`).
    pub async fn session_metas(&self) -> Vec<Document> {
        self.all("session_meta").await
    }

    /// Every document of `collection`.
    pub async fn all(&self, collection: &str) -> Vec<Document> {
        let mut cursor = self
            .db
            .collection::<Document>(collection)
            .find(doc! {})
            .await
            .expect("find documents");
        let mut all = Vec::new();
        while cursor.advance().await.expect("cursor") {
            all.push(cursor.deserialize_current().expect("document"));
        }
        all
    }

    /// Sets `changes` on every document of `collection` `filter` matches.
    pub async fn set_where(&self, collection: &str, filter: Document, changes: Document) {
        self.db
            .collection::<Document>(collection)
            .update_many(filter, doc! { "$set": changes })
            .await
            .expect("update documents");
    }
}

/// The claims of a JWT, read without verification (to inspect what was issued).
/// A `login_attempt` entry's failure count, however the server stored the
/// number (an int32 or an int64).
pub fn failures(entry: &Document) -> i64 {
    match entry.get("failures") {
        Some(mongodb::bson::Bson::Int32(n)) => i64::from(*n),
        Some(mongodb::bson::Bson::Int64(n)) => *n,
        other => panic!("failures: {other:?} in {entry}"),
    }
}

pub fn claims(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .expect("a JWT")
        .claims
}
