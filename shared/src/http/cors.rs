//! CORS, so a browser console on another origin can call the functions
//! (`CORS_ALLOWED_ORIGINS`, comma-separated; unset or empty: off).
//!
//! It lives here rather than in API Gateway: with a proxy integration only the
//! function can put headers on its answers, and only code can answer with the
//! one allowed origin that asked (the header takes a single origin). The
//! functions answer their own preflight (`OPTIONS`) for the same reason.

use crate::settings::AllowedOrigins;
use lambda_http::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ORIGIN, VARY,
};
use lambda_http::http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};

/// What a browser may send beyond the simple headers: the bearer token and the
/// JSON content type.
const ALLOWED_HEADERS: &str = "Authorization, Content-Type";
const ALLOWED_METHODS: &str = "POST, OPTIONS";
/// A lockout's 429 tells the client when to try again.
const EXPOSED_HEADERS: &str = "Retry-After";
/// How long a browser may reuse a preflight answer (seconds).
const PREFLIGHT_MAX_AGE: &str = "600";

impl AllowedOrigins {
    /// The request's `Origin`, if it is one of the allowed ones.
    fn allowed<'r>(&self, request: &'r Request) -> Option<&'r HeaderValue> {
        let origin = request.headers().get(ORIGIN)?;
        self.contains(origin.to_str().ok()?).then_some(origin)
    }

    /// The answer to a preflight from an allowed origin: 204 with what may be
    /// sent. `None` for anything else, which the function then answers as any
    /// request (an `OPTIONS` it does not serve gets 405).
    pub fn preflight(&self, request: &Request) -> Option<Response<Body>> {
        if request.method() != Method::OPTIONS {
            return None;
        }
        let origin = self.allowed(request)?.clone();
        let mut response = Response::new(Body::Empty);
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOWED_METHODS),
        );
        headers.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        headers.insert(
            ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
        headers.insert(VARY, HeaderValue::from_static("Origin"));
        Some(response)
    }

    /// Lets the page of an allowed origin read `response`. Every answer varies
    /// by origin while CORS is on, so a cache never hands one origin's answer
    /// to another.
    pub fn decorate(&self, request: &Request, response: &mut Response<Body>) {
        if self.is_off() {
            return;
        }
        let headers = response.headers_mut();
        headers.append(VARY, HeaderValue::from_static("Origin"));
        if let Some(origin) = self.allowed(request) {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(
                ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
        }
    }
}
