//! `POST /admin/login`, end to end: the built `login` binary, API Gateway events,
//! a real MongoDB-wire server.

use e2e::app::LOGIN_PATH;
use e2e::db::{claims, PYTHON_BCRYPT_HASH, PYTHON_BCRYPT_PASSWORD};
use e2e::{HttpRequest, LambdaResponse, Payload, TestApp};
use mongodb::bson::{doc, Bson};
use serde_json::{json, Value};
use std::time::Duration;

fn credentials(username: &str, password: &str) -> Value {
    json!({ "username": username, "password": password })
}

/// How long a log line may take to get through the reader threads.
const LOG_LIMIT: Duration = Duration::from_secs(5);

/// The app with user `alice` (role admin); returns her id.
async fn with_alice(app: &TestApp) -> mongodb::bson::oid::ObjectId {
    app.db.user("alice", "s3cret-pass", app.admin_role).await
}

/// One good login of `alice` over each payload format, in order.
async fn log_alice_in_over_both_formats(app: &mut TestApp) -> Vec<LambdaResponse> {
    let mut responses = Vec::new();
    for payload in Payload::ALL {
        responses.push(
            app.post_login(payload, &credentials("alice", "s3cret-pass"))
                .await,
        );
    }
    responses
}

#[tokio::test]
async fn a_good_login_returns_the_seed_body_over_both_payload_formats() {
    let mut app = TestApp::spawn().await;
    with_alice(&app).await;
    for (payload, response) in Payload::ALL
        .into_iter()
        .zip(log_alice_in_over_both_formats(&mut app).await)
    {
        assert_eq!(response.status, 200, "{payload:?}: {}", response.raw_body);
        assert_eq!(response.header("content-type"), Some("application/json"));
        let body = &response.body;
        assert_eq!(body["message"], "ok");
        let data = body["data"].as_object().expect("data object");
        let keys: Vec<&str> = data.keys().map(String::as_str).collect();
        // The seed's keys, plus `access_token`: what the package's login view
        // really answers (#11), with the same value as `token`.
        let mut expected = vec![
            "change_password",
            "token_type",
            "token",
            "access_token",
            "refresh_token",
            "expires_in",
            "role",
        ];
        expected.sort_unstable();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, expected);
        assert!(data["token"].is_string());
        assert_eq!(data["access_token"], data["token"]);
        assert_eq!(data["change_password"], false);
        assert_eq!(data["token_type"], "Bearer");
        assert_eq!(data["expires_in"], 60);
        assert_eq!(data["role"], "admin");
    }
}

#[tokio::test]
async fn a_good_login_issues_tokens_with_the_python_claims_and_a_refresh_sub() {
    let mut app = TestApp::spawn().await;
    let user_id = with_alice(&app).await;
    for response in log_alice_in_over_both_formats(&mut app).await {
        let data = &response.body["data"];
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
        // The package's two, and `sub` (#19: a refresh names its own user;
        // the package reads only `uuid` from a refresh token).
        assert_eq!(refresh_keys, ["exp", "sub", "uuid"]);
        assert_eq!(refresh["sub"], user_id.to_hex());
    }
}

#[tokio::test]
async fn each_login_whitelists_its_pair_in_the_python_document_shape() {
    let mut app = TestApp::spawn().await;
    let user_id = with_alice(&app).await;
    log_alice_in_over_both_formats(&mut app).await;
    let sessions = app.db.sessions().await;
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
    let mut app = TestApp::spawn().await;
    app.db.user("bob", "bob-password", app.admin_role).await;
    let response = app
        .post_login(Payload::RestV1, &credentials("BoB", "bob-password"))
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
}

#[tokio::test]
async fn a_pending_password_change_is_reported() {
    let mut app = TestApp::spawn().await;
    let id = app.db.user("carol", "carol-password", app.admin_role).await;
    app.db.set_user(id, doc! { "change_password": true }).await;
    let response = app
        .post_login(Payload::HttpV2, &credentials("carol", "carol-password"))
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(response.body["data"]["change_password"], true);
}

#[tokio::test]
async fn token_lifetimes_come_from_the_settings() {
    let mut app = TestApp::with_env(&[
        ("TOKEN_EXPIRE_MINUTES", "15"),
        ("REFRESH_TOKEN_EXPIRE_MINUTES", "30"),
    ])
    .await;
    app.db.user("carol", "carol-password", app.admin_role).await;
    let response = app
        .post_login(Payload::HttpV2, &credentials("carol", "carol-password"))
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let data = &response.body["data"];
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
    let mut app = TestApp::spawn().await;
    app.db.user("dave", "dave-password", app.admin_role).await;

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
            let response = app
                .login_fn
                .invoke(HttpRequest::post(LOGIN_PATH).body(body).event(payload))
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
        app.db.sessions().await.is_empty(),
        "a refused login wrote a session"
    );
}

#[tokio::test]
async fn every_credential_failure_gets_the_same_answer_and_changes_nothing() {
    let mut app = TestApp::spawn().await;
    let guest = app.db.role("guest").await;
    app.db.user("erin", "erin-password", app.admin_role).await;
    let inactive = app.db.user("frank", "frank-password", app.admin_role).await;
    app.db.set_user(inactive, doc! { "active": false }).await;
    app.db.user("gina", "gina-password", guest).await;
    // A user whose role reference points at nothing.
    app.db
        .user("hank", "hank-password", mongodb::bson::oid::ObjectId::new())
        .await;

    for (username, password) in [
        ("nobody", "whatever-pass"),
        ("erin", "wrong-password"),
        ("frank", "frank-password"),
        ("gina", "gina-password"),
        ("hank", "hank-password"),
    ] {
        for payload in Payload::ALL {
            let response = app
                .post_login(payload, &credentials(username, password))
                .await;
            assert_eq!(response.status, 400, "{username}");
            assert_eq!(
                response.raw_body, r#"{"message":"bad_credentials"}"#,
                "{username}"
            );
        }
    }
    assert!(app.db.sessions().await.is_empty());
}

// #12.7: a name with an invisible or control character is nobody's name, even
// when it looks like one.
#[tokio::test]
async fn usernames_with_invisible_or_control_characters_are_bad_credentials() {
    let mut app = TestApp::spawn().await;
    for username in ["root\u{200b}", "ro\tot", "root\u{202e}", "root\u{a0}"] {
        let response = app
            .post_login(Payload::RestV1, &credentials(username, "root-password"))
            .await;
        assert_eq!(response.status, 400, "{username:?}: {}", response.raw_body);
        assert_eq!(
            response.raw_body, r#"{"message":"bad_credentials"}"#,
            "{username:?}"
        );
    }
    assert!(app.db.sessions().await.is_empty());
}

mod python_bcrypt_user {
    use super::*;

    /// The app with user `legacy` as the Python service left it; returns the id
    /// and the first login's answer.
    async fn first_login(app: &mut TestApp) -> (mongodb::bson::oid::ObjectId, LambdaResponse) {
        let id = app
            .db
            .user_with_hash("legacy", PYTHON_BCRYPT_HASH, app.admin_role)
            .await;
        let response = app
            .post_login(
                Payload::RestV1,
                &credentials("legacy", PYTHON_BCRYPT_PASSWORD),
            )
            .await;
        (id, response)
    }

    #[tokio::test]
    async fn logs_in_and_is_rehashed_with_argon2id_and_nothing_else_changed() {
        let mut app = TestApp::spawn().await;
        let (id, response) = first_login(&mut app).await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        let stored = app.db.user_doc(id).await;
        let hash = stored.get_str("password").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "not rehashed: {hash}"
        );
        // Every other field is as the Python service left it.
        assert_eq!(stored.get_str("username").unwrap(), "legacy");
        assert!(stored.get_bool("active").unwrap());
        assert!(stored.get_document("role").is_ok());
    }

    #[tokio::test]
    async fn once_rehashed_the_password_logs_in_and_a_wrong_one_does_not() {
        let mut app = TestApp::spawn().await;
        let (id, _) = first_login(&mut app).await;
        let hash = app
            .db
            .user_doc(id)
            .await
            .get_str("password")
            .unwrap()
            .to_owned();
        let again = app
            .post_login(
                Payload::HttpV2,
                &credentials("legacy", PYTHON_BCRYPT_PASSWORD),
            )
            .await;
        assert_eq!(again.status, 200, "{}", again.raw_body);
        let wrong = app
            .post_login(Payload::HttpV2, &credentials("legacy", "python-pasS"))
            .await;
        assert_eq!(wrong.body["message"], "bad_credentials");
        assert_eq!(app.db.user_doc(id).await.get_str("password").unwrap(), hash);
    }
}

mod allowed_roles {
    use super::*;

    /// The app with users `sam` (support), `gus` (guest) and `ada` (admin).
    async fn app_with_three_roles() -> TestApp {
        let app = TestApp::spawn().await;
        let guest = app.db.role("guest").await;
        app.db.user("sam", "sam-password", app.support_role).await;
        app.db.user("gus", "gus-password", guest).await;
        app.db.user("ada", "ada-password", app.admin_role).await;
        app
    }

    async fn login_with(
        login: &mut e2e::Function,
        username: &str,
        password: &str,
    ) -> LambdaResponse {
        login
            .invoke(
                HttpRequest::post(LOGIN_PATH)
                    .json(&credentials(username, password))
                    .event(Payload::RestV1),
            )
            .await
    }

    #[tokio::test]
    async fn only_the_listed_roles_may_log_in() {
        let app = app_with_three_roles().await;
        let mut listed = app
            .start_with("login", &[("ALLOWED_ROLES", "support, admin")])
            .await;
        assert_eq!(
            login_with(&mut listed, "sam", "sam-password").await.body["data"]["role"],
            "support"
        );
        assert_eq!(
            login_with(&mut listed, "ada", "ada-password").await.status,
            200
        );
        assert_eq!(
            login_with(&mut listed, "gus", "gus-password").await.status,
            400
        );
    }

    #[tokio::test]
    async fn a_star_lets_every_role_log_in() {
        let app = app_with_three_roles().await;
        let mut any = app.start_with("login", &[("ALLOWED_ROLES", "*")]).await;
        assert_eq!(
            login_with(&mut any, "gus", "gus-password").await.status,
            200
        );
    }
}

#[tokio::test]
async fn with_the_whitelist_off_no_session_is_stored() {
    let mut app = TestApp::with_env(&[("WHITE_LIST_TOKEN", "false")]).await;
    app.db.user("wendy", "wendy-password", app.admin_role).await;
    let response = app
        .post_login(Payload::RestV1, &credentials("wendy", "wendy-password"))
        .await;
    assert_eq!(response.status, 200);
    assert!(app.db.sessions().await.is_empty());
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let mut app = TestApp::spawn().await;
    let huge = format!(
        r#"{{"username":"x","password":"{}"}}"#,
        "a".repeat(70 * 1024)
    );
    let response = app
        .login_fn
        .invoke(
            HttpRequest::post(LOGIN_PATH)
                .body(&huge)
                .event(Payload::RestV1),
        )
        .await;
    assert_eq!(response.status, 413);
    assert_eq!(response.body, json!({"message": "payload_too_large"}));
}

#[tokio::test]
async fn a_method_other_than_post_is_refused_with_405() {
    let mut app = TestApp::spawn().await;
    let response = app
        .login_fn
        .invoke(
            HttpRequest::post(LOGIN_PATH)
                .method("GET")
                .event(Payload::HttpV2),
        )
        .await;
    assert_eq!(response.status, 405);
    assert_eq!(response.body, json!({"message": "method_not_allowed"}));
}

mod logs {
    use super::*;

    /// The app after one good and one refused login of `lara`, once the log
    /// line of the refused one has come through; returns the good login's
    /// answer.
    async fn after_a_good_and_a_refused_login(app: &mut TestApp) -> LambdaResponse {
        app.db.user("lara", "lara-Password-1", app.admin_role).await;
        let ok = app
            .post_login(Payload::RestV1, &credentials("lara", "lara-Password-1"))
            .await;
        app.post_login(Payload::RestV1, &credentials("lara", "lara-Wrong-2"))
            .await;
        let logged = app
            .login_fn
            .wait_for_log(LOG_LIMIT, |line| {
                line.contains("lara") && line.contains("bad_credentials")
            })
            .await;
        assert!(
            logged,
            "no log line of the refused login:\n{}",
            app.login_fn.logs()
        );
        ok
    }

    #[tokio::test]
    async fn logs_are_json_lines_with_the_outcome_and_level() {
        let mut app = TestApp::spawn().await;
        after_a_good_and_a_refused_login(&mut app).await;
        let records = app.login_fn.log_records();
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
    }

    #[tokio::test]
    async fn logs_never_contain_a_password_a_token_a_hash_or_the_key() {
        let mut app = TestApp::spawn().await;
        let ok = after_a_good_and_a_refused_login(&mut app).await;
        let logs = app.login_fn.logs();
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

    // #12.7: in the plain-text format a line ends at a newline, so a username
    // holding one would start a line of the caller's choosing; it is escaped.
    #[tokio::test]
    async fn a_newline_in_a_username_cannot_forge_a_text_log_line() {
        let mut app = TestApp::with_env(&[("AWS_LAMBDA_LOG_FORMAT", "Text")]).await;
        let response = app
            .post_login(
                Payload::RestV1,
                &credentials("x\nFAKE-LINE", "whatever-pass"),
            )
            .await;
        assert_eq!(response.raw_body, r#"{"message":"bad_credentials"}"#);
        let logged = app
            .login_fn
            .wait_for_log(LOG_LIMIT, |line| line.contains("login refused"))
            .await;
        let logs = app.login_fn.logs();
        assert!(logged, "no line for the refused login:\n{logs}");
        assert!(
            !logs
                .lines()
                .any(|line| line.trim_start().to_lowercase().starts_with("fake-line")),
            "a forged line:\n{logs}"
        );
        // The name is there, escaped (in whatever case it is matched in).
        assert!(
            logs.to_lowercase().contains("x\\nfake-line"),
            "the username is not in the log line:\n{logs}"
        );
    }
}
