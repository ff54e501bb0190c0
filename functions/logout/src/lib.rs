//! `POST /admin/logout`: ends the session of the bearer token it is called with.

use shared::guard::{self, OnPendingPasswordChange};
use shared::lambda_http::{Body, Request, Response};
use shared::{http, response, serve, session, App, ServiceError};
use std::convert::Infallible;

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    serve(app, logout(app, &request)).await
}

async fn logout(app: &App, request: &Request) -> Result<Response<Body>, ServiceError> {
    http::require_post(request)?;
    // The body is ignored (clients of the Python service send `{}`), but an
    // oversized one is still refused.
    http::body(request)?;
    // Only `update_password` and `me` are exempt from a pending password change
    // (as in the Python service), so logout enforces it like any guarded call.
    let authorization = http::authorization(request);
    let caller = guard::authenticate(app, authorization, OnPendingPasswordChange::Refuse).await?;
    session::logout(app, &caller).await?;
    Ok(response::ok())
}
