//! Creating, changing and removing users, with the Python service's rules and
//! messages (`create_user`, `update_user`, `delete_user`, and `auth-admin`'s
//! `user-new`, `user-activate`, `user-deactivate`).

use super::error::AccountError;
use super::protected::Actor;
use crate::auth::password;
use crate::error::{FieldErrors, ServiceError};
use crate::ids::{UserId, Username};
use crate::runtime::audit::Event;
use crate::sessions::end::end_sessions_of;
use crate::settings::AccountRules;
use crate::store::{DbRef, NewUser, Store, StoreError, UserRecord};
use crate::validate::{self, StringField};
use secrecy::{ExposeSecret, SecretString};

/// A request to create a user.
pub struct NewAccount {
    pub username: String,
    pub password: SecretString,
    pub password_confirmed: SecretString,
    /// The role's name.
    pub role: String,
}

/// Creates a user, checking in the Python service's order: fields, confirmation,
/// role, username. The unique index has the last word on the username, so two
/// concurrent creations of one name give one user and one `UsernameExists`.
pub async fn create_user(
    store: &Store,
    rules: AccountRules,
    actor: Actor<'_>,
    account: NewAccount,
) -> Result<UserRecord, AccountError> {
    let lowered = account.username.to_lowercase();
    let mut errors = FieldErrors::new();
    for (field, value) in [
        (StringField::new_username(rules), lowered.as_str()),
        (
            StringField::new_password(rules, "password"),
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
    // A new username's rules include every username's: it parses.
    let username = Username::parse(&account.username).map_err(|err| {
        AccountError::Invalid(FieldErrors::from([(
            "username".to_owned(),
            vec![err.to_string()],
        )]))
    })?;
    if account.password.expose_secret() != account.password_confirmed.expose_secret() {
        return Err(AccountError::PasswordsDontMatch);
    }
    let role = store
        .role_by_name(&account.role)
        .await?
        .ok_or(AccountError::RoleDoesNotExist)?;
    if !actor.may_manage(Some(&role)) {
        return Err(AccountError::Unauthorized);
    }
    if store.username_exists(&username).await? {
        return Err(AccountError::UsernameExists);
    }
    let hash = password::hash_off_executor(rules.password_hash, account.password)
        .await
        .map_err(ServiceError::from)?;
    let user = NewUser {
        username,
        password: hash,
        active: true,
        change_password: false,
        role: DbRef::to_role(role.id),
    };
    let id = match store.insert_user(&user).await {
        Ok(id) => id,
        Err(StoreError::Duplicate) => return Err(AccountError::UsernameExists),
        Err(err) => return Err(err.into()),
    };
    actor.record(Event::UserCreated, id, Some(&user.username));
    Ok(UserRecord {
        id,
        username: user.username,
        password_hash: SecretString::from(user.password),
        active: user.active,
        change_password: user.change_password,
        role_ref: Some(user.role),
        role: Some(role),
    })
}

/// Sets a user's `change_password` flag and, when given, `active`; deactivating
/// a user ends their sessions. Returns the user as it now is.
pub async fn update_user(
    store: &Store,
    actor: Actor<'_>,
    user_id: UserId,
    change_password: bool,
    active: Option<bool>,
) -> Result<UserRecord, AccountError> {
    change_flags(store, actor, user_id, Some(change_password), active).await
}

/// Activates or deactivates a user, leaving `change_password` as it is
/// (`auth-admin user-activate` / `user-deactivate`). Deactivation ends the
/// user's sessions exactly as [`update_user`] with `active: false` does.
pub async fn set_active(
    store: &Store,
    actor: Actor<'_>,
    user_id: UserId,
    active: bool,
) -> Result<UserRecord, AccountError> {
    change_flags(store, actor, user_id, None, Some(active)).await
}

async fn change_flags(
    store: &Store,
    actor: Actor<'_>,
    user_id: UserId,
    change_password: Option<bool>,
    active: Option<bool>,
) -> Result<UserRecord, AccountError> {
    actor.check_target(store, user_id).await?;
    // A deactivated user's sessions end first, so a failed flag write leaves
    // none alive.
    if active == Some(false) {
        end_sessions_of(store, user_id, None).await?;
    }
    if !store.set_flags(user_id, change_password, active).await? {
        return Err(AccountError::NotFound);
    }
    let user = store
        .user_by_id(user_id)
        .await?
        .ok_or(AccountError::NotFound)?;
    actor.record(Event::UserUpdated, user.id, Some(&user.username));
    Ok(user)
}

/// Ends a user's sessions and deletes the user (in that order: a failure
/// between the two leaves no session of a user meant to be gone).
pub async fn delete_user(
    store: &Store,
    actor: Actor<'_>,
    user_id: UserId,
) -> Result<(), AccountError> {
    actor.check_target(store, user_id).await?;
    end_sessions_of(store, user_id, None).await?;
    if !store.delete_user(user_id).await? {
        return Err(AccountError::NotFound);
    }
    actor.record(Event::UserDeleted, user_id, None);
    Ok(())
}
