//! The one way a function answers a request, so no function can forget a step.

use crate::app::App;
use crate::error::ServiceError;
use crate::response;
use lambda_http::{Body, Response};
use std::convert::Infallible;
use std::future::Future;

/// Picks up a rotated key if the secret is due to be re-read, runs `route`, and
/// turns its error (if any) into the response, through the one error-to-HTTP map.
/// `route` is a future, so nothing of it runs before the keys are current.
pub async fn serve(
    app: &App,
    route: impl Future<Output = Result<Response<Body>, ServiceError>>,
) -> Result<Response<Body>, Infallible> {
    app.refresh_secret_if_due().await;
    Ok(response::respond(route.await))
}
