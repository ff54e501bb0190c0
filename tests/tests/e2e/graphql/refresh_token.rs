use super::*;

/// The response carries a new token pair from `refresh_token`.
fn assert_new_pair(response: &LambdaResponse) {
    assert!(
        response.body["data"]["refresh_token"]["access_token"].is_string(),
        "{}",
        response.raw_body
    );
}

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
