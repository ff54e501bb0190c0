//! Domain errors as GraphQL errors: the message is the string clients match on
//! (the Python package's), details go into `extensions`, causes into the log.

use async_graphql::{Error, ErrorExtensions, ServerError, Value};
use shared::accounts::AccountError;
use shared::error::error_chain;
use shared::lambda_http::http::StatusCode;
use shared::store::StoreError;
use shared::ServiceError;

/// `extensions.code` of a field that failed because the database is down; the
/// response's status (503) is decided on it.
const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
/// `extensions.code` of a password check refused while its username is locked
/// out; `extensions.retry_after` says in how many seconds to try again.
const TOO_MANY_ATTEMPTS: &str = "TOO_MANY_ATTEMPTS";

pub fn from_service(err: ServiceError) -> Error {
    let status = err.status();
    if status.is_server_error() {
        let error = error_chain(&err);
        tracing::error!(%error, "graphql field failed");
    }
    let message = err.message();
    match err {
        ServiceError::BadRequest(fields) => bad_request(&fields),
        ServiceError::TooManyAttempts {
            retry_after_seconds,
        } => Error::new(message).extend_with(|_, extensions| {
            extensions.set("code", TOO_MANY_ATTEMPTS);
            extensions.set("retry_after", retry_after_seconds);
        }),
        _ if status == StatusCode::SERVICE_UNAVAILABLE => Error::new(message)
            .extend_with(|_, extensions| extensions.set("code", SERVICE_UNAVAILABLE)),
        _ => Error::new(message),
    }
}

pub fn from_store(err: StoreError) -> Error {
    from_service(ServiceError::Store(err))
}

/// Whether a field error reports a database outage.
pub fn is_outage(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("code"))
        .is_some_and(|code| *code == Value::from(SERVICE_UNAVAILABLE))
}

pub fn from_account(err: AccountError) -> Error {
    match err {
        AccountError::Invalid(fields) => bad_request(&fields),
        AccountError::Failure(failure) => from_service(failure),
        other => Error::new(other.to_string()),
    }
}

fn bad_request(fields: &shared::error::FieldErrors) -> Error {
    let errors = serde_json::to_value(fields).unwrap_or_default();
    Error::new("bad_request").extend_with(|_, extensions| {
        if let Ok(value) = async_graphql::Value::from_json(errors.clone()) {
            extensions.set("errors", value);
        }
    })
}

pub fn id_not_valid() -> Error {
    Error::new("id_not_valid")
}

pub fn unauthorized() -> Error {
    Error::new("unauthorized")
}
