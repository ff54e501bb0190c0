//! Domain errors as GraphQL errors: the message is the string clients match on
//! (the Python package's), details go into `extensions`, causes into the log.

use async_graphql::{Error, ErrorExtensions};
use shared::accounts::AccountError;
use shared::ServiceError;

pub fn from_service(err: ServiceError) -> Error {
    if err.status().is_server_error() {
        tracing::error!(error = %err, "graphql field failed");
    }
    let message = err.message();
    match err {
        ServiceError::BadRequest(fields) => bad_request(&fields),
        _ => Error::new(message),
    }
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
