// #12.3: PROTECTED_ROLES (default `admin`): only a caller whose own role is
// protected may give a protected role or touch an account that holds one, so a
// delegated administrator can't make or take over an admin.

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
