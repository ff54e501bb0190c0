use shared::lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = shared::start().await?;
    let app = &app;
    run(service_fn(move |request| logout::handle(app, request))).await
}
