//! `POST /admin/login`: username and password in, an access/refresh token pair out.

use serde::Serialize;
use shared::http::{self, response};
use shared::lambda_http::{Body, Request, Response};
use shared::sessions::login::{self, Credentials, Grant};
use shared::{serve, App, ServiceError};
use std::convert::Infallible;

/// The `data` of a successful login: the Python package's documented body
/// (`token`) plus what its login view really answers (`access_token`, the same
/// value), so clients written against either keep working.
#[derive(Serialize)]
struct LoginData {
    change_password: bool,
    token_type: &'static str,
    token: String,
    access_token: String,
    refresh_token: String,
    expires_in: u32,
    role: String,
}

impl From<Grant> for LoginData {
    fn from(grant: Grant) -> Self {
        LoginData {
            change_password: grant.change_password,
            token_type: "Bearer",
            access_token: grant.tokens.access_token.clone(),
            token: grant.tokens.access_token,
            refresh_token: grant.tokens.refresh_token,
            expires_in: grant.expires_in,
            role: grant.role,
        }
    }
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    serve(app, &request, log_in(app, &request)).await
}

async fn log_in(app: &App, request: &Request) -> Result<Response<Body>, ServiceError> {
    http::require_post(request)?;
    let credentials = Credentials::from_json(http::body(request)?)?;
    let grant = login::login(app, credentials, &http::origin(request)).await?;
    Ok(response::ok_with(LoginData::from(grant)))
}
