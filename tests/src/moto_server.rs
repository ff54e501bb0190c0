//! The Secrets Manager API emulator the tests run against: moto's server, one per
//! test process, from the project venv (`scripts/setup`), or `SECRETS_ENDPOINT`
//! if set. Missing, it fails the tests with a message; it never skips them.

use crate::mongo_server::{
    die_with_parent, free_port, spawn_for_the_process, wait_until_listening,
};
use aws_sdk_secretsmanager::Client;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The emulator's endpoint URL, started on first use.
pub fn endpoint() -> String {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    match SERVER.get_or_init(start_shared) {
        Ok(url) => url.clone(),
        Err(why) => panic!("no Secrets Manager emulator for the tests: {why}"),
    }
}

fn start_shared() -> Result<String, String> {
    if let Ok(url) = std::env::var("SECRETS_ENDPOINT") {
        return Ok(url);
    }
    let launcher = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/moto_server");
    if !launcher.exists() {
        return Err(format!(
            "{} is missing: run `scripts/setup`",
            launcher.display()
        ));
    }
    let port = free_port()?;
    spawn_for_the_process(move || {
        let mut command = Command::new(&launcher);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        die_with_parent(&mut command);
        command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", launcher.display()))
    })?;
    wait_until_listening(port, Duration::from_secs(20))?;
    Ok(format!("http://127.0.0.1:{port}"))
}

/// The environment that points the AWS SDK at `endpoint` with dummy credentials
/// (and keeps it from probing the EC2 metadata address).
pub fn sdk_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}

/// A Secrets Manager client for the emulator, through the real SDK.
pub async fn client() -> Client {
    let endpoint = endpoint();
    let config = shared::settings::secret::config_from(|name| match name {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER" => Some(endpoint.clone()),
        "AWS_REGION" => Some("us-east-1".to_owned()),
        "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("testing".to_owned()),
        _ => None,
    });
    Client::from_conf(config)
}

/// Creates a secret with a unique name holding `value`; returns its name.
pub async fn create_secret(value: &str) -> String {
    let name = format!("e2e/{}", uuid::Uuid::new_v4().simple());
    client()
        .await
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret");
    name
}

/// The environment of a function that reads its settings from a new secret
/// holding `db`'s connection and the test key (the database name stays in the
/// environment), as a deployed function would.
pub async fn secret_env_for(db: &crate::TestDb) -> Vec<(&'static str, String)> {
    let secret = create_secret(
        &serde_json::json!({"SECRET_KEY": crate::SECRET_KEY, "MONGODB_URI": db.uri}).to_string(),
    )
    .await;
    let mut env = sdk_env(&endpoint());
    env.push(("AUTH_SECRET_ID", secret));
    env.push(("MONGODB_DATABASE", db.name.clone()));
    env
}

pub async fn put_secret(name: &str, value: &str) {
    client()
        .await
        .put_secret_value()
        .secret_id(name)
        .secret_string(value)
        .send()
        .await
        .expect("put secret value");
}

/// Makes secret `name` hold `value`, creating it if needed (for a name a
/// document shows, which a test can't make unique).
pub async fn upsert_secret(name: &str, value: &str) {
    let created = client()
        .await
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await;
    if created.is_err() {
        put_secret(name, value).await;
    }
}
