//! `POST /admin/logout`: ends the session of the bearer token it is called with.

use shared::lambda_http::{Body, Request, Response};
use shared::{http, response, serve, session, App, ServiceError};
use std::convert::Infallible;

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    serve(app, &request, logout(app, &request)).await
}

async fn logout(app: &App, request: &Request) -> Result<Response<Body>, ServiceError> {
    http::require_post(request)?;
    // The body is ignored (clients of the Python service send `{}`), but an
    // oversized one is still refused.
    http::body(request)?;
    // A user must always be able to end a session, so a pending password change
    // does not block logout (the Python service refused it).
    session::logout(app, http::authorization(request), &http::origin(request)).await?;
    Ok(response::ok())
}
