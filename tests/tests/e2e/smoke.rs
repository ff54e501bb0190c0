//! One pass through every function, a behaviour per test: what `scripts/test`
//! runs against the arm64 packages the template deploys, unpacked, under
//! qemu-user (`LAMBDA_DIR` and `LAMBDA_RUNNER`, see [`e2e::function::runner`]).
//! Statuses and bodies only: under emulation nothing here may depend on time.
//! In a plain `cargo test` they run on the debug binaries like every other test.

use e2e::TestApp;
use serde_json::{json, Value};

const ME: &str = "{ me { username role { name } } }";
const UPDATE_PASSWORD: &str =
    "mutation($i: UpdatePasswordInput!) { update_password(input: $i) { ok } }";

#[tokio::test]
async fn login_answers_a_token_pair() {
    let mut app = TestApp::spawn().await;
    let response = app
        .login_fn
        .invoke(e2e::app::login_event("root", "root-password"))
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let body = &response.body;
    assert_eq!(body["message"], "ok", "{body}");
    assert_eq!(body["data"]["token_type"], "Bearer", "{body}");
    assert_eq!(body["data"]["role"], "admin", "{body}");
    assert_eq!(body["data"]["change_password"], false, "{body}");
    assert!(body["data"]["token"].is_string(), "{body}");
    assert_eq!(
        body["data"]["access_token"], body["data"]["token"],
        "{body}"
    );
    assert!(body["data"]["refresh_token"].is_string(), "{body}");
    assert_eq!(app.db.sessions().await.len(), 1);
}

#[tokio::test]
async fn a_guarded_me_names_the_caller() {
    let mut app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let response = app.graphql(Some(&token), ME, json!({})).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(
        response.body,
        json!({"data": {"me": {"username": "root", "role": {"name": "admin"}}}})
    );
    // Without a token: GraphQL's own refusal, as the Python service answers it.
    let refused = app.graphql(None, ME, json!({})).await;
    assert_eq!(refused.status, 200, "{}", refused.raw_body);
    assert_eq!(refused.body["data"], Value::Null, "{}", refused.raw_body);
    assert_eq!(
        refused.body["errors"][0]["message"], "unauthorized",
        "{}",
        refused.raw_body
    );
}

#[tokio::test]
async fn update_password_replaces_the_password() {
    let mut app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let input = json!({"current_password": "root-password", "new_password": "brand-new-1",
                       "password_confirmed": "brand-new-1"});
    let response = app
        .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": input}))
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(
        response.body,
        json!({"data": {"update_password": {"ok": true}}})
    );
    app.login("root", "brand-new-1").await;
    let old = app
        .login_fn
        .invoke(e2e::app::login_event("root", "root-password"))
        .await;
    assert_eq!(old.status, 400, "{}", old.raw_body);
}

#[tokio::test]
async fn a_refresh_token_gets_a_new_pair_that_works() {
    let mut app = TestApp::spawn().await;
    let (access, refresh) = app.login("root", "root-password").await;
    let response = app.refresh(&refresh).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let pair = &response.body["data"]["refresh_token"];
    let new_access = pair["access_token"].as_str().unwrap_or_else(|| {
        panic!("no new access token: {}", response.raw_body);
    });
    assert!(pair["refresh_token"].is_string(), "{}", response.raw_body);
    assert_ne!(new_access, access);
    assert_eq!(app.me_status(new_access).await, 200);
    assert_eq!(app.me_status(&access).await, 401);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let mut app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let response = app.logout(&token).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(response.raw_body, r#"{"message":"ok"}"#);
    assert_eq!(app.db.sessions().await.len(), 0);
    assert_eq!(app.me_status(&token).await, 401);
}

#[tokio::test]
async fn the_authorizer_allows_a_live_token_and_denies_an_ended_one() {
    let mut app = TestApp::spawn().await;
    let mut authorizer = app.start("authorizer").await;
    let token = app.admin_token().await;
    let stage = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod";
    let event = json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"),
                       "methodArn": format!("{stage}/GET/orders/42")});
    let allowed = authorize(&mut authorizer, event.clone()).await;
    assert_eq!(allowed["principalId"], app.admin.id.to_hex(), "{allowed}");
    assert_eq!(effect(&allowed), "Allow", "{allowed}");
    assert_eq!(allowed["context"]["username"], "root", "{allowed}");
    assert_eq!(allowed["context"]["role"], "admin", "{allowed}");
    assert_eq!(app.logout(&token).await.status, 200);
    let denied = authorize(&mut authorizer, event).await;
    assert_eq!(effect(&denied), "Deny", "{denied}");
    assert_eq!(denied["context"]["message"], "unauthorized", "{denied}");
}

async fn authorize(authorizer: &mut e2e::Function, event: Value) -> Value {
    authorizer
        .invoke_json(event)
        .await
        .unwrap_or_else(|err| panic!("invocation error {err}\n{}", authorizer.logs()))
}

/// The effect of the policy's one statement.
fn effect(answer: &Value) -> &str {
    let statements = answer["policyDocument"]["Statement"].as_array();
    match statements.map(Vec::as_slice) {
        Some([statement]) => statement["Effect"].as_str().unwrap_or_default(),
        _ => panic!("not one statement: {answer}"),
    }
}
