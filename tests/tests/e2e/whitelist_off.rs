//! `WHITE_LIST_TOKEN=false` across the API: nothing is stored per session, so
//! tokens live by their signature and expiry alone, and a refresh token names
//! its own user (`sub`): an access token sent along can restrict a refresh,
//! never lend it an identity.

use e2e::app::REFRESH_QUERY;
use e2e::db::claims;
use e2e::helpers::{expired_access_token, now, sign_hs256};
use e2e::{LambdaResponse, TestApp, SECRET_KEY};
use serde_json::{json, Value};

const WHITELIST_OFF: (&str, &str) = ("WHITE_LIST_TOKEN", "false");

async fn app() -> TestApp {
    TestApp::with_env(&[WHITELIST_OFF, e2e::app::ANY_ROLE]).await
}

async fn refresh_with(app: &mut TestApp, access: Option<&str>, refresh: &str) -> LambdaResponse {
    app.graphql(access, REFRESH_QUERY, json!({"r": refresh}))
        .await
}

/// The new access token's `sub`, or the error message.
fn outcome(response: &LambdaResponse) -> Result<String, String> {
    assert_eq!(response.status, 200, "{}", response.raw_body);
    match response.body["data"]["refresh_token"]["access_token"].as_str() {
        Some(token) => Ok(claims(token)["sub"].as_str().unwrap_or("").to_owned()),
        None => Err(response.body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned()),
    }
}

/// A refresh token as the Python service signs one: `exp` and `uuid`, no `sub`.
fn python_refresh_token() -> String {
    sign_hs256(
        &json!({"exp": now() + 3600, "uuid": "0b4d3f5e-python-refresh"}),
        SECRET_KEY,
    )
}

#[tokio::test]
async fn the_guard_accepts_a_login_token_with_nothing_stored() {
    let mut app = app().await;
    let (access, _) = app.login("sue", "current").await;
    assert_eq!(app.me_status(&access).await, 200);
    assert!(app.db.sessions().await.is_empty());
    assert!(app.db.session_metas().await.is_empty());
}

#[tokio::test]
async fn a_refresh_token_issued_here_names_its_user() {
    let mut app = app().await;
    let (_, refresh) = app.login("sue", "current").await;
    assert_eq!(
        claims(&refresh)["sub"].as_str(),
        Some(app.support.id.to_hex().as_str())
    );
}

#[tokio::test]
async fn ones_own_refresh_token_refreshes_alone_or_with_ones_own_access_token() {
    let mut app = app().await;
    let (access, refresh) = app.login("sue", "current").await;
    let sue = app.support.id.to_hex();
    assert_eq!(
        outcome(&refresh_with(&mut app, None, &refresh).await),
        Ok(sue.clone())
    );
    let expired = expired_access_token(&sue, SECRET_KEY);
    assert_eq!(
        outcome(&refresh_with(&mut app, Some(&expired), &refresh).await),
        Ok(sue.clone())
    );
    assert_eq!(
        outcome(&refresh_with(&mut app, Some(&access), &refresh).await),
        Ok(sue)
    );
}

#[tokio::test]
async fn an_expired_admin_access_token_lends_no_identity_to_another_users_refresh_token() {
    let mut app = app().await;
    let (_, refresh) = app.login("sue", "current").await;
    let admin = expired_access_token(&app.admin.id.to_hex(), SECRET_KEY);
    let response = refresh_with(&mut app, Some(&admin), &refresh).await;
    assert_eq!(outcome(&response), Err("unauthorized".to_owned()));
}

#[tokio::test]
async fn a_live_access_token_of_another_user_is_refused_with_a_refresh_token() {
    let mut app = app().await;
    let (_, refresh) = app.login("sue", "current").await;
    let admin = app.admin_token().await;
    let response = refresh_with(&mut app, Some(&admin), &refresh).await;
    assert_eq!(outcome(&response), Err("unauthorized".to_owned()));
}

#[tokio::test]
async fn a_python_refresh_token_refreshes_only_with_a_live_access_token() {
    let mut app = app().await;
    let python = python_refresh_token();
    let (access, _) = app.login("sue", "current").await;
    let sue = app.support.id.to_hex();
    assert_eq!(
        outcome(&refresh_with(&mut app, Some(&access), &python).await),
        Ok(sue.clone())
    );
    let expired = expired_access_token(&sue, SECRET_KEY);
    assert_eq!(
        outcome(&refresh_with(&mut app, Some(&expired), &python).await),
        Err("unauthorized".to_owned())
    );
    assert_eq!(
        outcome(&refresh_with(&mut app, None, &python).await),
        Err("unauthorized".to_owned())
    );
}

#[tokio::test]
async fn a_deactivated_users_refresh_token_is_refused() {
    let mut app = app().await;
    let (_, refresh) = app.login("sue", "current").await;
    app.db
        .set_user(app.support.id, mongodb::bson::doc! { "active": false })
        .await;
    let response = refresh_with(&mut app, None, &refresh).await;
    assert_eq!(outcome(&response), Err("unauthorized".to_owned()));
}

#[tokio::test]
async fn logout_answers_ok_and_the_token_lives_to_its_expiry_as_at_the_package() {
    // Without the whitelist there is nothing to remove: the Python package's
    // logout answers ok the same way, and the token stays valid until `exp`.
    let mut app = app().await;
    let (access, _) = app.login("sue", "current").await;
    let response = app.logout(&access).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(app.me_status(&access).await, 200);
}

#[tokio::test]
async fn the_session_list_is_empty_and_ending_other_sessions_ends_none() {
    let mut app = app().await;
    let (access, _) = app.login("sue", "current").await;
    let sessions: Vec<Value> = app.sessions(&access).await;
    assert!(sessions.is_empty(), "{sessions:?}");
    let response = app.end_other_sessions(&access).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert!(response.body["errors"].is_null(), "{}", response.raw_body);
    assert_eq!(app.me_status(&access).await, 200);
}
