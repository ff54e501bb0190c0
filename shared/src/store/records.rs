//! The documents `flask-auth-service-mongo` left, field for field. Reads are
//! lenient where mongoengine had defaults; writes keep its names and types.

use crate::ids::Username;
use crate::ids::{RoleId, SessionId, UserId};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, Document};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

pub const ROLE: &str = "role";
pub const USER: &str = "user";
pub const WHITELIST_TOKEN: &str = "whitelist_token";

/// A mongoengine `ReferenceField(dbref=True)`: `{"$ref": collection, "$id": id}`.
/// Field order matters when matching the whole sub-document, so `$ref` comes first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbRef {
    #[serde(rename = "$ref")]
    pub collection: String,
    #[serde(rename = "$id")]
    pub id: ObjectId,
}

impl DbRef {
    pub fn to_user(id: UserId) -> Self {
        DbRef {
            collection: USER.to_owned(),
            id: id.object_id(),
        }
    }

    pub fn to_role(id: RoleId) -> Self {
        DbRef {
            collection: ROLE.to_owned(),
            id: id.object_id(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RoleRecord {
    #[serde(rename = "_id")]
    pub id: RoleId,
    pub name: String,
    #[serde(default)]
    pub permissions: Document,
}

impl RoleRecord {
    /// The permissions object as JSON text (graphene's `JSONString`).
    pub fn permissions_json(&self) -> String {
        Bson::Document(self.permissions.clone())
            .into_relaxed_extjson()
            .to_string()
    }
}

/// A user with its role resolved. The password hash stays secret so it can't be
/// logged by accident.
#[derive(Debug, Clone, Deserialize)]
pub struct UserRecord {
    #[serde(rename = "_id")]
    pub id: UserId,
    pub username: Username,
    #[serde(rename = "password")]
    pub password_hash: SecretString,
    #[serde(default = "default_active")]
    pub active: bool,
    #[serde(default)]
    pub change_password: bool,
    /// The stored reference to the user's role.
    #[serde(rename = "role")]
    pub role_ref: Option<DbRef>,
    /// The role itself, when it was looked up and exists.
    #[serde(skip)]
    pub role: Option<RoleRecord>,
}

impl UserRecord {
    /// Sets `role` to the role the stored reference names, if it is among `roles`.
    pub(crate) fn attach_role(&mut self, roles: &[RoleRecord]) {
        self.role = self
            .role_ref
            .as_ref()
            .and_then(|reference| {
                roles
                    .iter()
                    .find(|role| role.id.object_id() == reference.id)
            })
            .cloned();
    }
}

fn default_active() -> bool {
    true
}

/// A whitelist entry: the pair of token ids that are alive for a user.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionRecord {
    #[serde(rename = "_id")]
    pub id: SessionId,
    pub uuid_access: String,
    pub uuid_refresh: String,
    pub user: DbRef,
    /// When the entry's current pair was issued (login or last refresh); the
    /// TTL index sweeps the entry a refresh lifetime later. Entries the Python
    /// service wrote have none until this service first uses them.
    #[serde(default)]
    pub created_at: Option<DateTime>,
}

impl SessionRecord {
    pub fn user_id(&self) -> UserId {
        UserId::from(self.user.id)
    }
}

/// A whitelist entry as login writes it: the package's fields only. The `_id`
/// is chosen here so the session's side document can be written at the same
/// time.
#[derive(Debug, Serialize)]
pub struct NewSession {
    #[serde(rename = "_id")]
    pub id: SessionId,
    pub uuid_access: String,
    pub uuid_refresh: String,
    pub user: DbRef,
    pub created_at: DateTime,
}

/// A user as this service writes one: mongoengine's field order and types.
#[derive(Debug, Serialize)]
pub struct NewUser {
    pub username: Username,
    pub password: String,
    pub active: bool,
    pub change_password: bool,
    pub role: DbRef,
}

#[derive(Debug, Serialize)]
pub struct NewRole {
    pub name: String,
    pub permissions: Document,
}

/// A count stored as int32, int64 or double (servers differ); 0 if absent.
pub(super) fn number(raw: &Document, field: &str) -> i64 {
    match raw.get(field) {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        // Whole numbers only ever stored here: the cast loses nothing.
        #[allow(clippy::cast_possible_truncation)]
        Some(Bson::Double(n)) => *n as i64,
        _ => 0,
    }
}
