use authorizer::{Authorizer, RouteRoles};
use shared::lambda_http::lambda_runtime::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let Ok(app) = shared::start().await else {
        // `start` has logged why, naming the setting at fault.
        std::process::exit(1);
    };
    // The secret's values win over the environment, as for the shared settings.
    let routes = match RouteRoles::from_setting(app.setting(authorizer::ROUTE_ROLES).as_deref()) {
        Ok(routes) => routes,
        Err(err) => {
            tracing::error!(error = %err, "start-up failed");
            std::process::exit(1);
        }
    };
    let authorizer = Authorizer::new(app, routes);
    let authorizer = &authorizer;
    run(service_fn(move |event| authorizer.handle(event))).await
}
