use shared::lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let Ok(app) = shared::start().await else {
        // `start` has logged why, naming the setting at fault.
        std::process::exit(1);
    };
    // Times both password schemes in the background, so every refused login
    // is padded to the slowest from the first request on.
    shared::auth::password::timing::spawn_calibration();
    let app = &app;
    run(service_fn(move |request| login::handle(app, request))).await
}
