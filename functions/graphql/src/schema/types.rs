//! Output and input types, named as the Python package's graphene schema named
//! them, with snake_case fields (async-graphql's camelCase renaming is off).

use super::errors::{from_store, unauthorized};
use super::{app, identity, may_manage_sessions};
use crate::ids;
use async_graphql::{
    Context, InputObject, InputValueError, InputValueResult, Object, Result, Scalar, ScalarType,
    SimpleObject, Value, ID,
};
use shared::sessions::list::{self, iso8601, SessionView};
use shared::store::{RoleRecord, UserRecord};

pub struct User(pub UserRecord);

#[Object(rename_fields = "snake_case", rename_args = "snake_case")]
impl User {
    /// Relay global id: base64 of `User:<ObjectId hex>`.
    async fn id(&self) -> ID {
        ID(ids::to_global("User", &self.0.id))
    }
    async fn username(&self) -> &str {
        self.0.username.as_str()
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    /// The user must change the password before doing anything else.
    async fn change_password(&self) -> bool {
        self.0.change_password
    }
    /// `null` when the role the user points at no longer exists.
    async fn role(&self) -> Option<Role> {
        self.0.role.clone().map(Role)
    }
    /// The user's live sessions: the caller's own, or any user's for a caller
    /// the rule of `update_user` admits (default `admin`).
    #[graphql(complexity = "10 + child_complexity")]
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>> {
        let caller = identity(ctx).caller.as_ref().ok_or_else(unauthorized)?;
        if caller.user.id != self.0.id && !may_manage_sessions(ctx) {
            return Err(unauthorized());
        }
        sessions_of(ctx, self.0.id).await
    }
}

/// `user_id`'s live sessions, the caller's current one marked.
pub async fn sessions_of(ctx: &Context<'_>, user_id: shared::UserId) -> Result<Vec<Session>> {
    let current = identity(ctx)
        .caller
        .as_ref()
        .and_then(|caller| caller.session.as_ref())
        .map(|session| session.id);
    let sessions = list::list(app(ctx), user_id, current)
        .await
        .map_err(from_store)?;
    Ok(sessions.into_iter().map(Session).collect())
}

/// A live session, as its user (or an administrator) sees it.
pub struct Session(pub SessionView);

#[Object(rename_fields = "snake_case", rename_args = "snake_case")]
impl Session {
    /// Relay global id: base64 of `Session:<ObjectId hex>`.
    async fn id(&self) -> ID {
        ID(ids::to_global("Session", &self.0.id))
    }
    /// Login time, ISO-8601 UTC.
    async fn created_at(&self) -> String {
        iso8601(self.0.created_at)
    }
    /// Last refresh, ISO-8601 UTC; `null` if never refreshed.
    async fn refreshed_at(&self) -> Option<String> {
        self.0.refreshed_at.map(iso8601)
    }
    /// The address API Gateway saw at login; `null` if unknown (a session the
    /// Python service opened).
    async fn source_ip(&self) -> Option<&str> {
        self.0.source_ip.as_deref()
    }
    /// The `User-Agent` at login (at most 256 characters); `null` if unknown.
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }
    /// The session of the access token this request came with.
    async fn current(&self) -> bool {
        self.0.current
    }
}

pub struct Role(pub RoleRecord);

#[Object(rename_fields = "snake_case", rename_args = "snake_case")]
impl Role {
    async fn id(&self) -> ID {
        ID(ids::to_global("Role", &self.0.id))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The role's permissions object, JSON-encoded (graphene's `JSONString`).
    async fn permissions(&self) -> JsonString {
        JsonString(self.0.permissions_json())
    }
}

/// A JSON document carried as a string, like graphene's `JSONString`.
pub struct JsonString(pub String);

#[Scalar(name = "JSONString")]
impl ScalarType for JsonString {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(text) if serde_json::from_str::<serde_json::Value>(&text).is_ok() => {
                Ok(JsonString(text))
            }
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// A page of users (Relay connection, keyset-paginated by id).
#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
pub struct UserConnection {
    pub edges: Vec<UserEdge>,
    pub page_info: PageInfo,
}

#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
pub struct UserEdge {
    pub node: User,
    pub cursor: String,
}

#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

// Mutation inputs. Their type names are the Python package's, since clients
// write them in variable declarations.

#[derive(InputObject)]
#[graphql(rename_fields = "snake_case")]
pub struct UpdatePasswordInput {
    pub current_password: String,
    pub new_password: String,
    pub password_confirmed: String,
}

#[derive(InputObject)]
#[graphql(rename_fields = "snake_case")]
pub struct CreateUserInput {
    pub username: String,
    pub password: String,
    pub password_confirmed: String,
    /// The role's name.
    pub role: String,
}

#[derive(InputObject)]
#[graphql(rename_fields = "snake_case")]
pub struct UpdateUserInput {
    pub id: ID,
    pub change_password: bool,
    /// Optional; `false` deactivates the user and ends their sessions.
    pub active: Option<bool>,
}

#[derive(InputObject)]
#[graphql(rename_fields = "snake_case")]
pub struct DeleteUserInput {
    pub id: ID,
}

#[derive(InputObject)]
#[graphql(rename_fields = "snake_case")]
pub struct ResetPasswordInput {
    pub id: ID,
}

#[derive(InputObject)]
#[graphql(rename_fields = "snake_case")]
pub struct RefreshTokenInput {
    pub refresh_token: String,
}

#[derive(InputObject)]
#[graphql(rename_fields = "snake_case")]
pub struct EndSessionInput {
    /// The session's global id (`Session:<ObjectId>`) or bare ObjectId.
    pub id: ID,
}

// Mutation payloads, named after the graphene mutation classes.

#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
pub struct UpdatePassword {
    pub ok: bool,
}

#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
pub struct CreateUser {
    pub user: User,
}

#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
pub struct UpdateUser {
    pub user: User,
}

#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
pub struct DeleteUser {
    pub ok: bool,
}

#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
pub struct ResetPassword {
    /// The new password, shown this once.
    pub password: String,
}

#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
pub struct RefreshToken {
    pub token_type: String,
    pub access_token: String,
    pub refresh_token: String,
    /// Minutes until the access token expires.
    pub expires_in: u32,
}

#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
pub struct EndSession {
    pub ok: bool,
}

#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
pub struct EndOtherSessions {
    pub ok: bool,
}
