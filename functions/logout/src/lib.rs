//! `POST /admin/logout`: ends the session of the bearer token it is called with.

use shared::guard::{self, PasswordChange};
use shared::lambda_http::{Body, Request, Response};
use shared::{http, response, session, App, ServiceError};
use std::convert::Infallible;

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    app.refresh_secret_if_due().await;
    Ok(response::respond(logout(app, &request).await))
}

async fn logout(app: &App, request: &Request) -> Result<Response<Body>, ServiceError> {
    http::require_post(request)?;
    // The body is ignored (the seed sends `{}`), but an oversized one is still refused.
    http::body(request)?;
    // The contract exempts only `update_password` and `me` from a pending
    // password change, so logout enforces it like any guarded call.
    let caller =
        guard::authenticate(app, http::authorization(request), PasswordChange::Enforce).await?;
    session::logout(app, &caller).await?;
    Ok(response::ok())
}
