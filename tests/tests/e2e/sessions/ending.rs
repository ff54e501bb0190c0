use super::*;

#[tokio::test]
async fn end_session_ends_ones_own_other_session() {
    let mut app = app().await;
    let (other, other_refresh) = app.login("sue", "current").await;
    let (token, _) = app.login("sue", "current").await;
    let id = app
        .sessions(&token)
        .await
        .into_iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .clone();
    let response = app.end_session(&token, &id).await;
    assert_eq!(
        response.body["data"]["end_session"]["ok"], true,
        "{}",
        response.raw_body
    );
    assert_eq!(app.me_status(&other).await, 401);
    assert_unauthorized(&app.refresh(&other_refresh).await);
    assert_eq!(app.me_status(&token).await, 200);
    assert_eq!(app.db.session_metas().await.len(), 1);
}

#[tokio::test]
async fn end_session_on_another_users_session_is_refused_to_a_plain_user_and_changes_nothing() {
    let mut app = app().await;
    let (root, _) = app.login("root", "root-password").await;
    let (sue, _) = app.login("sue", "current").await;
    let id = app.sessions(&root).await[0]["id"].clone();
    let response = app.end_session(&sue, &id).await;
    assert_eq!(
        response.body["errors"][0]["message"], "unauthorized",
        "{}",
        response.raw_body
    );
    assert_eq!(app.me_status(&root).await, 200);
    assert_eq!(app.db.sessions().await.len(), 2);
}

#[tokio::test]
async fn end_session_on_another_users_session_is_allowed_to_an_admin() {
    let mut app = app().await;
    let (sue, _) = app.login("sue", "current").await;
    let id = app.sessions(&sue).await[0]["id"].clone();
    let admin = app.admin_token().await;
    let response = app.end_session(&admin, &id).await;
    assert_eq!(
        response.body["data"]["end_session"]["ok"], true,
        "{}",
        response.raw_body
    );
    assert_eq!(app.me_status(&sue).await, 401);
    let ended = app.wait_for_events("session_ended", 1).await;
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0]["user_id"], app.support.id.to_hex());
    assert_eq!(ended[0]["actor"], "root");
}

#[tokio::test]
async fn end_session_with_a_bad_id_is_id_not_valid() {
    let mut app = app().await;
    let (sue, _) = app.login("sue", "current").await;
    let response = app.end_session(&sue, &json!("nope")).await;
    assert_eq!(
        response.body["errors"][0]["message"], "id_not_valid",
        "{}",
        response.raw_body
    );
}

#[tokio::test]
async fn end_other_sessions_keeps_only_the_current_one() {
    let mut app = app().await;
    let (first, _) = app.login("sue", "current").await;
    let (second, second_refresh) = app.login("sue", "current").await;
    let (root, _) = app.login("root", "root-password").await;
    let (token, _) = app.login("sue", "current").await;
    let response = app.end_other_sessions(&token).await;
    assert_eq!(
        response.body["data"]["end_other_sessions"]["ok"], true,
        "{}",
        response.raw_body
    );
    assert_eq!(app.me_status(&first).await, 401);
    assert_eq!(app.me_status(&second).await, 401);
    assert_unauthorized(&app.refresh(&second_refresh).await);
    assert_eq!(app.me_status(&token).await, 200);
    assert_eq!(app.me_status(&root).await, 200);
    let sessions = app.sessions(&token).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["current"], true);
    let ended = app.wait_for_events("sessions_ended", 1).await;
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0]["count"], 2);
}
