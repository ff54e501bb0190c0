use super::*;

#[tokio::test]
async fn a_token_event_allows_every_route_of_the_role_and_names_the_caller() {
    let (mut app, mut authorizer) = app_and_authorizer(&[("ROUTE_ROLES", ORDERS)]).await;
    let token = app.admin_token().await;
    let answer = answer(&mut authorizer, example("token.json", &token)).await;
    assert_eq!(answer["principalId"], app.admin.id.to_hex());
    // Every route: ALLOWED_ROLES (`*`) admits admin, and every pattern does.
    assert_eq!(resources(&answer, "Allow"), [format!("{STAGE_ARN}/*/*")]);
    assert_eq!(resources(&answer, "Deny"), Vec::<String>::new());
    let context = &answer["context"];
    assert_eq!(context["user_id"], app.admin.id.to_hex());
    assert_eq!(context["username"], "root");
    assert_eq!(context["role"], "admin");
    let session = app.db.sessions().await[0].get_object_id("_id").unwrap();
    assert_eq!(context["session_id"], session.to_hex());
    // Strings only: API Gateway passes nothing else to the backend.
    assert!(context.as_object().unwrap().values().all(Value::is_string));
}

#[tokio::test]
async fn a_request_event_is_answered_as_a_token_event() {
    let (mut app, mut authorizer) = app_and_authorizer(&[("ROUTE_ROLES", ORDERS)]).await;
    let token = app.support_token().await;
    let answer = answer(&mut authorizer, example("request.json", &token)).await;
    assert_eq!(answer["principalId"], app.support.id.to_hex());
    assert_eq!(answer["context"]["username"], "sue");
    assert_eq!(answer["context"]["role"], "support");
}

#[tokio::test]
async fn an_http_api_event_gets_the_simple_response_with_the_same_context() {
    let (mut app, mut authorizer) = app_and_authorizer(&[("ROUTE_ROLES", ORDERS)]).await;
    let token = app.support_token().await;
    let answer = answer(&mut authorizer, example("http-api.json", &token)).await;
    assert_eq!(answer["isAuthorized"], true, "{answer}");
    assert_eq!(answer["context"]["username"], "sue");
    assert_eq!(answer["context"]["role"], "support");
    assert_eq!(answer["context"]["user_id"], app.support.id.to_hex());
    assert!(answer.get("policyDocument").is_none());
}

#[tokio::test]
async fn a_token_the_python_package_issued_passes_while_its_whitelist_entry_lives() {
    let app = TestApp::with_env(&[e2e::app::ANY_ROLE]).await;
    let mut authorizer = app.start("authorizer").await;
    // A session as the Python service writes it, and its access token.
    let uuid = "e94cdfda-ec34-11f1-89a5-02fc00000009";
    app.db
        .whitelist(app.admin.id, uuid, "e94ce16a-python-refresh")
        .await;
    let claims =
        json!({"exp": now() + 600, "iat": now(), "sub": app.admin.id.to_hex(), "uuid": uuid});
    let token = sign_hs256(&claims, SECRET_KEY);
    let allowed = answer(&mut authorizer, example("token.json", &token)).await;
    assert_eq!(allowed["principalId"], app.admin.id.to_hex(), "{allowed}");
    app.db
        .db
        .collection::<mongodb::bson::Document>("whitelist_token")
        .delete_many(doc! {"uuid_access": uuid})
        .await
        .unwrap();
    let refused = answer(&mut authorizer, example("token.json", &token)).await;
    assert_denied(&refused, "unauthorized");
}

#[tokio::test]
async fn an_allowed_request_writes_no_line_at_info() {
    let (mut app, mut authorizer) = app_and_authorizer(&[]).await;
    let token = app.admin_token().await;
    answer(&mut authorizer, example("token.json", &token)).await;
    // The debug line of an allowed request is below the default level.
    assert!(
        !authorizer.logs().contains("authorized"),
        "{}",
        authorizer.logs()
    );
}

#[tokio::test]
async fn a_token_from_the_real_python_package_passes_until_it_logs_out_there() {
    let app = TestApp::with_env(&[e2e::app::ANY_ROLE]).await;
    app.db
        .user_with_hash("pyroot", e2e::db::PYTHON_BCRYPT_HASH, app.admin_role)
        .await;
    let python = e2e::python_service::PythonService::start(&app.db).await;
    let mut authorizer = app.start("authorizer").await;
    let (access, _) = python
        .login("pyroot", e2e::db::PYTHON_BCRYPT_PASSWORD)
        .await;
    let allowed = answer(&mut authorizer, example("token.json", &access)).await;
    assert_eq!(allowed["context"]["username"], "pyroot", "{allowed}");
    let response = python.logout(&access).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let refused = answer(&mut authorizer, example("token.json", &access)).await;
    assert_denied(&refused, "unauthorized");
}
