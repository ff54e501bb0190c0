//! The one way a function answers a request, so no function can forget a step.

use crate::app::App;
use crate::error::ServiceError;
use crate::response;
use lambda_http::{Body, Response};
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

/// The most one request may take, whatever it does (a GraphQL batch may send
/// many commands, each bounded on its own): below the template's function
/// `Timeout` (10 s), so a client gets our 503 rather than a gateway's 502/504.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(6);

/// Starts a re-read of the secret if one is due (in the background), runs
/// `route` under [`REQUEST_DEADLINE`], and turns its error (if any) into the
/// response, through the one error-to-HTTP map.
pub async fn serve(
    app: &App,
    route: impl Future<Output = Result<Response<Body>, ServiceError>>,
) -> Result<Response<Body>, Infallible> {
    app.refresh_secret_if_due();
    let outcome = tokio::time::timeout(REQUEST_DEADLINE, route)
        .await
        .unwrap_or(Err(ServiceError::DeadlineExceeded));
    Ok(response::respond(outcome))
}
