//! JSON responses, and the single mapping from [`ServiceError`] to HTTP.

use crate::error::{FieldErrors, ServiceError};
use lambda_http::http::header::{CONTENT_TYPE, RETRY_AFTER};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

#[derive(Serialize)]
struct MessageBody<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a FieldErrors>,
}

/// `{"message":"ok","data":…}`, the success shape of the REST routes.
#[derive(Serialize)]
pub struct OkBody<T: Serialize> {
    pub message: &'static str,
    pub data: T,
}

pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    match serde_json::to_string(body) {
        Ok(text) => build(status, text),
        Err(err) => {
            tracing::error!(error = %err, "response body could not be serialised");
            build(
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"message":"internal_server_error"}"#.to_owned(),
            )
        }
    }
}

/// `{"message": message}` with `status`.
pub fn message(status: StatusCode, message: &str) -> Response<Body> {
    json(
        status,
        &MessageBody {
            message,
            errors: None,
        },
    )
}

pub fn ok() -> Response<Body> {
    message(StatusCode::OK, "ok")
}

pub fn ok_with<T: Serialize>(data: T) -> Response<Body> {
    json(
        StatusCode::OK,
        &OkBody {
            message: "ok",
            data,
        },
    )
}

fn build(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

impl ServiceError {
    pub fn status(&self) -> StatusCode {
        match self {
            ServiceError::BadRequest(_) | ServiceError::BadCredentials => StatusCode::BAD_REQUEST,
            ServiceError::Unauthorized
            | ServiceError::SignatureExpired
            | ServiceError::InvalidToken
            | ServiceError::PasswordChangeRequired => StatusCode::UNAUTHORIZED,
            ServiceError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ServiceError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ServiceError::Store(err) if err.is_outage() => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::DeadlineExceeded => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Store(_)
            | ServiceError::Password(_)
            | ServiceError::Signing(_)
            | ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `message` clients match on; the Python service's strings.
    pub fn message(&self) -> &'static str {
        match self {
            ServiceError::BadRequest(_) => "bad_request",
            ServiceError::BadCredentials => "bad_credentials",
            ServiceError::TooManyAttempts { .. } => "too_many_attempts",
            ServiceError::Unauthorized => "unauthorized",
            ServiceError::SignatureExpired => "signature_expired",
            ServiceError::InvalidToken => "invalid_token",
            ServiceError::PasswordChangeRequired => "password_change_required",
            ServiceError::MethodNotAllowed => "method_not_allowed",
            ServiceError::PayloadTooLarge => "payload_too_large",
            ServiceError::Store(err) if err.is_outage() => "service_unavailable",
            ServiceError::DeadlineExceeded => "service_unavailable",
            ServiceError::Store(_)
            | ServiceError::Password(_)
            | ServiceError::Signing(_)
            | ServiceError::Internal(_) => "internal_server_error",
        }
    }
}

/// The response for an error; server-side failures are logged with their cause
/// chain here, so no handler has to remember to.
pub fn error(err: &ServiceError) -> Response<Body> {
    let status = err.status();
    if status.is_server_error() {
        let cause = crate::error::causes(err);
        tracing::error!(error = %err, %cause, status = status.as_u16(), "request failed");
    }
    let errors = match err {
        ServiceError::BadRequest(fields) => Some(fields),
        _ => None,
    };
    let mut response = json(
        status,
        &MessageBody {
            message: err.message(),
            errors,
        },
    );
    if let ServiceError::TooManyAttempts {
        retry_after_seconds,
    } = err
    {
        let seconds = HeaderValue::from(*retry_after_seconds.max(&1));
        response.headers_mut().insert(RETRY_AFTER, seconds);
    }
    response
}

/// Turns a handler's outcome into the response sent back.
pub fn respond(result: Result<Response<Body>, ServiceError>) -> Response<Body> {
    result.unwrap_or_else(|err| error(&err))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    fn body(response: &Response<Body>) -> serde_json::Value {
        match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap(),
            other => panic!("unexpected body {other:?}"),
        }
    }

    #[test]
    fn every_response_is_json() {
        let response = error(&ServiceError::Unauthorized);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(response.status(), 401);
        assert_eq!(
            body(&response),
            serde_json::json!({"message": "unauthorized"})
        );
    }

    #[test]
    fn field_errors_are_listed_under_errors() {
        let response = error(&ServiceError::bad_field("username", "required field"));
        assert_eq!(response.status(), 400);
        assert_eq!(
            body(&response),
            serde_json::json!({"message": "bad_request", "errors": {"username": ["required field"]}})
        );
    }

    #[test]
    fn an_outage_is_503_and_other_database_trouble_500() {
        let outage = error(&ServiceError::Store(StoreError::Timeout));
        assert_eq!(outage.status(), 503);
        assert_eq!(
            body(&outage),
            serde_json::json!({"message": "service_unavailable"})
        );
        let bug = error(&ServiceError::Store(StoreError::Duplicate));
        assert_eq!(bug.status(), 500);
        assert_eq!(
            body(&bug),
            serde_json::json!({"message": "internal_server_error"})
        );
    }

    #[test]
    fn a_lockout_is_429_with_retry_after_in_whole_seconds_at_least_one() {
        let response = error(&ServiceError::TooManyAttempts {
            retry_after_seconds: 0,
        });
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[RETRY_AFTER], "1");
        assert_eq!(
            body(&response),
            serde_json::json!({"message": "too_many_attempts"})
        );
    }

    #[test]
    fn internal_details_never_reach_the_body() {
        let response = error(&ServiceError::Internal("secret detail"));
        let text = serde_json::to_string(&body(&response)).unwrap();
        assert!(!text.contains("secret detail"));
    }
}
