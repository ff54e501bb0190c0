//! `POST /admin/login`, end to end: the built `login` binary, API Gateway events,
//! a real MongoDB-wire server.

use e2e::db::{claims, PYTHON_BCRYPT_HASH, PYTHON_BCRYPT_PASSWORD};
use e2e::{Function, HttpRequest, LambdaResponse, Payload, TestDb};
use mongodb::bson::Bson;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PATH: &str = "/admin/login";

async fn login_fn(db: &TestDb) -> Function {
    Function::start("login", &db.env()).await
}

async fn post(function: &mut Function, payload: Payload, body: &Value) -> LambdaResponse {
    function
        .invoke(HttpRequest::post(PATH).json(body).event(payload))
        .await
}

fn credentials(username: &str, password: &str) -> Value {
    json!({ "username": username, "password": password })
}

#[tokio::test]
async fn a_good_login_returns_the_seed_body_over_both_payload_formats() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    let user_id = db.user("alice", "s3cret-pass", admin).await;
    let mut login = login_fn(&db).await;

    for payload in Payload::ALL {
        let response = post(&mut login, payload, &credentials("alice", "s3cret-pass")).await;
        assert_eq!(response.status, 200, "{payload:?}: {}", response.raw_body);
        assert_eq!(response.header("content-type"), Some("application/json"));
        let body = &response.body;
        assert_eq!(body["message"], "ok");
        let data = body["data"].as_object().expect("data object");
        let keys: Vec<&str> = data.keys().map(String::as_str).collect();
        let mut expected = vec![
            "change_password",
            "token_type",
            "token",
            "refresh_token",
            "expires_in",
            "role",
        ];
        expected.sort_unstable();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, expected);
        assert_eq!(data["change_password"], false);
        assert_eq!(data["token_type"], "Bearer");
        assert_eq!(data["expires_in"], 60);
        assert_eq!(data["role"], "admin");

        let access = claims(data["token"].as_str().unwrap());
        assert_eq!(access["sub"], user_id.to_hex());
        assert_eq!(
            access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
            3600
        );
        let mut access_keys: Vec<_> = access.as_object().unwrap().keys().cloned().collect();
        access_keys.sort();
        assert_eq!(access_keys, ["exp", "iat", "sub", "uuid"]);
        let refresh = claims(data["refresh_token"].as_str().unwrap());
        let mut refresh_keys: Vec<_> = refresh.as_object().unwrap().keys().cloned().collect();
        refresh_keys.sort();
        assert_eq!(refresh_keys, ["exp", "uuid"]);
    }

    // Each login whitelisted its pair, in the Python service's document shape.
    let sessions = db.sessions().await;
    assert_eq!(sessions.len(), 2);
    for session in &sessions {
        let user = session.get_document("user").expect("user DBRef");
        assert_eq!(user.keys().collect::<Vec<_>>(), ["$ref", "$id"]);
        assert_eq!(user.get_str("$ref").unwrap(), "user");
        assert_eq!(user.get_object_id("$id").unwrap(), user_id);
        assert!(matches!(session.get("created_at"), Some(Bson::DateTime(_))));
        assert!(session.get_str("uuid_access").is_ok());
        assert!(session.get_str("uuid_refresh").is_ok());
    }
}

#[tokio::test]
async fn usernames_are_matched_in_lower_case() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    db.user("bob", "bob-password", admin).await;
    let mut login = login_fn(&db).await;
    let response = post(
        &mut login,
        Payload::RestV1,
        &credentials("BoB", "bob-password"),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
}

#[tokio::test]
async fn change_password_is_reported_and_settings_shape_the_answer() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    let id = db.user("carol", "carol-password", admin).await;
    db.set_user(id, mongodb::bson::doc! { "change_password": true })
        .await;
    let mut env = db.env();
    env.push(("TOKEN_EXPIRE_MINUTES", "15".into()));
    env.push(("REFRESH_TOKEN_EXPIRE_MINUTES", "30".into()));
    let mut login = Function::start("login", &env).await;
    let response = post(
        &mut login,
        Payload::HttpV2,
        &credentials("carol", "carol-password"),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let data = &response.body["data"];
    assert_eq!(data["change_password"], true);
    assert_eq!(data["expires_in"], 15);
    let refresh = claims(data["refresh_token"].as_str().unwrap());
    let access = claims(data["token"].as_str().unwrap());
    assert_eq!(
        refresh["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        30 * 60
    );
}

#[tokio::test]
async fn malformed_bodies_get_field_errors_and_change_nothing() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    db.user("dave", "dave-password", admin).await;
    let mut login = login_fn(&db).await;

    let cases: Vec<(&str, Value)> = vec![
        ("not json", json!({"body": ["must be a JSON object"]})),
        ("", json!({"body": ["must be a JSON object"]})),
        ("[1,2]", json!({"body": ["must be a JSON object"]})),
        ("\"dave\"", json!({"body": ["must be a JSON object"]})),
        (
            r#"{"username":"dave"}"#,
            json!({"password": ["required field"]}),
        ),
        (
            r#"{}"#,
            json!({"password": ["required field"], "username": ["required field"]}),
        ),
        (
            r#"{"username":7,"password":"dave-password"}"#,
            json!({"username": ["must be of string type"]}),
        ),
        (
            r#"{"username":"dave","password":["x"]}"#,
            json!({"password": ["must be of string type"]}),
        ),
        (
            r#"{"username":"da ve","password":"dave-password"}"#,
            json!({"username": ["Must not contain spaces"]}),
        ),
        (
            r#"{"username":"dave","password":"dave password"}"#,
            json!({"password": ["Must not contain spaces"]}),
        ),
        (
            r#"{"username":"dave","password":"dave-password","role":"admin"}"#,
            json!({"role": ["unknown field"]}),
        ),
        (
            r#"{"username":"","password":"dave-password"}"#,
            json!({"username": ["empty values not allowed"]}),
        ),
    ];
    for (body, errors) in cases {
        for payload in Payload::ALL {
            let response = login
                .invoke(HttpRequest::post(PATH).body(body).event(payload))
                .await;
            assert_eq!(response.status, 400, "{body:?} {payload:?}");
            assert_eq!(response.header("content-type"), Some("application/json"));
            assert_eq!(
                response.body,
                json!({"message": "bad_request", "errors": errors}),
                "{body:?} {payload:?}"
            );
        }
    }
    assert!(
        db.sessions().await.is_empty(),
        "a refused login wrote a session"
    );
}

#[tokio::test]
async fn every_credential_failure_gets_the_same_answer_and_changes_nothing() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    let guest = db.role("guest").await;
    db.user("erin", "erin-password", admin).await;
    let inactive = db.user("frank", "frank-password", admin).await;
    db.set_user(inactive, mongodb::bson::doc! { "active": false })
        .await;
    db.user("gina", "gina-password", guest).await;
    // A user whose role reference points at nothing.
    db.user("hank", "hank-password", mongodb::bson::oid::ObjectId::new())
        .await;
    let mut login = login_fn(&db).await;

    for (username, password) in [
        ("nobody", "whatever-pass"),
        ("erin", "wrong-password"),
        ("frank", "frank-password"),
        ("gina", "gina-password"),
        ("hank", "hank-password"),
    ] {
        for payload in Payload::ALL {
            let response = post(&mut login, payload, &credentials(username, password)).await;
            assert_eq!(response.status, 400, "{username}");
            assert_eq!(
                response.raw_body, r#"{"message":"bad_credentials"}"#,
                "{username}"
            );
        }
    }
    assert!(db.sessions().await.is_empty());
}

#[tokio::test]
async fn an_unknown_username_costs_about_as_much_time_as_a_wrong_password() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    db.user("ivan", "ivan-password", admin).await;
    let mut login = login_fn(&db).await;
    // Warm the container (first-use costs) before measuring.
    post(
        &mut login,
        Payload::RestV1,
        &credentials("ivan", "warm-up-pass"),
    )
    .await;

    let median = |samples: &mut Vec<Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        post(
            &mut login,
            Payload::RestV1,
            &credentials("nobody-here", "wrong-password"),
        )
        .await;
        unknown.push(start.elapsed());
        let start = Instant::now();
        post(
            &mut login,
            Payload::RestV1,
            &credentials("ivan", "wrong-password"),
        )
        .await;
        wrong.push(start.elapsed());
    }
    let (unknown, wrong) = (median(&mut unknown), median(&mut wrong));
    // Without the dummy hash an unknown user answers in a few ms against tens of
    // ms; a factor of two either way leaves room for a noisy machine.
    assert!(
        unknown * 2 >= wrong && wrong * 2 >= unknown,
        "unknown user {unknown:?} vs wrong password {wrong:?}"
    );
}

#[tokio::test]
async fn a_bcrypt_user_left_by_the_python_service_logs_in_and_is_rehashed() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    let id = db.user_with_hash("legacy", PYTHON_BCRYPT_HASH, admin).await;
    let mut login = login_fn(&db).await;

    let response = post(
        &mut login,
        Payload::RestV1,
        &credentials("legacy", PYTHON_BCRYPT_PASSWORD),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let stored = db.user_doc(id).await;
    let hash = stored.get_str("password").unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "not rehashed: {hash}"
    );
    // Every other field is as the Python service left it.
    assert_eq!(stored.get_str("username").unwrap(), "legacy");
    assert!(stored.get_bool("active").unwrap());
    assert!(stored.get_document("role").is_ok());

    // The new hash works, and the wrong password still doesn't.
    let again = post(
        &mut login,
        Payload::HttpV2,
        &credentials("legacy", PYTHON_BCRYPT_PASSWORD),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.raw_body);
    let wrong = post(
        &mut login,
        Payload::HttpV2,
        &credentials("legacy", "python-pasS"),
    )
    .await;
    assert_eq!(wrong.body["message"], "bad_credentials");
    assert_eq!(db.user_doc(id).await.get_str("password").unwrap(), hash);
}

#[tokio::test]
async fn allowed_roles_come_from_the_environment() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    let support = db.role("support").await;
    let guest = db.role("guest").await;
    db.user("sam", "sam-password", support).await;
    db.user("gus", "gus-password", guest).await;
    db.user("ada", "ada-password", admin).await;

    let mut env = db.env();
    env.push(("ALLOWED_ROLES", "support, admin".into()));
    let mut listed = Function::start("login", &env).await;
    assert_eq!(
        post(
            &mut listed,
            Payload::RestV1,
            &credentials("sam", "sam-password")
        )
        .await
        .body["data"]["role"],
        "support"
    );
    assert_eq!(
        post(
            &mut listed,
            Payload::RestV1,
            &credentials("ada", "ada-password")
        )
        .await
        .status,
        200
    );
    assert_eq!(
        post(
            &mut listed,
            Payload::RestV1,
            &credentials("gus", "gus-password")
        )
        .await
        .status,
        400
    );

    let mut env = db.env();
    env.push(("ALLOWED_ROLES", "*".into()));
    let mut any = Function::start("login", &env).await;
    assert_eq!(
        post(
            &mut any,
            Payload::RestV1,
            &credentials("gus", "gus-password")
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn with_the_whitelist_off_no_session_is_stored() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    db.user("wendy", "wendy-password", admin).await;
    let mut env = db.env();
    env.push(("WHITE_LIST_TOKEN", "false".into()));
    let mut login = Function::start("login", &env).await;
    let response = post(
        &mut login,
        Payload::RestV1,
        &credentials("wendy", "wendy-password"),
    )
    .await;
    assert_eq!(response.status, 200);
    assert!(db.sessions().await.is_empty());
}

#[tokio::test]
async fn oversized_bodies_and_other_methods_are_refused() {
    let db = TestDb::new().await;
    let mut login = login_fn(&db).await;
    let huge = format!(
        r#"{{"username":"x","password":"{}"}}"#,
        "a".repeat(70 * 1024)
    );
    let response = login
        .invoke(HttpRequest::post(PATH).body(&huge).event(Payload::RestV1))
        .await;
    assert_eq!(response.status, 413);
    assert_eq!(response.body, json!({"message": "payload_too_large"}));

    let response = login
        .invoke(HttpRequest::post(PATH).method("GET").event(Payload::HttpV2))
        .await;
    assert_eq!(response.status, 405);
    assert_eq!(response.body, json!({"message": "method_not_allowed"}));
}

#[tokio::test]
async fn logs_are_json_lines_with_the_outcome_and_never_a_secret() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    db.user("lara", "lara-Password-1", admin).await;
    let mut login = login_fn(&db).await;
    let ok = post(
        &mut login,
        Payload::RestV1,
        &credentials("lara", "lara-Password-1"),
    )
    .await;
    post(
        &mut login,
        Payload::RestV1,
        &credentials("lara", "lara-Wrong-2"),
    )
    .await;
    // Give the log reader threads a moment to drain the pipes.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let records = login.log_records();
    let outcomes: Vec<(String, String)> = records
        .iter()
        .filter(|r| r["username"] == "lara")
        .map(|r| {
            (
                r["outcome"].as_str().unwrap_or("").to_owned(),
                r["level"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(outcomes.iter().any(|(o, _)| o == "ok"), "{records:?}");
    assert!(
        outcomes.iter().any(|(o, _)| o == "bad_credentials"),
        "{records:?}"
    );

    let logs = login.logs();
    let token = ok.body["data"]["token"].as_str().unwrap();
    let refresh = ok.body["data"]["refresh_token"].as_str().unwrap();
    for secret in [
        "lara-Password-1",
        "lara-Wrong-2",
        token,
        refresh,
        "$argon2",
        e2e::SECRET_KEY,
    ] {
        assert!(!logs.contains(secret), "the logs contain {secret}:\n{logs}");
    }
}
