//! Creating roles and users, with the Python service's rules and messages. Used
//! by the `auth-admin` command today and by the GraphQL administration.

use crate::error::{FieldErrors, ServiceError};
use crate::password;
use crate::session::{PASSWORD_MAX_LEN, USERNAME_MAX_LEN};
use crate::settings::AccountRules;
use crate::store::{DbRef, NewRole, NewUser, Store, StoreError};
use crate::validate::{self, StringField};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::Document;
use secrecy::{ExposeSecret, SecretString};

/// A request to create a user.
pub struct NewAccount {
    pub username: String,
    pub password: SecretString,
    pub password_confirmed: SecretString,
    /// The role's name.
    pub role: String,
}

/// Why an account could not be created; the messages are the Python service's.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("bad_request")]
    Invalid(FieldErrors),
    #[error("Passwords don't match")]
    PasswordsDontMatch,
    #[error("Role does not exist")]
    RoleDoesNotExist,
    #[error("Username already exists")]
    UsernameExists,
    #[error("existing_resource")]
    RoleExists,
    #[error(transparent)]
    Failure(#[from] ServiceError),
}

impl From<StoreError> for AccountError {
    fn from(err: StoreError) -> Self {
        AccountError::Failure(ServiceError::Store(err))
    }
}

/// The rules a new username must meet.
pub fn username_rules(rules: AccountRules) -> StringField {
    StringField {
        name: "username",
        min_len: rules.username_min_length,
        max_len: USERNAME_MAX_LEN,
        no_spaces: true,
    }
}

/// The rules a new password must meet, reported under `field`.
pub fn password_rules(rules: AccountRules, field: &'static str) -> StringField {
    StringField {
        name: field,
        min_len: rules.password_min_length,
        max_len: PASSWORD_MAX_LEN,
        no_spaces: true,
    }
}

/// Creates a user, checking in the Python service's order: fields, confirmation,
/// role, username. The unique index has the last word on the username, so two
/// concurrent creations of one name give one user and one `UsernameExists`.
pub async fn create_user(
    store: &Store,
    rules: AccountRules,
    account: NewAccount,
) -> Result<ObjectId, AccountError> {
    let username = account.username.to_lowercase();
    let mut errors = FieldErrors::new();
    for (field, value) in [
        (username_rules(rules), username.as_str()),
        (
            password_rules(rules, "password"),
            account.password.expose_secret(),
        ),
    ] {
        if let Some(reason) = field.check(value) {
            validate::reject(&mut errors, field.name, reason);
        }
    }
    if account.role.trim().is_empty() {
        validate::reject(&mut errors, "role", validate::EMPTY.to_owned());
    }
    if !errors.is_empty() {
        return Err(AccountError::Invalid(errors));
    }
    if account.password.expose_secret() != account.password_confirmed.expose_secret() {
        return Err(AccountError::PasswordsDontMatch);
    }
    let role = store
        .role_by_name(&account.role)
        .await?
        .ok_or(AccountError::RoleDoesNotExist)?;
    if store.username_exists(&username).await? {
        return Err(AccountError::UsernameExists);
    }
    let hash = password::hash_off_executor(account.password)
        .await
        .map_err(ServiceError::from)?;
    let user = NewUser {
        username,
        password: hash,
        active: true,
        change_password: false,
        role: DbRef::to("role", role.id),
    };
    match store.insert_user(&user).await {
        Ok(id) => Ok(id),
        Err(StoreError::Duplicate) => Err(AccountError::UsernameExists),
        Err(err) => Err(err.into()),
    }
}

/// Creates a role; its name must be new.
pub async fn create_role(
    store: &Store,
    name: &str,
    permissions: Document,
) -> Result<ObjectId, AccountError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AccountError::Invalid(FieldErrors::from([(
            "name".to_owned(),
            vec![validate::EMPTY.to_owned()],
        )])));
    }
    if store.role_by_name(name).await?.is_some() {
        return Err(AccountError::RoleExists);
    }
    let role = NewRole {
        name: name.to_owned(),
        permissions,
    };
    match store.insert_role(&role).await {
        Ok(id) => Ok(id),
        Err(StoreError::Duplicate) => Err(AccountError::RoleExists),
        Err(err) => Err(err.into()),
    }
}
