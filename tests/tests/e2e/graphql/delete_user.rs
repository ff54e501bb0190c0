use super::*;

/// Deletes the support user (signed in) as the admin; returns (the admin's
/// token, the support user's token, the deletion's answer).
async fn delete_the_support_user(app: &mut TestApp) -> (String, String, LambdaResponse) {
    let admin = app.admin_token().await;
    let sue = app.support_token().await;
    let id = global("User", &app.support.id);
    let response = app
        .graphql(Some(&admin), DELETE_USER, json!({"i": {"id": id}}))
        .await;
    (admin, sue, response)
}

#[tokio::test]
async fn delete_user_removes_the_user_and_their_sessions() {
    let mut app = app().await;
    let (_, sue, response) = delete_the_support_user(&mut app).await;
    assert_eq!(
        response.body,
        json!({"data": {"delete_user": {"ok": true}}}),
        "{}",
        response.raw_body
    );
    assert_eq!(app.me_status(&sue).await, 401);
    assert_eq!(
        app.db.sessions().await.len(),
        1,
        "only the admin's session is left"
    );
}

#[tokio::test]
async fn deleting_a_deleted_user_is_not_found() {
    let mut app = app().await;
    let (admin, _, _) = delete_the_support_user(&mut app).await;
    let id = global("User", &app.support.id);
    assert_error(
        &app.graphql(Some(&admin), DELETE_USER, json!({"i": {"id": id}}))
            .await,
        "not_found",
    );
}

#[tokio::test]
async fn delete_user_with_a_malformed_id_is_id_not_valid() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    assert_error(
        &app.graphql(Some(&admin), DELETE_USER, json!({"i": {"id": "zzz"}}))
            .await,
        "id_not_valid",
    );
}
