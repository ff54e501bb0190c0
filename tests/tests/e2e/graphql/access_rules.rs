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
    assert_eq!(as_admin.status, 200, "{}", as_admin.raw_body);
    assert!(
        as_admin.body.get("errors").is_none(),
        "{}",
        as_admin.raw_body
    );
    let data = &as_admin.body["data"];
    assert_eq!(data["me"]["username"], "root", "{}", as_admin.raw_body);
    // Both seeded users, each with a cursor.
    let edges = data["users"]["edges"].as_array().expect("users");
    assert_eq!(edges.len(), 2, "{}", as_admin.raw_body);
    assert!(edges.iter().all(|edge| edge["cursor"].is_string()));
    let mut roles: Vec<&str> = data["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|role| role["name"].as_str().expect("a role name"))
        .collect();
    roles.sort_unstable();
    assert_eq!(roles, ["admin", "support"], "{}", as_admin.raw_body);
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
