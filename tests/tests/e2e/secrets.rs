//! Settings from AWS Secrets Manager, through the real SDK against moto's
//! Secrets Manager emulator, with the built function binaries.

use e2e::db::claims;
use e2e::helpers::{now, sign_hs256};
use e2e::moto_server::{create_secret, endpoint, put_secret, sdk_env};
use e2e::proxy::Proxy;
use e2e::{Function, HttpRequest, LambdaResponse, Payload, TestDb};
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::json;
use std::time::{Duration, Instant};

const KEY_A: &str = "key-a-key-a-key-a-key-a-key-a-key-a";
const KEY_B: &str = "key-b-key-b-key-b-key-b-key-b-key-b";

/// A database with one admin, `admin` / `admin-password`.
async fn setup() -> TestDb {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    db.user("admin", "admin-password", admin).await;
    db
}

/// The environment of a function that reads its settings from secret
/// `secret_id`, for `db` (plus `extra`).
fn env_with_secret(
    db: &TestDb,
    secret_id: &str,
    extra: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    let mut env = sdk_env(&endpoint());
    env.push(("AUTH_SECRET_ID", secret_id.to_owned()));
    env.push(("MONGODB_DATABASE", db.name.clone()));
    env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    env
}

async fn login(function: &mut Function) -> LambdaResponse {
    function
        .invoke(
            HttpRequest::post("/admin/login")
                .json(&json!({"username": "admin", "password": "admin-password"}))
                .event(Payload::RestV1),
        )
        .await
}

fn signed_with(token: &str, key: &str) -> bool {
    let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_exp = false;
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &DecodingKey::from_secret(key.as_bytes()).unwrap(),
        &validation,
    )
    .is_ok()
}

/// A login function reading its settings from a secret that says otherwise than
/// its environment, and the answer to one login.
async fn login_with_settings_from_the_secret(db: &TestDb) -> (Function, LambdaResponse) {
    let secret = create_secret(
        &json!({"SECRET_KEY": KEY_A, "MONGODB_URI": db.uri, "TOKEN_EXPIRE_MINUTES": 15})
            .to_string(),
    )
    .await;
    let env = env_with_secret(
        db,
        &secret,
        &[
            ("SECRET_KEY", KEY_B),
            ("TOKEN_EXPIRE_MINUTES", "99"),
            ("MONGODB_URI", "mongodb://127.0.0.1:1"),
        ],
    );
    let mut function = Function::start("login", &env).await;
    let response = login(&mut function).await;
    assert_eq!(
        response.status,
        200,
        "{}\n{}",
        response.raw_body,
        function.logs()
    );
    (function, response)
}

#[tokio::test]
async fn settings_come_from_the_secret_and_win_over_the_environment() {
    let db = setup().await;
    let (_, response) = login_with_settings_from_the_secret(&db).await;
    let token = response.body["data"]["token"].as_str().unwrap();
    assert!(signed_with(token, KEY_A));
    assert!(!signed_with(token, KEY_B));
    assert_eq!(response.body["data"]["expires_in"], 15);
    let access = claims(token);
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        15 * 60
    );
}

#[tokio::test]
async fn values_read_from_the_secret_never_reach_the_logs() {
    let db = setup().await;
    let (function, _) = login_with_settings_from_the_secret(&db).await;
    for value in [KEY_A, db.uri.as_str()] {
        assert!(
            !function.logs().contains(value),
            "a secret value reached the logs"
        );
    }
}

#[tokio::test]
async fn unusable_secrets_fail_start_up_naming_the_secret_and_the_problem() {
    let db = setup().await;
    let not_json = create_secret("SECRET_KEY=hunter2").await;
    let no_key = create_secret(r#"{"MONGODB_URI":"mongodb://u:hunter2@localhost"}"#).await;
    let cases = [
        ("e2e/does-not-exist".to_owned(), "does not exist"),
        (not_json, "is not a JSON object"),
        (no_key, "has no SECRET_KEY"),
    ];
    for (secret, problem) in cases {
        for binary in ["login", "logout", "graphql"] {
            let mut function = Function::start(binary, &env_with_secret(&db, &secret, &[])).await;
            let code = function.exit_code(Duration::from_secs(15)).await;
            assert!(
                matches!(code, Some(c) if c != 0),
                "{binary} with {secret}: still running"
            );
            let logs = function.logs();
            assert!(
                logs.contains(&secret) && logs.contains(problem),
                "{binary}: {logs}"
            );
            assert!(
                !logs.contains("hunter2"),
                "{binary} logged a secret value: {logs}"
            );
        }
    }
}

/// The environment of a function reading secret `any` from `endpoint`.
async fn env_with_endpoint(endpoint: String) -> Vec<(&'static str, String)> {
    let db = setup().await;
    let mut env = env_with_secret(&db, "any", &[]);
    env.retain(|(k, _)| *k != "AWS_ENDPOINT_URL_SECRETS_MANAGER");
    env.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint));
    env
}

#[tokio::test]
async fn with_secrets_manager_refusing_connections_start_up_fails_fast() {
    let closed = e2e::mongo_server::free_port().unwrap();
    let env = env_with_endpoint(format!("http://127.0.0.1:{closed}")).await;
    let start = Instant::now();
    let mut function = Function::start("login", &env).await;
    let code = function.exit_code(Duration::from_secs(20)).await;
    let took = start.elapsed();
    assert!(
        matches!(code, Some(c) if c != 0),
        "kept running: {}",
        function.logs()
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // The reader threads may still hold the last line when the exit is seen.
    let said_why = function
        .wait_for_log(Duration::from_secs(5), |line| {
            line.contains("could not be read")
        })
        .await;
    assert!(said_why, "{}", function.logs());
}

/// README, Deploy: Secrets Manager calls are bounded, 2 s per attempt, 2
/// attempts, 5 s in all.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const ATTEMPTS: u32 = 2;
const SECRET_READ_BOUND: Duration = Duration::from_secs(5);
/// What a loaded 2-core machine may add, measured from outside the process:
/// its start before the read begins, and noticing its exit.
const SCHEDULING_MARGIN: Duration = Duration::from_millis(500);

// An endpoint that accepts and never answers: each attempt runs out its 2 s
// (so two of them take at least 4 s: both were made), and the operation's 5 s
// ends the read whatever the backoff between them.
#[tokio::test]
async fn with_secrets_manager_silent_start_up_fails_after_two_attempts_within_5_s() {
    let silent = e2e::helpers::silent_port();
    let env = env_with_endpoint(format!("http://127.0.0.1:{silent}")).await;
    let start = Instant::now();
    let mut function = Function::start("login", &env).await;
    let code = function.exit_code(Duration::from_secs(30)).await;
    let took = start.elapsed();
    assert!(
        matches!(code, Some(c) if c != 0),
        "kept running: {}",
        function.logs()
    );
    assert!(
        took >= ATTEMPT_TIMEOUT * ATTEMPTS && took <= SECRET_READ_BOUND + SCHEDULING_MARGIN,
        "took {took:?}"
    );
}

/// How long to let pass so that a container re-reading its secret every second
/// (`SECRET_REFRESH_SECONDS=1`) is due to re-read it: this waits for time, not
/// for an event, so it is a sleep.
const PAST_THE_REFRESH_INTERVAL: Duration = Duration::from_millis(1100);

/// The `message` of the line a container logs once it has re-read its secret.
const REREAD: &str = "secret re-read";

/// How many lines with `message` `function` has logged.
fn lines_with_message(function: &Function, message: &str) -> usize {
    function
        .log_records()
        .iter()
        .filter(|record| record["message"] == message)
        .count()
}

/// Waits up to 10 s for the `count`th line with `message`.
async fn wait_for_lines(function: &Function, message: &str, count: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if lines_with_message(function, message) >= count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// A request that changes nothing (a GET, refused with 405). Every request
/// starts a re-read of the secret when one is due, in the background.
async fn harmless_request(function: &mut Function) -> LambdaResponse {
    let response = function
        .invoke(
            HttpRequest::post("/admin/login")
                .method("GET")
                .event(Payload::RestV1),
        )
        .await;
    assert_eq!(response.status, 405, "{}", response.raw_body);
    response
}

/// Has a container whose secret is due start a re-read (#12.11: the request
/// that finds it due does not wait for it, and is served with the keys in
/// force), then waits for the re-read to be done: its `count`th "secret
/// re-read" line.
async fn reread_secret(function: &mut Function, count: usize) {
    harmless_request(function).await;
    assert!(
        wait_for_lines(function, REREAD, count).await,
        "no re-read #{count}:\n{}",
        function.logs()
    );
}

/// Warm login and logout containers re-reading their secret every second, and
/// a token signed with the first key before the secret rotated to a second key
/// (keeping the first as a previous key) and the containers re-read it.
struct Rotated {
    db: TestDb,
    secret: String,
    login_fn: Function,
    logout_fn: Function,
    old_token: String,
}

async fn rotated() -> Rotated {
    let db = setup().await;
    let secret =
        create_secret(&json!({"SECRET_KEY": KEY_A, "MONGODB_URI": db.uri}).to_string()).await;
    let env = env_with_secret(&db, &secret, &[("SECRET_REFRESH_SECONDS", "1")]);
    let mut login_fn = Function::start("login", &env).await;
    let mut logout_fn = Function::start("logout", &env).await;

    let before = login(&mut login_fn).await;
    let old_token = before.body["data"]["token"].as_str().unwrap().to_owned();
    assert!(signed_with(&old_token, KEY_A));

    put_secret(
        &secret,
        &json!({"SECRET_KEY": KEY_B, "PREVIOUS_SECRET_KEYS": [KEY_A], "MONGODB_URI": db.uri})
            .to_string(),
    )
    .await;
    tokio::time::sleep(PAST_THE_REFRESH_INTERVAL).await;
    reread_secret(&mut login_fn, 1).await;
    reread_secret(&mut logout_fn, 1).await;
    Rotated {
        db,
        secret,
        login_fn,
        logout_fn,
        old_token,
    }
}

async fn logout(function: &mut Function, token: &str) -> LambdaResponse {
    function
        .invoke(
            HttpRequest::post("/admin/logout")
                .bearer(token)
                .event(Payload::RestV1),
        )
        .await
}

#[tokio::test]
async fn a_rotation_reaches_a_warm_container() {
    let mut r = rotated().await;
    let after = login(&mut r.login_fn).await;
    let new_token = after.body["data"]["token"].as_str().unwrap().to_owned();
    assert!(
        signed_with(&new_token, KEY_B),
        "the warm container still signs with the old key"
    );
}

#[tokio::test]
async fn after_a_rotation_tokens_of_the_old_and_the_new_key_both_verify() {
    let mut r = rotated().await;
    let after = login(&mut r.login_fn).await;
    let new_token = after.body["data"]["token"].as_str().unwrap().to_owned();
    // Both verify where the rotation has been seen.
    for token in [&r.old_token, &new_token] {
        let response = logout(&mut r.logout_fn, token).await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
    }
}

#[tokio::test]
async fn once_the_old_key_is_dropped_from_the_secret_its_tokens_stop_verifying() {
    let mut r = rotated().await;
    let third = login(&mut r.login_fn).await;
    let b_token = third.body["data"]["token"].as_str().unwrap().to_owned();
    put_secret(
        &r.secret,
        &json!({"SECRET_KEY": KEY_B, "MONGODB_URI": r.db.uri}).to_string(),
    )
    .await;
    let stale = login_fn_token_signed_with(KEY_A, &r.db).await;
    tokio::time::sleep(PAST_THE_REFRESH_INTERVAL).await;
    // The re-read happens in the background of the request that finds it due.
    reread_secret(&mut r.logout_fn, 2).await;
    let refused = logout(&mut r.logout_fn, &stale).await;
    assert_eq!(refused.body, json!({"message": "invalid_token"}));
    let ok = logout(&mut r.logout_fn, &b_token).await;
    assert_eq!(ok.status, 200);
}

/// A whitelisted token for the admin, signed with `key`.
async fn login_fn_token_signed_with(key: &str, db: &TestDb) -> String {
    let user = db
        .db
        .collection::<mongodb::bson::Document>("user")
        .find_one(mongodb::bson::doc! {"username": "admin"})
        .await
        .unwrap()
        .unwrap();
    let id = user.get_object_id("_id").unwrap();
    let uuid = uuid::Uuid::new_v4().to_string();
    db.whitelist(id, &uuid, &format!("{uuid}-r")).await;
    let now = now();
    sign_hs256(
        &json!({"exp": now + 600, "iat": now, "sub": id.to_hex(), "uuid": uuid}),
        key,
    )
}

/// A warm login container re-reading its secret every second, whose secret
/// turned unusable after its first login, and the answer to a login once the
/// re-read that the next request started has failed.
async fn login_after_the_secret_turned_unusable() -> (Function, LambdaResponse) {
    let db = setup().await;
    let secret =
        create_secret(&json!({"SECRET_KEY": KEY_A, "MONGODB_URI": db.uri}).to_string()).await;
    let env = env_with_secret(&db, &secret, &[("SECRET_REFRESH_SECONDS", "1")]);
    let mut function = Function::start("login", &env).await;
    assert_eq!(login(&mut function).await.status, 200);

    put_secret(&secret, "not json").await;
    tokio::time::sleep(PAST_THE_REFRESH_INTERVAL).await;
    harmless_request(&mut function).await;
    assert!(
        wait_for_lines(&function, REFRESH_FAILED, 1).await,
        "no failed re-read:\n{}",
        function.logs()
    );
    let response = login(&mut function).await;
    (function, response)
}

/// The `message` of the line a failed re-read logs.
const REFRESH_FAILED: &str = "secret refresh failed; keeping the keys in force";

#[tokio::test]
async fn a_failed_refresh_keeps_the_last_good_keys() {
    // The secret turns unusable: the container carries on with what it had.
    let (_, response) = login_after_the_secret_turned_unusable().await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert!(signed_with(
        response.body["data"]["token"].as_str().unwrap(),
        KEY_A
    ));
}

#[tokio::test]
async fn a_failed_refresh_is_logged_with_the_problem() {
    let (function, _) = login_after_the_secret_turned_unusable().await;
    let records = function.log_records();
    let failed = records
        .iter()
        .find(|record| record["message"] == REFRESH_FAILED)
        .expect("the failure line");
    assert_eq!(failed["level"], "WARN", "{failed}");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|error| error.contains("is not a JSON object")),
        "{failed}"
    );
}

// #12.11: the re-read runs in the background, so a Secrets Manager that stops
// answering costs requests nothing, and the failed read is logged once the
// SDK's timeouts end it.
#[tokio::test]
async fn a_request_that_starts_a_reread_from_a_silent_secrets_manager_is_not_delayed() {
    let db = setup().await;
    let secret =
        create_secret(&json!({"SECRET_KEY": KEY_A, "MONGODB_URI": db.uri}).to_string()).await;
    let moto = endpoint();
    let proxy = Proxy::start(moto.trim_start_matches("http://"));
    let mut env = env_with_secret(&db, &secret, &[("SECRET_REFRESH_SECONDS", "1")]);
    env.retain(|(k, _)| *k != "AWS_ENDPOINT_URL_SECRETS_MANAGER");
    env.push((
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        format!("http://127.0.0.1:{}", proxy.port),
    ));
    let mut function = Function::start("login", &env).await;
    // Start-up read the secret through the proxy.
    assert_eq!(
        login(&mut function).await.status,
        200,
        "{}",
        function.logs()
    );

    proxy.go_silent();
    tokio::time::sleep(PAST_THE_REFRESH_INTERVAL).await;
    for _ in 0..2 {
        let start = Instant::now();
        harmless_request(&mut function).await;
        let took = start.elapsed();
        assert!(took < Duration::from_secs(1), "took {took:?}");
    }
    // A login, with its database commands and password check, is not held up
    // either, and still signs with the keys in force.
    let start = Instant::now();
    let response = login(&mut function).await;
    let took = start.elapsed();
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert!(signed_with(
        response.body["data"]["token"].as_str().unwrap(),
        KEY_A
    ));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // The read was started, and ends as a failure once the SDK gives up.
    assert!(
        wait_for_lines(&function, REFRESH_FAILED, 1).await,
        "no failed re-read:\n{}",
        function.logs()
    );
}

// #12.5: the GraphQL function's own settings come from the secret too, and win
// over the environment like the shared ones.
mod graphql_settings {
    use super::*;
    use e2e::app::graphql_request;

    /// Logs `username` in through a login function with `env`; the access token.
    async fn token_of(env: &[(&'static str, String)], username: &str, password: &str) -> String {
        let mut login_fn = Function::start("login", env).await;
        let response = login_fn
            .invoke(e2e::app::login_event(username, password))
            .await;
        response.body["data"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login {username}: {}", response.raw_body))
            .to_owned()
    }

    #[tokio::test]
    async fn graphql_introspection_from_the_secret_opens_introspection() {
        let db = setup().await;
        let secret = create_secret(
            &json!({"SECRET_KEY": KEY_A, "MONGODB_URI": db.uri, "GRAPHQL_INTROSPECTION": "true"})
                .to_string(),
        )
        .await;
        let env = env_with_secret(&db, &secret, &[]);
        let token = token_of(&env, "admin", "admin-password").await;
        let mut graphql = Function::start("graphql", &env).await;
        let response = graphql
            .invoke(
                graphql_request(
                    Some(&token),
                    "{ __schema { queryType { name } } }",
                    json!({}),
                )
                .event(Payload::RestV1),
            )
            .await;
        assert_eq!(
            response.body["data"]["__schema"]["queryType"]["name"], "Query",
            "{}",
            response.raw_body
        );
    }

    #[tokio::test]
    async fn graphql_access_control_from_the_secret_wins_over_the_environment() {
        let db = setup().await;
        let support = db.role("support").await;
        db.user("sue", "sue-password", support).await;
        let secret = create_secret(
            &json!({
                "SECRET_KEY": KEY_A,
                "MONGODB_URI": db.uri,
                "GRAPHQL_ACCESS_CONTROL": r#"[{"query":"roles","roles":["is_authenticated"]}]"#,
            })
            .to_string(),
        )
        .await;
        let env = env_with_secret(
            &db,
            &secret,
            &[
                ("ALLOWED_ROLES", "*"),
                (
                    "GRAPHQL_ACCESS_CONTROL",
                    r#"[{"query":"roles","roles":["admin"]}]"#,
                ),
            ],
        );
        let token = token_of(&env, "sue", "sue-password").await;
        let mut graphql = Function::start("graphql", &env).await;
        let response = graphql
            .invoke(
                graphql_request(Some(&token), "{ roles { name } }", json!({}))
                    .event(Payload::RestV1),
            )
            .await;
        assert!(
            response.body["data"]["roles"].is_array(),
            "{}",
            response.raw_body
        );
    }
}
