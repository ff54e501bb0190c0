//! What goes wrong with an account change, in the Python service's words.

use crate::error::{FieldErrors, ServiceError};
use crate::store::StoreError;

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
    /// A protected role is beyond the caller (see [`super::Actor`]).
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
