//! The bearer check in front of logout and graphql, with the Python decorator's
//! order of checks and messages.

use crate::auth::token::AccessClaims;
use crate::error::ServiceError;
use crate::ids::UserId;
use crate::runtime::app::App;
use crate::store::{RoleRecord, SessionRecord, UserRecord};

/// What the guard does with a user whose `change_password` flag is set (when
/// `REQUIRE_PASSWORD_CHANGE` is on): refuse the call, or let it through because
/// it is one the user needs in order to change the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnPendingPasswordChange {
    Refuse,
    Allow,
}

/// An authenticated caller.
#[derive(Debug)]
pub struct Caller {
    pub user: UserRecord,
    pub role: RoleRecord,
    /// The whitelist entry of the token in use (`None` with the whitelist off).
    pub session: Option<SessionRecord>,
    pub claims: AccessClaims,
}

/// Checks `Authorization: Bearer <access token>` and loads the caller, in at most
/// two database commands, sent concurrently.
pub async fn authenticate(
    app: &App,
    authorization: Option<&str>,
    pending_change: OnPendingPasswordChange,
) -> Result<Caller, ServiceError> {
    let allowed = |role: &str| app.settings.allowed_roles.permits(role);
    check(app, authorization, pending_change, Session::Read, &allowed).await
}

/// The guard with the role judged by `permits` instead of `ALLOWED_ROLES`
/// (the authorizer: a team's route decides which roles it admits); every
/// other check, and their order, as [`authenticate`]'s, a pending password
/// change refused.
pub async fn authenticate_for(
    app: &App,
    authorization: Option<&str>,
    permits: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Caller, ServiceError> {
    let pending_change = OnPendingPasswordChange::Refuse;
    check(app, authorization, pending_change, Session::Read, permits).await
}

/// The guard of logout, which ends the token's session: the whitelist entry is
/// removed by the command that looks it up, and the session's side document
/// (source IP, user agent) by a delete on the token's access id, both sent
/// with the read of the user, so logout takes one wait instead of two. The
/// checks then run as [`authenticate`]'s (a pending password change allowed:
/// a user must always be able to end a session). If they refuse, the entry of
/// the token and its side document are gone anyway, which is what a logout
/// asks for.
///
/// A side document mid-rotation (a refresh of the same session has rotated
/// it but not yet written the new ids into the whitelist entry) holds a newer
/// access id than the token logged out, so this delete misses it; the
/// refresh then finds the whitelist entry gone and deletes the side document
/// itself (`finish_rotation` in [`crate::sessions::refresh`]).
pub async fn authenticate_ending_session(
    app: &App,
    authorization: Option<&str>,
) -> Result<Caller, ServiceError> {
    let allowed = |role: &str| app.settings.allowed_roles.permits(role);
    check(
        app,
        authorization,
        OnPendingPasswordChange::Allow,
        Session::End,
        &allowed,
    )
    .await
}

/// What the guard does with the token's whitelist entry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Session {
    Read,
    End,
}

async fn check(
    app: &App,
    authorization: Option<&str>,
    pending_change: OnPendingPasswordChange,
    use_of_session: Session,
    permits: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Caller, ServiceError> {
    let token = bearer_token(authorization).ok_or(ServiceError::Unauthorized)?;
    let claims = app.keys().verify_access(token)?;
    let user_id = UserId::from_subject(&claims.sub).ok_or(ServiceError::InvalidToken)?;

    let session = async {
        match (app.settings.use_whitelist, use_of_session) {
            (false, _) => Ok(None),
            (true, Session::Read) => app.store.session_by_access(&claims.uuid).await,
            (true, Session::End) => {
                app.store
                    .take_session_by_access(&claims.uuid, user_id)
                    .await
            }
        }
    };
    // Logout's third command: the side document of the token's session, by
    // the same access id and user as the whitelist entry's removal (with the
    // whitelist off there is none: login writes no side document then).
    let side_document = async {
        match (app.settings.use_whitelist, use_of_session) {
            (true, Session::End) => {
                app.store
                    .delete_session_meta_by_access(&claims.uuid, user_id)
                    .await
            }
            _ => Ok(()),
        }
    };
    let (session, user, ()) =
        tokio::try_join!(session, app.store.user_by_id(user_id), side_document)?;

    if app.settings.use_whitelist {
        match &session {
            Some(entry) if entry.user_id() == user_id => {}
            // Not whitelisted (logged out, replaced) or whitelisted for someone else.
            _ => return Err(ServiceError::Unauthorized),
        }
    }
    let Some(mut user) = user else {
        return Err(ServiceError::Unauthorized);
    };
    if !user.active {
        return Err(ServiceError::Unauthorized);
    }
    let role = match user.role.take() {
        Some(role) if permits(&role.name) => role,
        _ => return Err(ServiceError::Unauthorized),
    };
    if app.settings.require_password_change
        && user.change_password
        && pending_change == OnPendingPasswordChange::Refuse
    {
        return Err(ServiceError::PasswordChangeRequired);
    }
    Ok(Caller {
        user,
        role,
        session,
        claims,
    })
}

/// Whether `user` may hold a session here: active, with a role
/// `ALLOWED_ROLES` permits. The guard's last checks, and a refresh's.
pub fn admits(app: &App, user: &UserRecord) -> bool {
    user.active
        && user
            .role
            .as_ref()
            .is_some_and(|role| app.settings.allowed_roles.permits(&role.name))
}

/// An access token sent along with a call where it need not be live (a
/// refresh-only request: the refresh token is the credential): whose it is,
/// and whether it is still unexpired. Never a caller: see
/// [`crate::sessions::refresh`] for what it may and may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentAlong {
    pub user_id: UserId,
    pub live: bool,
}

/// The bearer token's owner, for a call where the token need not be live. It
/// must still carry our signature; it may have expired or been logged out.
pub fn token_owner(app: &App, authorization: &str) -> Result<SentAlong, ServiceError> {
    let token = bearer_token(Some(authorization)).ok_or(ServiceError::Unauthorized)?;
    let claims = app.keys().verify_access_signature(token)?;
    let user_id = UserId::from_subject(&claims.sub).ok_or(ServiceError::InvalidToken)?;
    // Live exactly when the full check (expiry included) passes.
    let live = app.keys().verify_access(token).is_ok();
    Ok(SentAlong { user_id, live })
}

/// The token of an `Authorization` header that is exactly `Bearer <token>`.
pub fn bearer_token(header: Option<&str>) -> Option<&str> {
    let mut parts = header?.split(' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("Bearer"), Some(token), None) if !token.is_empty() => Some(token),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn only_exactly_bearer_space_token_is_accepted() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        for header in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer "),
            Some("bearer abc"),
            Some("Basic abc"),
            Some("Bearer  abc"),
            Some("Bearer abc def"),
            Some("Token abc"),
        ] {
            assert_eq!(bearer_token(header), None, "{header:?}");
        }
    }
}
