use super::*;
use std::time::Duration;

#[tokio::test]
async fn each_refusal_denies_the_whole_stage_with_the_packages_message() {
    let (mut app, mut authorizer) =
        app_and_authorizer(&[("REQUIRE_PASSWORD_CHANGE", "true")]).await;
    let expired = expired_access_token(&app.admin.id.to_hex(), SECRET_KEY);
    let foreign = expired_access_token(
        &app.admin.id.to_hex(),
        "another-key-0123456789abcdef0123456789",
    );
    let cases = [
        (format!("Bearer {expired}"), "signature_expired"),
        ("Bearer not-a-jwt".to_owned(), "invalid_token"),
        (format!("Bearer {foreign}"), "invalid_token"),
        ("Basic cm9vdDpyb290".to_owned(), "unauthorized"),
        (String::new(), "unauthorized"),
    ];
    for (header, message) in cases {
        let mut event = example("token.json", "x");
        event["authorizationToken"] = json!(header);
        assert_denied(&answer(&mut authorizer, event).await, message);
    }
    app.db
        .set_user(app.support.id, doc! {"change_password": true})
        .await;
    let token = app.support_token().await;
    let pending = answer(&mut authorizer, example("token.json", &token)).await;
    assert_denied(&pending, "password_change_required");
}

#[tokio::test]
async fn a_logged_out_token_is_refused_on_the_next_call() {
    let (mut app, mut authorizer) = app_and_authorizer(&[]).await;
    let token = app.admin_token().await;
    let before = answer(&mut authorizer, example("token.json", &token)).await;
    assert_eq!(before["principalId"], app.admin.id.to_hex());
    assert_eq!(app.logout(&token).await.status, 200);
    assert_denied(
        &answer(&mut authorizer, example("token.json", &token)).await,
        "unauthorized",
    );
}

#[tokio::test]
async fn a_deactivated_or_deleted_users_token_is_refused() {
    let (mut app, mut authorizer) = app_and_authorizer(&[]).await;
    let sue = app.support_token().await;
    let root = app.admin_token().await;
    app.db
        .set_user(app.support.id, doc! {"active": false})
        .await;
    assert_denied(
        &answer(&mut authorizer, example("token.json", &sue)).await,
        "unauthorized",
    );
    app.db.delete_user(app.admin.id).await;
    assert_denied(
        &answer(&mut authorizer, example("request.json", &root)).await,
        "unauthorized",
    );
}

#[tokio::test]
async fn an_http_api_refusal_is_not_authorized_with_the_message() {
    let (_app, mut authorizer) = app_and_authorizer(&[]).await;
    let answer = answer(&mut authorizer, example("http-api.json", "garbage")).await;
    assert_eq!(
        answer,
        json!({"isAuthorized": false, "context": {"message": "invalid_token"}})
    );
}

#[tokio::test]
async fn a_refusal_is_logged_once_with_its_reason_route_and_source_ip() {
    let (_app, mut authorizer) = app_and_authorizer(&[]).await;
    answer(&mut authorizer, example("request.json", "garbage")).await;
    assert!(
        authorizer
            .wait_for_log(Duration::from_secs(5), |line| line
                .contains("authorization_denied"))
            .await
    );
    let denied: Vec<Value> = authorizer
        .log_records()
        .into_iter()
        .filter(|record| record["event"] == "authorization_denied")
        .collect();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0]["reason"], "invalid_token");
    assert_eq!(denied[0]["route"], "GET /orders/42");
    assert_eq!(denied[0]["source_ip"], "198.51.100.7");
    assert!(!authorizer.logs().contains("garbage"));
}

#[tokio::test]
async fn a_database_outage_fails_the_invocation_rather_than_refusing() {
    let app = TestApp::with_env(&[e2e::app::ANY_ROLE]).await;
    let mut authorizer = app.start("authorizer").await;
    let mut app = app;
    let token = app.admin_token().await;
    // The same function, its database gone: a port nothing listens on.
    let port = e2e::mongo_server::free_port().expect("a port");
    let uri = e2e::mongo_server::uri_for(port);
    drop(authorizer);
    authorizer = app.start_with("authorizer", &[("MONGODB_URI", &uri)]).await;
    let failed = authorizer.invoke_json(example("token.json", &token)).await;
    let err = failed.expect_err("an invocation error, for API Gateway's AUTHORIZER_FAILURE");
    assert_eq!(err["errorType"], "AuthorizerError", "{err}");
    assert!(!err.to_string().contains(&token));
}
