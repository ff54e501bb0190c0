//! `POST /admin/logout`: ends the session of the bearer token it is called with.

use shared::http::{self, response};
use shared::lambda_http::{Body, Request, Response};
use shared::sessions::logout;
use shared::{serve, App, ServiceError};
use std::convert::Infallible;

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    serve(app, &request, end_session(app, &request)).await
}

async fn end_session(app: &App, request: &Request) -> Result<Response<Body>, ServiceError> {
    http::require_post(request)?;
    // The body is ignored (clients of the Python service send `{}`), but an
    // oversized one is still refused.
    http::body(request)?;
    // A user must always be able to end a session, so a pending password change
    // does not block logout (the Python service refused it).
    logout::logout(app, http::authorization(request), &http::origin(request)).await?;
    Ok(response::ok())
}
