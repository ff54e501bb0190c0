use graphql::settings::GraphqlSettings;
use shared::lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let Ok(app) = shared::start().await else {
        // `start` has logged why, naming the setting at fault.
        std::process::exit(1);
    };
    // The secret's values win over the environment, as for the shared settings.
    let settings = match GraphqlSettings::from_lookup(|name| app.setting(name)) {
        Ok(settings) => settings,
        Err(err) => {
            tracing::error!(error = %err, "start-up failed");
            std::process::exit(1);
        }
    };
    let service = graphql::GraphqlService::new(app, settings);
    let service = &service;
    run(service_fn(move |request| graphql::handle(service, request))).await
}
