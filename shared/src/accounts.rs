//! Creating roles and users, with the Python service's rules and messages. Used
//! by the `auth-admin` command today and by the GraphQL administration.

use crate::error::{FieldErrors, ServiceError};
use crate::ids::{RoleId, SessionId, UserId};
use crate::password;
use crate::password::Verdict;
pub use crate::protected::Actor;
use crate::settings::AccountRules;
use crate::store::{DbRef, NewRole, NewUser, Store, StoreError, UserRecord};
use crate::validate::{self, StringField};
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
    #[error("Current password don't match")]
    CurrentPasswordDontMatch,
    #[error("The new password is equal as the current password")]
    SameAsCurrent,
    #[error("not_found")]
    NotFound,
    /// A protected role is beyond the caller (see [`Actor`]).
    #[error("unauthorized")]
    Unauthorized,
    #[error(transparent)]
    Failure(#[from] ServiceError),
}

impl From<StoreError> for AccountError {
    fn from(err: StoreError) -> Self {
        AccountError::Failure(ServiceError::Store(err))
    }
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
    let username = account.username.to_lowercase();
    let mut errors = FieldErrors::new();
    for (field, value) in [
        (StringField::new_username(rules), username.as_str()),
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

/// The caller changes their own password: confirmation, current password and
/// novelty checked in the Python service's order. Success clears
/// `change_password` and ends the caller's other sessions, keeping `keep_session`.
pub async fn change_own_password(
    store: &Store,
    rules: AccountRules,
    user: &UserRecord,
    keep_session: Option<SessionId>,
    change: PasswordChangeForm,
) -> Result<(), AccountError> {
    let field = StringField::new_password(rules, "new_password");
    if let Some(reason) = field.check(change.new_password.expose_secret()) {
        return Err(AccountError::Invalid(FieldErrors::from([(
            field.name.to_owned(),
            vec![reason],
        )])));
    }
    if change.new_password.expose_secret() != change.password_confirmed.expose_secret() {
        return Err(AccountError::PasswordsDontMatch);
    }
    let stored = user.password_hash.expose_secret().to_owned();
    let verdict = password::verify_off_executor(
        rules.password_hash,
        change.current_password.clone(),
        Some(stored),
    )
    .await
    .map_err(ServiceError::from)?;
    if verdict == Verdict::Mismatch {
        return Err(AccountError::CurrentPasswordDontMatch);
    }
    if change.current_password.expose_secret() == change.new_password.expose_secret() {
        return Err(AccountError::SameAsCurrent);
    }
    let hash = password::hash_off_executor(rules.password_hash, change.new_password)
        .await
        .map_err(ServiceError::from)?;
    // Sessions end first: if the second write fails, no session (perhaps an
    // attacker's) outlives the attempt.
    crate::session_list::end_sessions_of(store, user.id, keep_session).await?;
    if !store.set_password(user.id, &hash, false).await? {
        return Err(AccountError::NotFound);
    }
    Ok(())
}

/// What a user types to change their password: the current one, the new one,
/// and the new one again.
pub struct PasswordChangeForm {
    pub current_password: SecretString,
    pub new_password: SecretString,
    pub password_confirmed: SecretString,
}

/// Gives a user a random password from a CSPRNG, to be changed at next use, and
/// ends their sessions. The password is returned once and stored only hashed.
/// Its length is `RESET_PASSWORD_LEN_GENERATOR`, or `PASSWORD_MIN_LENGTH` if
/// that is longer, so a reset password always satisfies the rules.
pub async fn reset_password(
    store: &Store,
    rules: AccountRules,
    actor: Actor<'_>,
    length: usize,
    user_id: UserId,
) -> Result<SecretString, AccountError> {
    actor.check_target(store, user_id).await?;
    let password = random_password(length.max(rules.password_min_length));
    let hash = password::hash_off_executor(rules.password_hash, password.clone())
        .await
        .map_err(ServiceError::from)?;
    // Sessions end before the new hash is written, so a failure between the two
    // leaves no session alive.
    crate::session_list::end_sessions_of(store, user_id, None).await?;
    if !store.set_password(user_id, &hash, true).await? {
        return Err(AccountError::NotFound);
    }
    Ok(password)
}

/// Letters and digits from the thread-local CSPRNG (ChaCha, seeded by the OS).
pub fn random_password(length: usize) -> SecretString {
    use rand::RngExt;
    let password: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(length)
        .map(char::from)
        .collect();
    SecretString::from(password)
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
        crate::session_list::end_sessions_of(store, user_id, None).await?;
    }
    if !store.set_flags(user_id, change_password, active).await? {
        return Err(AccountError::NotFound);
    }
    store
        .user_by_id(user_id)
        .await?
        .ok_or(AccountError::NotFound)
}

/// Ends a user's sessions and deletes the user (in that order: a failure
/// between the two leaves no session of a user meant to be gone).
pub async fn delete_user(
    store: &Store,
    actor: Actor<'_>,
    user_id: UserId,
) -> Result<(), AccountError> {
    actor.check_target(store, user_id).await?;
    crate::session_list::end_sessions_of(store, user_id, None).await?;
    if !store.delete_user(user_id).await? {
        return Err(AccountError::NotFound);
    }
    Ok(())
}

/// Creates a role; its name must be new.
pub async fn create_role(
    store: &Store,
    name: &str,
    permissions: Document,
) -> Result<RoleId, AccountError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_passwords_are_alphanumeric_of_the_asked_length_and_differ() {
        let a = random_password(12);
        let b = random_password(12);
        assert_eq!(a.expose_secret().len(), 12);
        assert!(a.expose_secret().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.expose_secret(), b.expose_secret());
    }
}
