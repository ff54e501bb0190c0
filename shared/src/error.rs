//! The one error type every request path returns. Each variant is an outcome a
//! client can see; `response` turns it into a status and body in one place.

use crate::auth::password::PasswordError;
use crate::auth::token::TokenError;
use crate::store::StoreError;
use std::collections::BTreeMap;

/// Field name to the reasons it was refused, in the shape Cerberus gave the
/// Python service: `{"username": ["required field"]}`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    // Expected outcomes of bad input: 4xx, logged at info at most.
    #[error("the request body was refused")]
    BadRequest(FieldErrors),
    #[error("the credentials were refused")]
    BadCredentials,
    /// The username or source IP is locked out; try again after this many
    /// whole seconds (at least 1).
    #[error("too many failed logins")]
    TooManyAttempts { retry_after_seconds: u64 },
    #[error("the caller is not authorised")]
    Unauthorized,
    #[error("the token has expired")]
    SignatureExpired,
    #[error("the token is not valid")]
    InvalidToken,
    #[error("the caller must change their password first")]
    PasswordChangeRequired,
    #[error("only POST is accepted")]
    MethodNotAllowed,
    #[error("the request body is too large")]
    PayloadTooLarge,

    // Server-side trouble: 5xx, logged with its cause, never shown to the client.
    #[error("database failure")]
    Store(#[from] StoreError),
    #[error("the request ran past its deadline")]
    DeadlineExceeded,
    #[error("password hashing failed")]
    Password(#[from] PasswordError),
    #[error("token signing failed")]
    Signing(#[source] TokenError),
    /// A broken invariant of our own, with no error underneath to keep.
    #[error("internal failure: {0}")]
    Internal(&'static str),
}

impl ServiceError {
    /// A single-field validation error.
    pub fn bad_field(field: &str, reason: &str) -> Self {
        ServiceError::BadRequest(FieldErrors::from([(
            field.to_owned(),
            vec![reason.to_owned()],
        )]))
    }
}

impl From<TokenError> for ServiceError {
    fn from(err: TokenError) -> Self {
        match err {
            TokenError::Expired => ServiceError::SignatureExpired,
            TokenError::Invalid => ServiceError::InvalidToken,
            TokenError::Signing | TokenError::EmptyKey => ServiceError::Signing(err),
        }
    }
}

/// `a: b: c` from an error's sources.
pub(crate) fn causes(err: &dyn std::error::Error) -> String {
    let mut chain = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    chain.join(": ")
}

/// The error and its sources, `error: cause: cause`, for a log line.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let causes = causes(err);
    if causes.is_empty() {
        err.to_string()
    } else {
        format!("{err}: {causes}")
    }
}
