//! What the handlers need from an API Gateway request, whichever payload version
//! (REST v1, HTTP API v2, function URL) delivered it.

use crate::error::ServiceError;
use lambda_http::http::{header::AUTHORIZATION, Method};
use lambda_http::{Body, Request};

/// Bodies above this are refused before any parsing (API Gateway itself allows 10 MB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn require_post(request: &Request) -> Result<(), ServiceError> {
    if request.method() == Method::POST {
        Ok(())
    } else {
        Err(ServiceError::MethodNotAllowed)
    }
}

/// The raw body bytes, at most [`MAX_BODY_BYTES`]; base64 bodies arrive decoded.
pub fn body(request: &Request) -> Result<&[u8], ServiceError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ServiceError::PayloadTooLarge);
    }
    Ok(bytes)
}

/// The `Authorization` header, if there is exactly one and it is text.
pub fn authorization(request: &Request) -> Option<&str> {
    let mut values = request.headers().get_all(AUTHORIZATION).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().ok(),
        _ => None,
    }
}
