//! Changing passwords: the caller's own (`update_password`), and an
//! administrator's reset to a random one (`reset_password`). Either ends
//! sessions before the new hash is written.

use super::error::AccountError;
use super::protected::Actor;
use crate::auth::password::{self, Verdict};
use crate::error::{FieldErrors, ServiceError};
use crate::http::request::Origin;
use crate::ids::{SessionId, UserId};
use crate::runtime::app::App;
use crate::runtime::audit::{Event, Record};
use crate::sessions::end::end_sessions_of;
use crate::sessions::lockout;
use crate::settings::AccountRules;
use crate::store::{Store, UserRecord};
use crate::validate::StringField;
use secrecy::{ExposeSecret, SecretString};

/// The audit trail's `reason` for a check of the current password.
pub const CURRENT_PASSWORD: &str = "current_password";

/// The caller changes their own password: confirmation, current password and
/// novelty checked in the Python service's order. The current password is
/// checked like a login's: counted on the username first, refused unhashed
/// while it is locked out ([`lockout::admit_check`]). Success clears
/// `change_password` and ends the caller's other sessions, keeping `keep_session`.
pub async fn change_own_password(
    app: &App,
    user: &UserRecord,
    keep_session: Option<SessionId>,
    change: PasswordChangeForm,
    origin: &Origin,
) -> Result<(), AccountError> {
    let (store, rules) = (&app.store, app.settings.accounts);
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
    let attempt = lockout::admit_check(app, &user.username, origin, CURRENT_PASSWORD).await?;
    let stored = user.password_hash.expose_secret().to_owned();
    let verdict = password::verify_off_executor(
        rules.password_hash,
        change.current_password.clone(),
        Some(stored),
    )
    .await
    .map_err(ServiceError::from)?;
    if verdict == Verdict::Mismatch {
        Event::LoginFailed.record(&Record {
            user_id: Some(user.id),
            username: Some(&user.username),
            reason: Some(CURRENT_PASSWORD),
            ..Record::from(origin)
        });
        return Err(AccountError::CurrentPasswordDontMatch);
    }
    // The right password clears the count, as a login does: here sent with
    // the sessions' ending (one wait), or alone when the change stops here.
    let clear = lockout::after_success(app, &user.username, attempt);
    if change.current_password.expose_secret() == change.new_password.expose_secret() {
        clear.await;
        return Err(AccountError::SameAsCurrent);
    }
    let hash = match password::hash_off_executor(rules.password_hash, change.new_password).await {
        Ok(hash) => hash,
        Err(err) => {
            clear.await;
            return Err(ServiceError::from(err).into());
        }
    };
    // Sessions end first: if the second write fails, no session (perhaps an
    // attacker's) outlives the attempt.
    let (ended, ()) = tokio::join!(end_sessions_of(store, user.id, keep_session), clear);
    ended?;
    if !store.set_password(user.id, &hash, false).await? {
        return Err(AccountError::NotFound);
    }
    Event::PasswordChanged.record(&Record {
        user_id: Some(user.id),
        username: Some(&user.username),
        session_id: keep_session,
        ..Record::from(origin)
    });
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
    end_sessions_of(store, user_id, None).await?;
    if !store.set_password(user_id, &hash, true).await? {
        return Err(AccountError::NotFound);
    }
    actor.record(Event::PasswordReset, user_id, None);
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
