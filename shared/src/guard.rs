//! The bearer check in front of logout and graphql, with the Python decorator's
//! order of checks and messages.

use crate::app::App;
use crate::error::ServiceError;
use crate::store::{RoleRecord, SessionRecord, UserRecord};
use crate::token::AccessClaims;
use mongodb::bson::oid::ObjectId;

/// Whether a set `change_password` flag blocks the call (when
/// `REQUIRE_PASSWORD_CHANGE` is on). The calls a user needs to change the password
/// are exempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChange {
    Enforce,
    Exempt,
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
    password_change: PasswordChange,
) -> Result<Caller, ServiceError> {
    let token = bearer_token(authorization).ok_or(ServiceError::Unauthorized)?;
    let claims = app.tokens().verify_access(token)?;
    let user_id = ObjectId::parse_str(&claims.sub).map_err(|_| ServiceError::InvalidToken)?;

    let session = async {
        if app.settings.white_list_token {
            app.store.session_by_access(&claims.uuid).await
        } else {
            Ok(None)
        }
    };
    let (session, user) = tokio::try_join!(session, app.store.user_by_id(user_id))?;

    if app.settings.white_list_token {
        match &session {
            Some(entry) if entry.user.id == user_id => {}
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
        Some(role) if app.settings.allowed_roles.permits(&role.name) => role,
        _ => return Err(ServiceError::Unauthorized),
    };
    if app.settings.require_password_change
        && user.change_password
        && password_change == PasswordChange::Enforce
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
