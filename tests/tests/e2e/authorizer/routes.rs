use super::*;
use e2e::moto_server::{create_secret, endpoint, sdk_env};

#[tokio::test]
async fn a_route_the_role_may_not_use_is_denied_in_the_policy_and_refused_when_asked() {
    let (mut app, mut authorizer) = app_and_authorizer(&[("ROUTE_ROLES", ORDERS)]).await;
    let token = app.support_token().await;
    let allowed = answer(&mut authorizer, token_event(&token, "GET", "/orders/42")).await;
    // support: every route ALLOWED_ROLES (`*`) lets it use, but the two
    // patterns that are admin's.
    assert_eq!(resources(&allowed, "Allow"), [format!("{STAGE_ARN}/*/*")]);
    let mut denied = resources(&allowed, "Deny");
    denied.sort();
    assert_eq!(
        denied,
        [
            format!("{STAGE_ARN}/*/reports/*"),
            format!("{STAGE_ARN}/POST/orders")
        ]
    );
    // Asked for a route the role may not use: the same policy (so a cached
    // answer stays right for every route), which leaves that route out, and
    // the refusal's message for the gateway response.
    for (method, path) in [("POST", "/orders"), ("DELETE", "/reports/q1/2026")] {
        let refused = answer(&mut authorizer, token_event(&token, method, path)).await;
        assert_eq!(
            refused["policyDocument"], allowed["policyDocument"],
            "{refused}"
        );
        assert_eq!(refused["principalId"], app.support.id.to_hex());
        assert_eq!(refused["context"]["message"], "unauthorized", "{refused}");
    }
    let logged = authorizer
        .wait_for_log(std::time::Duration::from_secs(5), |line| {
            line.contains("authorization_denied") && line.contains("POST /orders")
        })
        .await;
    assert!(logged, "{}", authorizer.logs());
}

#[tokio::test]
async fn a_role_that_may_use_no_route_is_denied_the_whole_stage() {
    let (mut app, mut authorizer) =
        app_and_authorizer(&[("ROUTE_ROLES", ORDERS), ("ALLOWED_ROLES", "admin")]).await;
    app.db.role("guest").await;
    let guest = app.db.role("visitor").await;
    app.db.user("vic", "vic-password", guest).await;
    let token = app.login("vic", "vic-password").await.0;
    let refused = answer(&mut authorizer, token_event(&token, "GET", "/orders/1")).await;
    assert_denied(&refused, "unauthorized");
}

#[tokio::test]
async fn without_allowed_roles_a_role_gets_only_the_patterns_that_name_it() {
    let (mut app, mut authorizer) =
        app_and_authorizer(&[("ROUTE_ROLES", ORDERS), ("ALLOWED_ROLES", "admin")]).await;
    let token = app.support_token().await;
    let allowed = answer(&mut authorizer, token_event(&token, "GET", "/orders/42")).await;
    assert_eq!(
        resources(&allowed, "Allow"),
        [format!("{STAGE_ARN}/GET/orders/*")]
    );
    // A route no pattern names needs a role in ALLOWED_ROLES.
    let other = answer(&mut authorizer, token_event(&token, "GET", "/profile")).await;
    assert_eq!(
        other["policyDocument"], allowed["policyDocument"],
        "{other}"
    );
    assert_eq!(other["context"]["message"], "unauthorized", "{other}");
}

#[tokio::test]
async fn is_authenticated_admits_any_active_user() {
    let roles = r#"{"GET /me": ["is_authenticated"]}"#;
    let (mut app, mut authorizer) =
        app_and_authorizer(&[("ROUTE_ROLES", roles), ("ALLOWED_ROLES", "admin")]).await;
    let token = app.support_token().await;
    let allowed = answer(&mut authorizer, token_event(&token, "GET", "/me")).await;
    assert_eq!(
        resources(&allowed, "Allow"),
        [format!("{STAGE_ARN}/GET/me")]
    );
}

#[tokio::test]
async fn an_http_api_judges_roles_by_the_route_key() {
    let (mut app, mut authorizer) = app_and_authorizer(&[("ROUTE_ROLES", ORDERS)]).await;
    let token = app.support_token().await;
    let get = answer(&mut authorizer, http_event(&token, "GET /orders/{id}")).await;
    assert_eq!(get["isAuthorized"], true, "{get}");
    let post = answer(&mut authorizer, http_event(&token, "POST /orders")).await;
    assert_eq!(
        post,
        json!({"isAuthorized": false, "context": {"message": "unauthorized"}})
    );
    let report = answer(&mut authorizer, http_event(&token, "ANY /reports/{proxy+}")).await;
    assert_eq!(report["isAuthorized"], false);
}

#[tokio::test]
async fn route_roles_are_read_from_the_secret() {
    let mut app = TestApp::with_env(&[e2e::app::ANY_ROLE]).await;
    let secret = create_secret(
        &json!({"SECRET_KEY": SECRET_KEY, "MONGODB_URI": app.db.uri, "ROUTE_ROLES": {"POST /orders": ["admin"]}, "ALLOWED_ROLES": "*"})
            .to_string(),
    )
    .await;
    let mut env = sdk_env(&endpoint());
    env.push(("AUTH_SECRET_ID", secret));
    env.push(("MONGODB_DATABASE", app.db.name.clone()));
    let mut authorizer = Function::start("authorizer", &env).await;
    let token = app.support_token().await;
    let refused = answer(&mut authorizer, token_event(&token, "POST", "/orders")).await;
    assert_eq!(refused["context"]["message"], "unauthorized", "{refused}");
    let allowed = answer(&mut authorizer, token_event(&token, "GET", "/orders")).await;
    assert_eq!(
        resources(&allowed, "Deny"),
        [format!("{STAGE_ARN}/POST/orders")]
    );
}

#[tokio::test]
async fn a_malformed_route_roles_stops_start_up_naming_the_setting() {
    let app = TestApp::with_env(&[]).await;
    let mut authorizer = app
        .start_with(
            "authorizer",
            &[("ROUTE_ROLES", r#"{"FETCH /orders": ["admin"]}"#)],
        )
        .await;
    assert_eq!(
        authorizer
            .exit_code(std::time::Duration::from_secs(10))
            .await,
        Some(1)
    );
    // The line may still be on its way through the reader thread.
    let named = |line: &str| line.contains("setting ROUTE_ROLES is invalid");
    let found = authorizer
        .wait_for_log(std::time::Duration::from_secs(5), named)
        .await;
    let logs = authorizer.logs();
    assert!(found, "{logs}");
    assert!(!logs.contains("FETCH"), "the value is never logged: {logs}");
}
