//! `POST /admin/graphql`, end to end: the built `graphql` binary (and `login` for
//! tokens) under API Gateway events, against a real MongoDB-wire server.

use e2e::app::{graphql_request, ANY_ROLE, GRAPHQL_PATH};
use e2e::db::claims;
use e2e::helpers::{expired_access_token, now, sign_hs256};
use e2e::{HttpRequest, LambdaResponse, Payload, TestApp, SECRET_KEY};
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use serde_json::{json, Value};

/// The seed's own request, byte for byte.
const SEED_REQUEST: &str = "mutation {
    update_password (input: {
        current_password: \"current\"
        new_password: \"new_pass\"
        password_confirmed: \"new_pass\"
    }) {
        ok
    }
}";

/// The app these tests run against: every role may sign in, so the support
/// user's requests reach the field-by-field access rules.
async fn app() -> TestApp {
    TestApp::with_env(&[ANY_ROLE]).await
}

/// The response carries a new token pair from `refresh_token`.
fn assert_new_pair(response: &LambdaResponse) {
    assert!(
        response.body["data"]["refresh_token"]["access_token"].is_string(),
        "{}",
        response.raw_body
    );
}

fn error_messages(response: &LambdaResponse) -> Vec<String> {
    response.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["message"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn assert_error(response: &LambdaResponse, message: &str) {
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(error_messages(response), [message], "{}", response.raw_body);
}

fn global(kind: &str, id: &ObjectId) -> String {
    ::graphql::ids::to_global(kind, id)
}

const UPDATE_PASSWORD: &str =
    "mutation($i: UpdatePasswordInput!) { update_password(input: $i) { ok } }";
const CREATE_USER: &str = "mutation($i: CreateUserInput!) { create_user(input: $i) { user { id username active change_password role { id name } } } }";
const UPDATE_USER: &str = "mutation($i: UpdateUserInput!) { update_user(input: $i) { user { id username active change_password } } }";
const DELETE_USER: &str = "mutation($i: DeleteUserInput!) { delete_user(input: $i) { ok } }";
const RESET_PASSWORD: &str =
    "mutation($i: ResetPasswordInput!) { reset_password(input: $i) { password } }";
const REFRESH: &str = "mutation($i: RefreshTokenInput!) { refresh_token(input: $i) { token_type access_token refresh_token expires_in } }";
const USER_BY_ID: &str = "query($id: ID!) { user(id: $id) { username role { name permissions } } }";

mod requests {
    use super::*;

    #[tokio::test]
    async fn the_seed_request_verbatim_gets_the_seed_response() {
        let mut app = app().await;
        let token = app.support_token().await;
        for payload in Payload::ALL {
            // Fresh password each round: the seed changes "current" to "new_pass".
            let hash = shared::password::hash("current").unwrap();
            app.db
                .set_user(app.support.id, doc! {"password": hash})
                .await;
            let response = app
                .graphql_fn
                .invoke(
                    HttpRequest::post(GRAPHQL_PATH)
                        .bearer(&token)
                        .body(SEED_REQUEST)
                        .event(payload),
                )
                .await;
            assert_eq!(response.status, 200, "{payload:?}: {}", response.raw_body);
            assert_eq!(response.header("content-type"), Some("application/json"));
            assert_eq!(
                response.body,
                json!({"data": {"update_password": {"ok": true}}})
            );
            assert_eq!(
                response.raw_body,
                r#"{"data":{"update_password":{"ok":true}}}"#
            );
        }
        // The new password logs in.
        app.login("sue", "new_pass").await;
    }

    #[tokio::test]
    async fn a_bare_document_is_accepted_as_application_graphql_too() {
        let mut app = app().await;
        let token = app.admin_token().await;
        let response = app
            .graphql_fn
            .invoke(
                HttpRequest::post(GRAPHQL_PATH)
                    .header("Content-Type", "application/graphql")
                    .bearer(&token)
                    .body("{ me { username } }")
                    .event(Payload::HttpV2),
            )
            .await;
        assert_eq!(
            response.body,
            json!({"data": {"me": {"username": "root"}}}),
            "{}",
            response.raw_body
        );
    }

    #[tokio::test]
    async fn a_bad_bearer_token_gets_the_guard_answer() {
        let mut app = app().await;
        for (header, message) in [
            ("Bearer garbage", "invalid_token"),
            ("Basic abc", "unauthorized"),
        ] {
            let response = app
                .graphql_fn
                .invoke(
                    HttpRequest::post(GRAPHQL_PATH)
                        .header("Authorization", header)
                        .json(&json!({"query": "{ me { id } }"}))
                        .event(Payload::HttpV2),
                )
                .await;
            assert_eq!(response.status, 401);
            assert_eq!(response.body, json!({"message": message}));
        }
    }

    #[tokio::test]
    async fn malformed_queries_get_graphql_errors_never_a_500() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let cases: Vec<(&str, Value)> = vec![
            ("{ me { username ", json!({})),
            ("{ nope }", json!({})),
            ("{ me { password } }", json!({})),
            (
                "query($id: ID!) { user(id: $id) { username } }",
                json!({"id": {"not": "an id"}}),
            ),
            ("query($id: ID!) { user(id: $id) { username } }", json!({})),
            ("mutation { delete_user(input: {}) { ok } }", json!({})),
            ("subscription { me { id } }", json!({})),
        ];
        for (query, variables) in cases {
            let response = app.graphql(Some(&admin), query, variables).await;
            assert!(
                response.status == 200 || response.status == 400,
                "{query}: {}",
                response.status
            );
            assert!(
                !error_messages(&response).is_empty(),
                "{query}: {}",
                response.raw_body
            );
        }
    }

    #[tokio::test]
    async fn bodies_that_are_not_a_graphql_request_get_400_with_errors() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        for body in ["", "42", r#"{"variables":{}}"#, "[]"] {
            let response = app
                .graphql_fn
                .invoke(
                    HttpRequest::post(GRAPHQL_PATH)
                        .bearer(&admin)
                        .body(body)
                        .event(Payload::RestV1),
                )
                .await;
            assert_eq!(response.status, 400, "{body:?}: {}", response.raw_body);
            assert!(!error_messages(&response).is_empty());
        }
    }
}

mod update_password {
    use super::*;

    #[tokio::test]
    async fn each_refusal_gets_the_python_message() {
        let mut app = app().await;
        let token = app.support_token().await;
        let cases = [
            (
                json!({"current_password": "current", "new_password": "new-pass-1", "password_confirmed": "new-pass-2"}),
                "Passwords don't match",
            ),
            (
                json!({"current_password": "wrong", "new_password": "new-pass-1", "password_confirmed": "new-pass-1"}),
                "Current password don't match",
            ),
            (
                json!({"current_password": "current", "new_password": "current", "password_confirmed": "current"}),
                "bad_request",
            ),
            (
                json!({"current_password": "current", "new_password": "short", "password_confirmed": "short"}),
                "bad_request",
            ),
            (
                json!({"current_password": "current", "new_password": "has space s", "password_confirmed": "has space s"}),
                "bad_request",
            ),
        ];
        for (input, message) in cases {
            let response = app
                .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": input}))
                .await;
            assert_error(&response, message);
            assert_eq!(response.body["data"]["update_password"], Value::Null);
        }
    }

    #[tokio::test]
    async fn a_bad_request_names_the_broken_rule_in_the_extensions() {
        let mut app = app().await;
        let token = app.support_token().await;
        let short = app
            .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current", "new_password": "short", "password_confirmed": "short"}}))
            .await;
        assert_eq!(
            short.body["errors"][0]["extensions"]["errors"],
            json!({"new_password": ["min length is 8"]})
        );
    }

    #[tokio::test]
    async fn the_current_password_as_the_new_one_is_refused_and_kept() {
        let mut app = app().await;
        let token = app.support_token().await;
        // Same as current, once the current one is long enough to pass the rules.
        let hash = shared::password::hash("current-long").unwrap();
        app.db
            .set_user(app.support.id, doc! {"password": hash})
            .await;
        let same = app
            .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current-long", "new_password": "current-long", "password_confirmed": "current-long"}}))
            .await;
        assert_error(&same, "The new password is equal as the current password");
        // The refusal did not change the stored hash.
        assert!(
            shared::password::verify(
                "current-long",
                app.db
                    .user_doc(app.support.id)
                    .await
                    .get_str("password")
                    .unwrap()
            ) != shared::password::Verdict::Mismatch
        );
    }

    /// The support user, flagged to change their password, signed in twice; the
    /// password changed through the first session. Returns (the session used,
    /// the other access token, the other refresh token).
    async fn changed_with_another_session_open(app: &mut TestApp) -> (String, String, String) {
        app.db
            .set_user(app.support.id, doc! {"change_password": true})
            .await;
        let (other_access, other_refresh) = app.login("sue", "current").await;
        let token = app.support_token().await;
        let response = app
            .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current", "new_password": "brand-new-1", "password_confirmed": "brand-new-1"}}))
            .await;
        assert_eq!(
            response.body,
            json!({"data": {"update_password": {"ok": true}}}),
            "{}",
            response.raw_body
        );
        (token, other_access, other_refresh)
    }

    #[tokio::test]
    async fn a_password_change_clears_the_change_password_flag() {
        let mut app = app().await;
        changed_with_another_session_open(&mut app).await;
        assert!(!app
            .db
            .user_doc(app.support.id)
            .await
            .get_bool("change_password")
            .unwrap());
    }

    #[tokio::test]
    async fn a_password_change_keeps_the_session_in_use() {
        let mut app = app().await;
        let (token, _, _) = changed_with_another_session_open(&mut app).await;
        let me = app
            .graphql(
                Some(&token),
                "{ me { username change_password } }",
                json!({}),
            )
            .await;
        assert_eq!(
            me.body["data"]["me"],
            json!({"username": "sue", "change_password": false})
        );
    }

    #[tokio::test]
    async fn a_password_change_ends_the_other_sessions_refresh_token_included() {
        let mut app = app().await;
        let (_, other_access, other_refresh) = changed_with_another_session_open(&mut app).await;
        let stale = app
            .graphql(Some(&other_access), "{ me { username } }", json!({}))
            .await;
        assert_eq!(stale.status, 401);
        assert_eq!(stale.body, json!({"message": "unauthorized"}));
        let refresh = app
            .graphql(
                None,
                REFRESH,
                json!({"i": {"refresh_token": other_refresh}}),
            )
            .await;
        assert_error(&refresh, "unauthorized");
    }

    #[tokio::test]
    async fn a_pending_password_change_allows_only_update_password_and_me() {
        let mut app = TestApp::with_env(&[ANY_ROLE, ("REQUIRE_PASSWORD_CHANGE", "true")]).await;
        app.db
            .set_user(app.support.id, doc! {"change_password": true})
            .await;
        let token = app.support_token().await;
        let me = app
            .graphql(
                Some(&token),
                "{ me { username change_password } }",
                json!({}),
            )
            .await;
        assert_eq!(
            me.body["data"]["me"],
            json!({"username": "sue", "change_password": true}),
            "{}",
            me.raw_body
        );
        let other = app
            .graphql(
                Some(&token),
                "{ me { username } roles { name } }",
                json!({}),
            )
            .await;
        assert_eq!(other.status, 401);
        assert_eq!(other.body, json!({"message": "password_change_required"}));
        let change = app
            .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current", "new_password": "brand-new-1", "password_confirmed": "brand-new-1"}}))
            .await;
        assert_eq!(
            change.body["data"]["update_password"]["ok"], true,
            "{}",
            change.raw_body
        );
        let after = app
            .graphql(Some(&token), "{ me { username } }", json!({}))
            .await;
        assert_eq!(after.status, 200);
    }
}

mod create_user {
    use super::*;

    #[tokio::test]
    async fn create_user_makes_a_user_who_can_log_in() {
        let mut app = app().await;
        let token = app.admin_token().await;
        let input = json!({"i": {"username": "NewBie", "password": "newbie-pass", "password_confirmed": "newbie-pass", "role": "support"}});
        let response = app.graphql(Some(&token), CREATE_USER, input).await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        let user = &response.body["data"]["create_user"]["user"];
        assert_eq!(user["username"], "newbie");
        assert_eq!(user["active"], true);
        assert_eq!(user["change_password"], false);
        assert_eq!(user["role"]["name"], "support");
        let id = ::graphql::ids::user_id(user["id"].as_str().unwrap()).expect("a User global id");
        let id = ObjectId::parse_str(id.to_hex()).unwrap();
        let stored = app.db.user_doc(id).await;
        assert!(stored
            .get_str("password")
            .unwrap()
            .starts_with("$argon2id$"));
        assert_eq!(
            stored
                .get_document("role")
                .unwrap()
                .get_str("$ref")
                .unwrap(),
            "role"
        );
        app.login("newbie", "newbie-pass").await;
    }

    #[tokio::test]
    async fn create_user_refusals_use_the_python_messages_and_change_nothing() {
        let mut app = app().await;
        let token = app.admin_token().await;
        let cases = [
            (
                json!({"username": "abc", "password": "pass-word-1", "password_confirmed": "pass-word-2", "role": "support"}),
                "Passwords don't match",
            ),
            (
                json!({"username": "abc", "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": "ghost"}),
                "Role does not exist",
            ),
            (
                json!({"username": "SUE", "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": "support"}),
                "Username already exists",
            ),
            (
                json!({"username": "ab", "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": "support"}),
                "bad_request",
            ),
            (
                json!({"username": "abc", "password": "short", "password_confirmed": "short", "role": "support"}),
                "bad_request",
            ),
            (
                json!({"username": "a b c", "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": "support"}),
                "bad_request",
            ),
        ];
        for (input, message) in cases {
            let response = app
                .graphql(Some(&token), CREATE_USER, json!({"i": input}))
                .await;
            assert_error(&response, message);
        }
        let count = app.db.count_users(doc! {}).await;
        assert_eq!(count, 2);
    }

    #[tokio::test]
    async fn concurrent_creations_of_one_name_give_one_user_and_one_refusal() {
        let mut app = app().await;
        let token = app.admin_token().await;
        let mut second = app.start("graphql").await;
        let event = graphql_request(
            Some(&token),
            CREATE_USER,
            json!({"i": {"username": "twin", "password": "twin-password", "password_confirmed": "twin-password", "role": "support"}}),
        )
        .event(Payload::RestV1);
        let (a, b) = tokio::join!(app.graphql_fn.invoke(event.clone()), second.invoke(event));
        let mut outcomes: Vec<String> = [a, b]
            .iter()
            .map(|r| match error_messages(r).first() {
                Some(message) => message.clone(),
                None => r.body["data"]["create_user"]["user"]["username"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned(),
            })
            .collect();
        outcomes.sort();
        assert_eq!(outcomes, ["Username already exists", "twin"]);
        let count = app.db.count_users(doc! {"username": "twin"}).await;
        assert_eq!(count, 1);
    }

    // #12.7: a new username may hold no whitespace of any kind and no control or
    // format character: such a name passes for another one, or forges log lines.
    #[tokio::test]
    async fn usernames_with_invisible_or_control_characters_are_refused() {
        let mut app = app().await;
        let token = app.admin_token().await;
        let cases = [
            ("tab\tname", "Must not contain spaces"),
            ("new\nline", "Must not contain spaces"),
            ("no\u{a0}break", "Must not contain spaces"),
            ("line\u{2028}sep", "Must not contain spaces"),
            (
                "root\u{200b}",
                "Must not contain control or invisible characters",
            ),
            (
                "rtl\u{202e}toor",
                "Must not contain control or invisible characters",
            ),
        ];
        for (username, reason) in cases {
            let response = app
                .graphql(Some(&token), CREATE_USER, json!({"i": {"username": username, "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": "support"}}))
                .await;
            assert_error(&response, "bad_request");
            assert_eq!(
                response.body["errors"][0]["extensions"]["errors"]["username"],
                json!([reason]),
                "{username:?}: {}",
                response.raw_body
            );
        }
        assert_eq!(app.db.count_users(doc! {}).await, 2);
    }
}

mod update_user {
    use super::*;

    #[tokio::test]
    async fn update_user_sets_the_change_password_flag() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let id = global("User", &app.support.id);
        let response = app
            .graphql(
                Some(&admin),
                UPDATE_USER,
                json!({"i": {"id": id, "change_password": true}}),
            )
            .await;
        assert_eq!(
            response.body["data"]["update_user"]["user"]["change_password"], true,
            "{}",
            response.raw_body
        );
        assert!(app
            .db
            .user_doc(app.support.id)
            .await
            .get_bool("change_password")
            .unwrap());
    }

    #[tokio::test]
    async fn setting_the_change_password_flag_keeps_the_users_session() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let sue = app.support_token().await;
        let id = global("User", &app.support.id);
        let response = app
            .graphql(
                Some(&admin),
                UPDATE_USER,
                json!({"i": {"id": id, "change_password": true}}),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        // Still signed in: only deactivation ends sessions.
        assert_eq!(app.me_status(&sue).await, 200);
    }

    #[tokio::test]
    async fn deactivating_a_user_by_bare_id_ends_their_sessions() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let sue = app.support_token().await;
        let bare = app.support.id.to_hex();
        let response = app
            .graphql(
                Some(&admin),
                UPDATE_USER,
                json!({"i": {"id": bare, "change_password": false, "active": false}}),
            )
            .await;
        assert_eq!(
            response.body["data"]["update_user"]["user"]["active"], false,
            "{}",
            response.raw_body
        );
        assert_eq!(app.me_status(&sue).await, 401);
        assert!(app.db.sessions().await.iter().all(|s| s
            .get_document("user")
            .unwrap()
            .get_object_id("$id")
            .unwrap()
            != app.support.id));
    }

    #[tokio::test]
    async fn update_user_of_an_unknown_user_is_not_found() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let missing = global("User", &ObjectId::new());
        assert_error(
            &app.graphql(
                Some(&admin),
                UPDATE_USER,
                json!({"i": {"id": missing, "change_password": true}}),
            )
            .await,
            "not_found",
        );
    }

    #[tokio::test]
    async fn update_user_with_an_id_that_is_not_a_user_id_is_id_not_valid() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        for bad in ["nope", "", &global("Role", &app.support.id)] {
            assert_error(
                &app.graphql(
                    Some(&admin),
                    UPDATE_USER,
                    json!({"i": {"id": bad, "change_password": true}}),
                )
                .await,
                "id_not_valid",
            );
        }
    }
}

mod delete_user {
    use super::*;

    /// Deletes the support user (signed in) as the admin; returns (the admin's
    /// token, the support user's token, the deletion's answer).
    async fn delete_the_support_user(app: &mut TestApp) -> (String, String, LambdaResponse) {
        let admin = app.admin_token().await;
        let sue = app.support_token().await;
        let id = global("User", &app.support.id);
        let response = app
            .graphql(Some(&admin), DELETE_USER, json!({"i": {"id": id}}))
            .await;
        (admin, sue, response)
    }

    #[tokio::test]
    async fn delete_user_removes_the_user_and_their_sessions() {
        let mut app = app().await;
        let (_, sue, response) = delete_the_support_user(&mut app).await;
        assert_eq!(
            response.body,
            json!({"data": {"delete_user": {"ok": true}}}),
            "{}",
            response.raw_body
        );
        assert_eq!(app.me_status(&sue).await, 401);
        assert_eq!(
            app.db.sessions().await.len(),
            1,
            "only the admin's session is left"
        );
    }

    #[tokio::test]
    async fn deleting_a_deleted_user_is_not_found() {
        let mut app = app().await;
        let (admin, _, _) = delete_the_support_user(&mut app).await;
        let id = global("User", &app.support.id);
        assert_error(
            &app.graphql(Some(&admin), DELETE_USER, json!({"i": {"id": id}}))
                .await,
            "not_found",
        );
    }

    #[tokio::test]
    async fn delete_user_with_a_malformed_id_is_id_not_valid() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        assert_error(
            &app.graphql(Some(&admin), DELETE_USER, json!({"i": {"id": "zzz"}}))
                .await,
            "id_not_valid",
        );
    }
}

mod reset_password {
    use super::*;

    /// Resets the support user's password as `admin`; returns the new password.
    async fn reset_the_support_user(app: &mut TestApp, admin: &str) -> String {
        let response = app
            .graphql(
                Some(admin),
                RESET_PASSWORD,
                json!({"i": {"id": global("User", &app.support.id)}}),
            )
            .await;
        response.body["data"]["reset_password"]["password"]
            .as_str()
            .expect("password")
            .to_owned()
    }

    #[tokio::test]
    async fn reset_password_returns_eight_random_letters_and_digits() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let password = reset_the_support_user(&mut app, &admin).await;
        assert_eq!(password.len(), 8);
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
        let again = reset_the_support_user(&mut app, &admin).await;
        assert_ne!(again, password);
    }

    #[tokio::test]
    async fn reset_password_forces_a_change_and_stores_only_a_hash() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let password = reset_the_support_user(&mut app, &admin).await;
        let stored = app.db.user_doc(app.support.id).await;
        assert!(stored.get_bool("change_password").unwrap());
        assert!(!stored.get_str("password").unwrap().contains(&password));
    }

    #[tokio::test]
    async fn reset_password_ends_the_old_session_and_the_new_password_logs_in() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let sue = app.support_token().await;
        let password = reset_the_support_user(&mut app, &admin).await;
        assert_eq!(app.me_status(&sue).await, 401, "old session ended");
        app.login("sue", &password).await;
    }

    #[tokio::test]
    async fn reset_password_of_an_unknown_user_is_not_found() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        assert_error(
            &app.graphql(
                Some(&admin),
                RESET_PASSWORD,
                json!({"i": {"id": global("User", &ObjectId::new())}}),
            )
            .await,
            "not_found",
        );
    }

    #[tokio::test]
    async fn the_new_password_never_reaches_the_logs() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let password = reset_the_support_user(&mut app, &admin).await;
        let logs = app.graphql_fn.logs();
        assert!(
            !logs.contains(&password),
            "the generated password reached the logs"
        );
    }
}

mod refresh_token {
    use super::*;

    /// Signs the support user in and refreshes once without an access token;
    /// returns (the first pair, the refresh's answer).
    async fn refreshed(app: &mut TestApp) -> ((String, String), LambdaResponse) {
        let (access, refresh) = app.login("sue", "current").await;
        let response = app
            .graphql(None, REFRESH, json!({"i": {"refresh_token": refresh}}))
            .await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        ((access, refresh), response)
    }

    fn new_pair(response: &LambdaResponse) -> (String, String) {
        let data = &response.body["data"]["refresh_token"];
        (
            data["access_token"].as_str().unwrap().to_owned(),
            data["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    #[tokio::test]
    async fn a_refresh_token_alone_gets_a_new_pair_for_its_user() {
        let mut app = app().await;
        let (_, response) = refreshed(&mut app).await;
        let data = &response.body["data"]["refresh_token"];
        assert_eq!(data["token_type"], "Bearer");
        assert_eq!(data["expires_in"], 60);
        let (new_access, _) = new_pair(&response);
        assert_eq!(claims(&new_access)["sub"], app.support.id.to_hex());
    }

    #[tokio::test]
    async fn a_refresh_ends_the_old_pair_and_the_new_access_token_works() {
        let mut app = app().await;
        let ((access, _), response) = refreshed(&mut app).await;
        let (new_access, _) = new_pair(&response);
        assert_eq!(app.me_status(&access).await, 401);
        let me = app
            .graphql(Some(&new_access), "{ me { username } }", json!({}))
            .await;
        assert_eq!(me.body["data"]["me"]["username"], "sue");
        // What a second use of the old refresh token gets (the same pair
        // within the grace window, the session's end after it): sessions.rs.
        assert_eq!(app.db.sessions().await.len(), 1);
    }

    /// Without a grace window (see sessions.rs for the default).
    #[tokio::test]
    async fn of_two_simultaneous_refreshes_with_one_token_exactly_one_wins() {
        let mut app = TestApp::with_env(&[ANY_ROLE, ("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
        let (_, response) = refreshed(&mut app).await;
        let (_, new_refresh) = new_pair(&response);
        let mut second = app.start("graphql").await;
        let event = graphql_request(None, REFRESH, json!({"i": {"refresh_token": new_refresh}}))
            .event(Payload::RestV1);
        let (a, b) = tokio::join!(app.graphql_fn.invoke(event.clone()), second.invoke(event));
        let wins = [&a, &b]
            .iter()
            .filter(|r| r.body["data"]["refresh_token"]["access_token"].is_string())
            .count();
        assert_eq!(wins, 1, "{} / {}", a.raw_body, b.raw_body);
    }

    #[tokio::test]
    async fn a_refresh_with_another_users_access_token_is_unauthorized() {
        let mut app = app().await;
        let (_, sue_refresh) = app.login("sue", "current").await;
        let admin = app.admin_token().await;
        let foreign = app
            .graphql(
                Some(&admin),
                REFRESH,
                json!({"i": {"refresh_token": sue_refresh}}),
            )
            .await;
        assert_error(&foreign, "unauthorized");
    }

    #[tokio::test]
    async fn a_refresh_with_an_expired_access_token_of_the_same_user_works() {
        let mut app = app().await;
        let (_, sue_refresh) = app.login("sue", "current").await;
        // Expired is fine: that is what refresh is for.
        let expired = expired_access_token(&app.support.id.to_hex(), SECRET_KEY);
        let response = app
            .graphql(
                Some(&expired),
                REFRESH,
                json!({"i": {"refresh_token": sue_refresh}}),
            )
            .await;
        assert_new_pair(&response);
    }

    #[tokio::test]
    async fn a_refresh_with_an_access_token_signed_with_another_key_is_invalid() {
        let mut app = app().await;
        let forged = expired_access_token(
            &app.support.id.to_hex(),
            "not-our-key-not-our-key-not-our-key",
        );
        let response = app
            .graphql(Some(&forged), REFRESH, json!({"i": {"refresh_token": "x"}}))
            .await;
        assert_eq!(response.status, 401);
        assert_eq!(response.body, json!({"message": "invalid_token"}));
    }

    #[tokio::test]
    async fn bad_refresh_tokens_get_token_messages() {
        let mut app = app().await;
        let (access, _) = app.login("sue", "current").await;
        let now = now();
        let expired = sign_hs256(&json!({"exp": now - 5, "uuid": "gone"}), SECRET_KEY);
        assert_error(
            &app.graphql(None, REFRESH, json!({"i": {"refresh_token": expired}}))
                .await,
            "signature_expired",
        );
        assert_error(
            &app.graphql(None, REFRESH, json!({"i": {"refresh_token": "garbage"}}))
                .await,
            "invalid_token",
        );
        assert_error(
            &app.graphql(None, REFRESH, json!({"i": {"refresh_token": access}}))
                .await,
            "invalid_token",
        );
    }

    // #12.6: a rule configured for refresh_token is applied as configured.
    const REFRESH_FOR_THE_SIGNED_IN: (&str, &str) = (
        "GRAPHQL_ACCESS_CONTROL",
        r#"[{"mutation":"refresh_token","roles":["is_authenticated"]}]"#,
    );

    #[tokio::test]
    async fn with_a_rule_for_signed_in_users_a_refresh_without_a_token_is_unauthorized() {
        let mut app = TestApp::with_env(&[ANY_ROLE, REFRESH_FOR_THE_SIGNED_IN]).await;
        let (_, refresh) = app.login("sue", "current").await;
        let response = app
            .graphql(None, REFRESH, json!({"i": {"refresh_token": refresh}}))
            .await;
        assert_error(&response, "unauthorized");
        assert_eq!(response.body["data"]["refresh_token"], Value::Null);
        // The pair was not used up.
        assert_eq!(app.db.sessions().await.len(), 1);
    }

    #[tokio::test]
    async fn with_a_rule_for_signed_in_users_the_owners_access_token_refreshes() {
        let mut app = TestApp::with_env(&[ANY_ROLE, REFRESH_FOR_THE_SIGNED_IN]).await;
        let (access, refresh) = app.login("sue", "current").await;
        let response = app
            .graphql(
                Some(&access),
                REFRESH,
                json!({"i": {"refresh_token": refresh}}),
            )
            .await;
        assert_new_pair(&response);
    }

    #[tokio::test]
    async fn with_a_rule_for_signed_in_users_an_expired_access_token_of_the_owner_refreshes() {
        let mut app = TestApp::with_env(&[ANY_ROLE, REFRESH_FOR_THE_SIGNED_IN]).await;
        let (_, refresh) = app.login("sue", "current").await;
        let expired = expired_access_token(&app.support.id.to_hex(), SECRET_KEY);
        let response = app
            .graphql(
                Some(&expired),
                REFRESH,
                json!({"i": {"refresh_token": refresh}}),
            )
            .await;
        assert_new_pair(&response);
    }
}

// #12.3: PROTECTED_ROLES (default `admin`): only a caller whose own role is
// protected may give a protected role or touch an account that holds one, so a
// delegated administrator can't make or take over an admin.
mod protected_roles {
    use super::*;

    /// Account administration delegated to `support` too.
    const DELEGATED: &str = r#"[{"mutation":"create_user","roles":["admin","support"]},{"mutation":"reset_password","roles":["admin","support"]},{"mutation":"update_user","roles":["admin","support"]},{"mutation":"delete_user","roles":["admin","support"]}]"#;

    async fn delegated_app(extra: &[(&'static str, &'static str)]) -> TestApp {
        let mut env = vec![ANY_ROLE, ("GRAPHQL_ACCESS_CONTROL", DELEGATED)];
        env.extend_from_slice(extra);
        TestApp::with_env(&env).await
    }

    fn new_user(username: &str, role: &str) -> Value {
        json!({"i": {"username": username, "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": role}})
    }

    #[tokio::test]
    async fn a_support_user_cannot_create_an_admin() {
        let mut app = delegated_app(&[]).await;
        let sue = app.support_token().await;
        let response = app
            .graphql(Some(&sue), CREATE_USER, new_user("sneaky", "admin"))
            .await;
        assert_error(&response, "unauthorized");
        assert_eq!(app.db.count_users(doc! {"username": "sneaky"}).await, 0);
    }

    #[tokio::test]
    async fn a_support_user_cannot_reset_update_or_delete_an_admin() {
        let mut app = delegated_app(&[]).await;
        let sue = app.support_token().await;
        let root = global("User", &app.admin.id);
        for (query, input) in [
            (RESET_PASSWORD, json!({"i": {"id": root}})),
            (
                UPDATE_USER,
                json!({"i": {"id": root, "change_password": true, "active": false}}),
            ),
            (DELETE_USER, json!({"i": {"id": root}})),
        ] {
            assert_error(&app.graphql(Some(&sue), query, input).await, "unauthorized");
        }
        // Root is as it was: there, active, not flagged, with the same password.
        let stored = app.db.user_doc(app.admin.id).await;
        assert!(stored.get_bool("active").unwrap());
        assert!(!stored.get_bool("change_password").unwrap());
        app.login("root", "root-password").await;
    }

    #[tokio::test]
    async fn a_support_user_may_create_and_reset_support_users() {
        let mut app = delegated_app(&[]).await;
        let sue = app.support_token().await;
        let created = app
            .graphql(Some(&sue), CREATE_USER, new_user("helper", "support"))
            .await;
        assert_eq!(
            created.body["data"]["create_user"]["user"]["role"]["name"], "support",
            "{}",
            created.raw_body
        );
        let sam = app.db.user("sam", "sam-password", app.support_role).await;
        let reset = app
            .graphql(
                Some(&sue),
                RESET_PASSWORD,
                json!({"i": {"id": global("User", &sam)}}),
            )
            .await;
        let password = reset.body["data"]["reset_password"]["password"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", reset.raw_body))
            .to_owned();
        app.login("sam", &password).await;
    }

    #[tokio::test]
    async fn an_admin_may_create_an_admin() {
        let mut app = delegated_app(&[]).await;
        let admin = app.admin_token().await;
        let created = app
            .graphql(Some(&admin), CREATE_USER, new_user("second-root", "admin"))
            .await;
        assert_eq!(
            created.body["data"]["create_user"]["user"]["role"]["name"], "admin",
            "{}",
            created.raw_body
        );
    }

    #[tokio::test]
    async fn a_support_user_whose_role_is_protected_too_may_reset_an_admin() {
        let mut app = delegated_app(&[("PROTECTED_ROLES", "admin,support")]).await;
        let sue = app.support_token().await;
        let reset = app
            .graphql(
                Some(&sue),
                RESET_PASSWORD,
                json!({"i": {"id": global("User", &app.admin.id)}}),
            )
            .await;
        let password = reset.body["data"]["reset_password"]["password"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", reset.raw_body))
            .to_owned();
        app.login("root", &password).await;
    }
}

// #12.4: a password change, a reset, a deactivation or a deletion ends the
// sessions before it writes the user, so when the database dies between the two
// writes no session (perhaps an attacker's) outlives the attempt. A proxy in
// front of the database drops the connection on the write to `user`.
mod write_order {
    use super::*;
    use e2e::proxy::{command_on, mongodb_address, Proxy};

    /// The app with its functions behind a proxy that kills the connection on
    /// any `command` on collection `user` (its own writes go straight to the
    /// database), the proxy kept alive beside it.
    async fn app_dying_on(command: &str) -> (TestApp, Proxy) {
        let upstream = mongodb_address(&e2e::mongo_server::uri());
        let proxy = Proxy::cutting_mongodb_commands(&upstream, command_on(command, "user"));
        let uri = proxy.mongodb_uri();
        let app = TestApp::with_env(&[ANY_ROLE, ("MONGODB_URI", uri.as_str())]).await;
        (app, proxy)
    }

    fn assert_failed(response: &LambdaResponse, field: &str) {
        assert!(
            response.body["data"][field].is_null() && !error_messages(response).is_empty(),
            "the write went through: {}",
            response.raw_body
        );
    }

    /// Sue signs in, then the admin runs `mutation` on her (`fields` beside her
    /// id in the input) while the database connection dies on `command` to
    /// `user`: the app, its proxy and the admin's answer.
    async fn admin_cut_off_on_sue(
        command: &str,
        mutation: &str,
        fields: Value,
    ) -> (TestApp, Proxy, LambdaResponse) {
        let (mut app, proxy) = app_dying_on(command).await;
        app.support_token().await;
        let admin = app.admin_token().await;
        let mut input = json!({"id": global("User", &app.support.id)});
        if let (Some(input), Value::Object(fields)) = (input.as_object_mut(), fields) {
            input.extend(fields);
        }
        let response = app
            .graphql(Some(&admin), mutation, json!({ "i": input }))
            .await;
        (app, proxy, response)
    }

    #[tokio::test]
    async fn a_password_change_cut_off_before_the_write_leaves_only_the_session_in_use() {
        let (mut app, _proxy) = app_dying_on("update").await;
        app.login("sue", "current").await;
        let token = app.support_token().await;
        let response = app
            .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current", "new_password": "brand-new-1", "password_confirmed": "brand-new-1"}}))
            .await;
        assert_failed(&response, "update_password");
        assert_eq!(
            app.db.sessions().await.len(),
            1,
            "the other session lives on"
        );
        let stored = app.db.user_doc(app.support.id).await;
        assert_ne!(
            shared::password::verify("current", stored.get_str("password").unwrap()),
            shared::password::Verdict::Mismatch,
            "the new hash was written after all"
        );
    }

    #[tokio::test]
    async fn a_reset_cut_off_before_the_write_leaves_no_session() {
        let (app, _proxy, response) =
            admin_cut_off_on_sue("update", RESET_PASSWORD, json!({})).await;
        assert_failed(&response, "reset_password");
        let sessions = app.db.sessions().await;
        assert_eq!(sessions.len(), 1, "only the admin's session: {sessions:?}");
        assert!(!app
            .db
            .user_doc(app.support.id)
            .await
            .get_bool("change_password")
            .unwrap());
    }

    #[tokio::test]
    async fn a_deactivation_cut_off_before_the_write_leaves_no_session() {
        let (app, _proxy, response) = admin_cut_off_on_sue(
            "update",
            UPDATE_USER,
            json!({"change_password": false, "active": false}),
        )
        .await;
        assert_failed(&response, "update_user");
        assert_eq!(app.db.sessions().await.len(), 1, "only the admin's session");
        assert!(app
            .db
            .user_doc(app.support.id)
            .await
            .get_bool("active")
            .unwrap());
    }

    #[tokio::test]
    async fn a_deletion_cut_off_before_the_write_leaves_no_session() {
        let (app, _proxy, response) = admin_cut_off_on_sue("delete", DELETE_USER, json!({})).await;
        assert_failed(&response, "delete_user");
        assert_eq!(app.db.sessions().await.len(), 1, "only the admin's session");
        assert_eq!(app.db.count_users(doc! {"username": "sue"}).await, 1);
    }
}

mod queries {
    use super::*;

    #[tokio::test]
    async fn me_is_the_signed_in_user_with_a_global_id_and_their_role() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let me = app
            .graphql(
                Some(&admin),
                "{ me { id username role { name } } }",
                json!({}),
            )
            .await;
        assert_eq!(me.body["data"]["me"]["id"], global("User", &app.admin.id));
        assert_eq!(me.body["data"]["me"]["role"]["name"], "admin");
    }

    #[tokio::test]
    async fn user_is_found_by_global_id_or_bare_object_id_with_role_permissions() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        for id in [global("User", &app.support.id), app.support.id.to_hex()] {
            let one = app
                .graphql(Some(&admin), USER_BY_ID, json!({"id": id}))
                .await;
            assert_eq!(
                one.body["data"]["user"]["username"], "sue",
                "{}",
                one.raw_body
            );
            let permissions: Value = serde_json::from_str(
                one.body["data"]["user"]["role"]["permissions"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(permissions, json!({"tickets": "rw"}));
        }
    }

    #[tokio::test]
    async fn user_with_an_unknown_id_is_null() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let none = app
            .graphql(
                Some(&admin),
                "{ user(id: \"5e66a976ebc7469c6eb8a1b2\") { username } }",
                json!({}),
            )
            .await;
        assert_eq!(none.body, json!({"data": {"user": null}}));
    }

    #[tokio::test]
    async fn user_with_a_malformed_id_is_id_not_valid() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        assert_error(
            &app.graphql(Some(&admin), "{ user(id: \"x\") { username } }", json!({}))
                .await,
            "id_not_valid",
        );
    }

    #[tokio::test]
    async fn users_pages_through_everyone_in_creation_order_without_duplicates() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        for i in 0..5 {
            app.db
                .user(&format!("user{i}"), "whatever-pw", app.admin_role)
                .await;
        }
        // 7 users, pages of 3: 3 + 3 + 1.
        let page_query = "query($after: String) { users(first: 3, after: $after) { edges { cursor node { username } } page_info { has_next_page end_cursor } } }";
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let page = app
                .graphql(Some(&admin), page_query, json!({"after": after}))
                .await;
            let users = &page.body["data"]["users"];
            for edge in users["edges"].as_array().unwrap() {
                seen.push(edge["node"]["username"].as_str().unwrap().to_owned());
            }
            if !users["page_info"]["has_next_page"].as_bool().unwrap() {
                break;
            }
            after = users["page_info"]["end_cursor"].clone();
        }
        assert_eq!(
            seen,
            ["root", "sue", "user0", "user1", "user2", "user3", "user4"]
        );
    }

    #[tokio::test]
    async fn users_refuses_a_page_of_more_than_100() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let too_many = app
            .graphql(
                Some(&admin),
                "{ users(first: 101) { edges { cursor } } }",
                json!({}),
            )
            .await;
        assert_eq!(too_many.body["data"]["users"], Value::Null);
    }

    #[tokio::test]
    async fn roles_lists_every_role_and_no_password() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let roles = app
            .graphql(Some(&admin), "{ roles { id name } }", json!({}))
            .await;
        let names: Vec<&str> = roles.body["data"]["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["admin", "support"]);
        assert!(!roles.raw_body.contains("password"));
    }
}

mod access_rules {
    use super::*;

    const MIXED: &str = "{ me { username } users { edges { cursor } } roles { name } }";

    #[tokio::test]
    async fn a_support_user_gets_their_own_fields_and_an_error_for_each_admin_field() {
        let mut app = app().await;
        let sue = app.support_token().await;
        let as_support = app.graphql(Some(&sue), MIXED, json!({})).await;
        assert_eq!(as_support.status, 200);
        assert_eq!(as_support.body["data"]["me"]["username"], "sue");
        assert_eq!(as_support.body["data"]["users"], Value::Null);
        assert_eq!(as_support.body["data"]["roles"], Value::Null);
        assert_eq!(
            error_messages(&as_support),
            ["unauthorized", "unauthorized"]
        );
    }

    #[tokio::test]
    async fn an_admin_gets_every_field() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let as_admin = app.graphql(Some(&admin), MIXED, json!({})).await;
        assert!(
            as_admin.body.get("errors").is_none(),
            "{}",
            as_admin.raw_body
        );
    }

    #[tokio::test]
    async fn an_anonymous_caller_gets_an_error_for_each_signed_in_field() {
        let mut app = app().await;
        let anonymous = app.graphql(None, MIXED, json!({})).await;
        assert_eq!(
            error_messages(&anonymous),
            ["unauthorized", "unauthorized", "unauthorized"]
        );
    }

    #[tokio::test]
    async fn create_user_is_refused_to_anonymous_and_support_callers() {
        let mut app = app().await;
        let sue = app.support_token().await;
        let create = app
            .graphql(None, CREATE_USER, json!({"i": {"username": "anon", "password": "anon-pass-1", "password_confirmed": "anon-pass-1", "role": "admin"}}))
            .await;
        assert_error(&create, "unauthorized");
        let support_create = app
            .graphql(Some(&sue), CREATE_USER, json!({"i": {"username": "anon", "password": "anon-pass-1", "password_confirmed": "anon-pass-1", "role": "admin"}}))
            .await;
        assert_error(&support_create, "unauthorized");
        let count = app.db.count_users(doc! {}).await;
        assert_eq!(count, 2);
    }

    const RULES: &str = r#"[{"mutation":"create_user","roles":["support"]},{"mutation":"roles","roles":["is_anonymously"]}]"#;

    async fn app_with_rules() -> TestApp {
        TestApp::with_env(&[ANY_ROLE, ("GRAPHQL_ACCESS_CONTROL", RULES)]).await
    }

    #[tokio::test]
    async fn graphql_access_control_grants_a_mutation_to_the_listed_roles_only() {
        let mut app = app_with_rules().await;
        let sue = app.support_token().await;
        let admin = app.admin_token().await;
        let input = json!({"i": {"username": "made-by-sue", "password": "pass-word-1", "password_confirmed": "pass-word-1", "role": "support"}});
        let by_sue = app.graphql(Some(&sue), CREATE_USER, input.clone()).await;
        assert_eq!(
            by_sue.body["data"]["create_user"]["user"]["username"], "made-by-sue",
            "{}",
            by_sue.raw_body
        );
        assert_error(
            &app.graphql(Some(&admin), CREATE_USER, input).await,
            "unauthorized",
        );
    }

    #[tokio::test]
    async fn graphql_access_control_can_open_a_query_to_anonymous_callers() {
        let mut app = app_with_rules().await;
        let anonymous_roles = app.graphql(None, "{ roles { name } }", json!({})).await;
        assert!(
            anonymous_roles.body["data"]["roles"].is_array(),
            "{}",
            anonymous_roles.raw_body
        );
    }

    #[tokio::test]
    async fn fields_graphql_access_control_does_not_list_keep_their_defaults() {
        let mut app = app_with_rules().await;
        let sue = app.support_token().await;
        assert_error(
            &app.graphql(Some(&sue), "{ users { edges { cursor } } }", json!({}))
                .await,
            "unauthorized",
        );
    }

    #[tokio::test]
    async fn a_rule_for_an_unknown_field_fails_start_up_naming_the_setting() {
        let app = app().await;
        let mut broken = app
            .start_with(
                "graphql",
                &[(
                    "GRAPHQL_ACCESS_CONTROL",
                    r#"[{"mutation":"create_usr","roles":["x"]}]"#,
                )],
            )
            .await;
        assert!(
            matches!(broken.exit_code(std::time::Duration::from_secs(10)).await, Some(c) if c != 0)
        );
        assert!(
            broken.logs().contains("GRAPHQL_ACCESS_CONTROL"),
            "{}",
            broken.logs()
        );
    }
}

mod limits {
    use super::*;

    #[tokio::test]
    async fn more_than_ten_aliases_are_refused() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let aliases: String = (0..11).map(|i| format!("a{i}: me {{ id }} ")).collect();
        let response = app
            .graphql(Some(&admin), &format!("{{ {aliases} }}"), json!({}))
            .await;
        assert_eq!(response.status, 400, "{}", response.raw_body);
    }

    /// `count` aliased copies of `field`, named from `first` on.
    fn aliased(field: &str, first: usize, count: usize) -> String {
        (first..first + count)
            .map(|i| format!("a{i}: {field} "))
            .collect()
    }

    fn assert_root_field_cap(response: &LambdaResponse) {
        assert_eq!(response.status, 400, "{}", response.raw_body);
        let errors = response.body["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "{}", response.raw_body);
        assert!(
            errors[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("at most 10 root fields")),
            "{}",
            response.raw_body
        );
        assert!(response.body.get("data").is_none(), "{}", response.raw_body);
    }

    // #12.2: a named operation runs without `operationName`, so it is capped too.
    #[tokio::test]
    async fn eleven_aliases_in_a_named_operation_are_refused() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let query = format!("query Q {{ {} }}", aliased("me { id }", 0, 11));
        assert_root_field_cap(&app.graphql(Some(&admin), &query, json!({})).await);
    }

    // #12.2: fields count where they run, fragments expanded.
    #[tokio::test]
    async fn eleven_root_fields_through_a_named_and_an_inline_fragment_are_refused() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let query = format!(
            "query Q {{ ...F ... on Query {{ {} }} }} fragment F on Query {{ {} }}",
            aliased("me { id }", 0, 5),
            aliased("me { id }", 5, 6)
        );
        assert_root_field_cap(&app.graphql(Some(&admin), &query, json!({})).await);
    }

    // #12.2: refused before any resolver runs: no password change took place.
    #[tokio::test]
    async fn eleven_mutations_through_fragments_are_refused_and_none_runs() {
        let mut app = app().await;
        let sue = app.support_token().await;
        let change = "update_password(input: $i) { ok }";
        let query = format!(
            "mutation M($i: UpdatePasswordInput!) {{ ...F ... on Mutation {{ {} }} }} fragment F on Mutation {{ {} }}",
            aliased(change, 0, 5),
            aliased(change, 5, 6)
        );
        let response = app
            .graphql(
                Some(&sue),
                &query,
                json!({"i": {"current_password": "current", "new_password": "changed-by-a0", "password_confirmed": "changed-by-a0"}}),
            )
            .await;
        assert_root_field_cap(&response);
        app.login("sue", "current").await;
    }

    // #12.2: the cap is 10, fragments or not.
    #[tokio::test]
    async fn ten_root_fields_through_fragments_run() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let query = format!(
            "query Q {{ ...F ... on Query {{ {} }} }} fragment F on Query {{ {} }}",
            aliased("me { username }", 0, 5),
            aliased("me { username }", 5, 5)
        );
        let response = app.graphql(Some(&admin), &query, json!({})).await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        let data = response.body["data"].as_object().expect("data");
        assert_eq!(data.len(), 10, "{}", response.raw_body);
        assert!(data.values().all(|me| me["username"] == "root"));
    }

    #[tokio::test]
    async fn a_batch_of_more_than_five_queries_is_refused() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let batch: Vec<Value> = (0..6).map(|_| json!({"query": "{ me { id } }"})).collect();
        let response = app
            .graphql_fn
            .invoke(
                HttpRequest::post(GRAPHQL_PATH)
                    .bearer(&admin)
                    .json(&json!(batch))
                    .event(Payload::RestV1),
            )
            .await;
        assert_eq!(response.status, 400);
    }

    #[tokio::test]
    async fn a_small_batch_gets_an_answer_per_query() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let batch: Vec<Value> = (0..2)
            .map(|_| json!({"query": "{ me { username } }"}))
            .collect();
        let response = app
            .graphql_fn
            .invoke(
                HttpRequest::post(GRAPHQL_PATH)
                    .bearer(&admin)
                    .json(&json!(batch))
                    .event(Payload::RestV1),
            )
            .await;
        assert_eq!(
            response.body,
            json!([{"data": {"me": {"username": "root"}}}, {"data": {"me": {"username": "root"}}}])
        );
    }

    #[tokio::test]
    async fn a_query_as_deep_as_the_schema_runs() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let deep = "{ users { edges { node { role { name } } } } }";
        assert!(app
            .graphql(Some(&admin), deep, json!({}))
            .await
            .body
            .get("errors")
            .is_none());
    }

    #[tokio::test]
    async fn a_too_complex_query_is_refused() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let complex = "{ a: users(first: 100) { edges { cursor node { id username active change_password role { id name permissions } } } } b: users(first: 100) { edges { cursor node { id username active change_password role { id name permissions } } } } }";
        let response = app.graphql(Some(&admin), complex, json!({})).await;
        assert!(
            error_messages(&response)
                .iter()
                .any(|m| m.contains("complex")),
            "{}",
            response.raw_body
        );
    }

    // #12.8: refused with an error that says why, not `{"__schema": null}`.
    #[tokio::test]
    async fn introspection_is_off_by_default() {
        let mut app = app().await;
        let admin = app.admin_token().await;
        let introspection = app
            .graphql(
                Some(&admin),
                "{ __schema { queryType { name } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            error_messages(&introspection),
            ["introspection is disabled"],
            "{}",
            introspection.raw_body
        );
        // The schema describes nothing.
        assert!(
            !introspection.body["data"]["__schema"].is_object(),
            "{}",
            introspection.raw_body
        );
    }

    #[tokio::test]
    async fn introspection_is_on_with_graphql_introspection() {
        let mut open = TestApp::with_env(&[ANY_ROLE, ("GRAPHQL_INTROSPECTION", "true")]).await;
        let token = open.admin_token().await;
        let introspection = open
            .graphql(
                Some(&token),
                "{ __schema { queryType { name } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            introspection.body["data"]["__schema"]["queryType"]["name"], "Query",
            "{}",
            introspection.raw_body
        );
    }
}
