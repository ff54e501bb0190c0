//! The one way a function answers a request, so no function can forget a step.

use crate::error::ServiceError;
use crate::http::response;
use crate::runtime::app::App;
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

/// The most one request may take, whatever it does (a GraphQL batch may send
/// many commands, each bounded on its own): below the template's function
/// `Timeout` (10 s), so a client gets our 503 rather than a gateway's 502/504.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(6);

/// Answers a CORS preflight from an allowed origin itself; otherwise starts a
/// re-read of the secret if one is due (in the background), runs `route` under
/// [`REQUEST_DEADLINE`], and turns its error (if any) into the response,
/// through the one error-to-HTTP map. Every answer gets the CORS headers
/// `request`'s origin is due.
pub async fn serve(
    app: &App,
    request: &Request,
    route: impl Future<Output = Result<Response<Body>, ServiceError>>,
) -> Result<Response<Body>, Infallible> {
    let cors = &app.settings.cors_allowed_origins;
    if let Some(preflight) = cors.preflight(request) {
        return Ok(preflight);
    }
    app.refresh_secret_if_due();
    let outcome = tokio::time::timeout(REQUEST_DEADLINE, route)
        .await
        .unwrap_or(Err(ServiceError::DeadlineExceeded));
    let mut response = response::respond(outcome);
    cors.decorate(request, &mut response);
    Ok(response)
}
