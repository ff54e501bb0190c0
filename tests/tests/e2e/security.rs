//! The security review's cross-cutting findings (issue #12): what the logs hold
//! at the most verbose level, and living beside the Python package in one
//! database.

use e2e::app::ANY_ROLE;
use e2e::{Function, TestApp, TestDb, SECRET_KEY};
use mongodb::bson::Document;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a log line may take to get through the reader threads.
const LOG_LIMIT: Duration = Duration::from_secs(5);

mod trace_logs {
    use super::*;

    const OLD_PASSWORD: &str = "Tr4ce-Old-Pass-1";
    const WRONG_PASSWORD: &str = "Tr4ce-Wrong-Pass-2";
    const NEW_PASSWORD: &str = "Tr4ce-New-Pass-3";

    /// Every secret a client sent or got back while `tracy` signed in (once
    /// with a wrong password), changed her password through GraphQL variables,
    /// refreshed her tokens and logged out, on an app logging at TRACE in
    /// `format`; returns the app and those secrets, once every function has
    /// logged the line of its last request.
    async fn secrets_through_every_function(format: &'static str) -> (TestApp, Vec<String>) {
        let mut app = TestApp::with_env(&[
            ANY_ROLE,
            ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
            ("AWS_LAMBDA_LOG_FORMAT", format),
        ])
        .await;
        app.db.user("tracy", OLD_PASSWORD, app.support_role).await;
        let refused = app
            .post_login(
                e2e::Payload::RestV1,
                &json!({"username": "tracy", "password": WRONG_PASSWORD}),
            )
            .await;
        assert_eq!(refused.status, 400, "{}", refused.raw_body);
        let (access, refresh) = app.login("tracy", OLD_PASSWORD).await;

        let changed = app
            .graphql(
                Some(&access),
                "mutation($i: UpdatePasswordInput!) { update_password(input: $i) { ok } }",
                json!({"i": {"current_password": OLD_PASSWORD, "new_password": NEW_PASSWORD, "password_confirmed": NEW_PASSWORD}}),
            )
            .await;
        assert_eq!(
            changed.body,
            json!({"data": {"update_password": {"ok": true}}}),
            "{}",
            changed.raw_body
        );
        let refreshed = app
            .graphql(
                Some(&access),
                "mutation($i: RefreshTokenInput!) { refresh_token(input: $i) { access_token refresh_token } }",
                json!({"i": {"refresh_token": refresh}}),
            )
            .await;
        let pair = &refreshed.body["data"]["refresh_token"];
        let new_access = pair["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", refreshed.raw_body))
            .to_owned();
        let new_refresh = pair["refresh_token"].as_str().unwrap().to_owned();

        let logout = app.logout(&new_access).await;
        assert_eq!(logout.status, 200, "{}", logout.raw_body);

        // The last line each function writes for its last request.
        for (function, line) in [
            (&app.login_fn, "login accepted"),
            (&app.graphql_fn, "password changed"),
            (&app.logout_fn, "logout"),
        ] {
            assert!(
                function.wait_for_log(LOG_LIMIT, |l| l.contains(line)).await,
                "no {line:?} line at TRACE in {format}:\n{}",
                function.logs()
            );
        }
        let secrets = vec![
            OLD_PASSWORD.to_owned(),
            WRONG_PASSWORD.to_owned(),
            NEW_PASSWORD.to_owned(),
            access,
            refresh,
            new_access,
            new_refresh,
            SECRET_KEY.to_owned(),
        ];
        (app, secrets)
    }

    fn assert_no_secret_in(function: &Function, name: &str, secrets: &[String]) {
        let logs = function.logs();
        assert!(!logs.trim().is_empty(), "{name} logged nothing at TRACE");
        for secret in secrets {
            assert!(
                !logs.contains(secret.as_str()),
                "{name}'s TRACE logs contain {secret}:\n{logs}"
            );
        }
    }

    // #12.1: at TRACE, the dependency crates (runtime, hyper, the SDK, the
    // driver) would log raw events, headers and commands; they stay capped.
    #[tokio::test]
    async fn at_trace_in_json_no_password_token_or_key_reaches_the_logs() {
        let (app, secrets) = secrets_through_every_function("JSON").await;
        assert_no_secret_in(&app.login_fn, "login", &secrets);
        assert_no_secret_in(&app.graphql_fn, "graphql", &secrets);
        assert_no_secret_in(&app.logout_fn, "logout", &secrets);
        // Our own lines still come as JSON (the cap is on the others' lines).
        assert!(app
            .login_fn
            .log_records()
            .iter()
            .any(|r| r["message"] == "login accepted" && r["username"] == "tracy"));
    }

    // #12.1, in the plain-text format.
    #[tokio::test]
    async fn at_trace_in_text_no_password_token_or_key_reaches_the_logs() {
        let (app, secrets) = secrets_through_every_function("Text").await;
        assert_no_secret_in(&app.login_fn, "login", &secrets);
        assert_no_secret_in(&app.graphql_fn, "graphql", &secrets);
        assert_no_secret_in(&app.logout_fn, "logout", &secrets);
    }
}

mod python_package {
    use super::*;

    /// The Python package's interpreter, installed by `scripts/setup`.
    fn flask_python() -> PathBuf {
        let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/flask/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run `scripts/setup`, which installs flask-auth-service-mongo there",
            python.display()
        );
        python
    }

    async fn index_names(db: &TestDb, collection: &str) -> Vec<String> {
        db.db
            .collection::<Document>(collection)
            .list_index_names()
            .await
            .unwrap_or_default()
    }

    /// Waits until a function started on `db` has created all its indexes.
    async fn wait_for_our_indexes(db: &TestDb, function: &Function) {
        let wanted = [
            ("role", "name_1"),
            ("user", "username_1"),
            ("whitelist_token", "uuid_access_1"),
            ("whitelist_token", "uuid_refresh_1"),
            ("whitelist_token", "created_at_1"),
        ];
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut missing = Vec::new();
            for (collection, index) in wanted {
                if !index_names(db, collection)
                    .await
                    .iter()
                    .any(|name| name == index)
                {
                    missing.push(format!("{collection}.{index}"));
                }
            }
            if missing.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "indexes never created: {missing:?}\n{}",
                function.logs()
            );
            // The indexes are created in the background of start-up, with no
            // event to wait for: poll.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // #12.12: our unique indexes carry exactly mongoengine's options, so the
    // Python service, started beside us on the same database, still starts.
    #[tokio::test]
    async fn the_python_package_creates_its_indexes_after_ours_without_error() {
        let python = flask_python();
        let db = TestDb::new().await;
        let function = Function::start("graphql", &db.env()).await;
        wait_for_our_indexes(&db, &function).await;
        let script = "import os, mongoengine\n\
            mongoengine.connect(db=os.environ['DB'], host=os.environ['URI'])\n\
            from flask_auth_service_mongo.security.models import Role, User, WhitelistToken\n\
            [m.ensure_indexes() for m in (Role, User, WhitelistToken)]\n";
        let output = tokio::process::Command::new(&python)
            .arg("-c")
            .arg(script)
            .env("DB", &db.name)
            .env("URI", &db.uri)
            .output()
            .await
            .expect("run the Python package");
        assert!(
            output.status.success(),
            "the Python package's index creation failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        // Still ours, not a second index beside it under another name.
        let user_indexes = index_names(&db, "user").await;
        assert_eq!(
            user_indexes
                .iter()
                .filter(|name| name.starts_with("username"))
                .count(),
            1,
            "{user_indexes:?}"
        );
    }
}
