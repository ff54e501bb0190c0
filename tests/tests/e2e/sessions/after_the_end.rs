use super::*;

#[tokio::test]
async fn the_refresh_token_of_a_logged_out_session_is_unauthorized() {
    let mut app = app().await;
    let (access, refresh) = app.login("sue", "current").await;
    assert_eq!(app.logout(&access).await.status, 200);
    assert_unauthorized(&app.refresh(&refresh).await);
    assert!(app.db.sessions().await.is_empty());
    // The side document (logout removes it too) goes with the refusal.
    assert!(app.db.session_metas().await.is_empty());
}

#[tokio::test]
async fn within_the_grace_window_an_ended_session_gives_no_pair() {
    let mut app = app().await;
    let (_, first) = app.login("sue", "current").await;
    let (access, _) = new_pair(&app.refresh(&first).await);
    assert_eq!(app.logout(&access).await.status, 200);
    assert_unauthorized(&app.refresh(&first).await);
}

#[tokio::test]
async fn a_deactivated_users_previous_token_within_grace_gives_no_pair() {
    let mut app = app().await;
    let (_, first) = app.login("sue", "current").await;
    new_pair(&app.refresh(&first).await);
    app.db
        .set_user(app.support.id, doc! {"active": false})
        .await;
    assert_unauthorized(&app.refresh(&first).await);
    assert!(app.db.sessions().await.is_empty());
}
