use super::*;

#[tokio::test]
async fn update_user_sets_the_change_password_flag() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let id = global("User", &app.support.id);
    let response = app
        .graphql(
            Some(&admin),
            UPDATE_USER,
            json!({"i": {"id": id, "change_password": true}}),
        )
        .await;
    assert_eq!(
        response.body["data"]["update_user"]["user"]["change_password"], true,
        "{}",
        response.raw_body
    );
    assert!(app
        .db
        .user_doc(app.support.id)
        .await
        .get_bool("change_password")
        .unwrap());
}

#[tokio::test]
async fn setting_the_change_password_flag_keeps_the_users_session() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let sue = app.support_token().await;
    let id = global("User", &app.support.id);
    let response = app
        .graphql(
            Some(&admin),
            UPDATE_USER,
            json!({"i": {"id": id, "change_password": true}}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    // Still signed in: only deactivation ends sessions.
    assert_eq!(app.me_status(&sue).await, 200);
}

#[tokio::test]
async fn deactivating_a_user_by_bare_id_ends_their_sessions() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let sue = app.support_token().await;
    let bare = app.support.id.to_hex();
    let response = app
        .graphql(
            Some(&admin),
            UPDATE_USER,
            json!({"i": {"id": bare, "change_password": false, "active": false}}),
        )
        .await;
    assert_eq!(
        response.body["data"]["update_user"]["user"]["active"], false,
        "{}",
        response.raw_body
    );
    assert_eq!(app.me_status(&sue).await, 401);
    assert!(app.db.sessions().await.iter().all(|s| s
        .get_document("user")
        .unwrap()
        .get_object_id("$id")
        .unwrap()
        != app.support.id));
}

#[tokio::test]
async fn update_user_of_an_unknown_user_is_not_found() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let missing = global("User", &ObjectId::new());
    assert_error(
        &app.graphql(
            Some(&admin),
            UPDATE_USER,
            json!({"i": {"id": missing, "change_password": true}}),
        )
        .await,
        "not_found",
    );
}

#[tokio::test]
async fn update_user_with_an_id_that_is_not_a_user_id_is_id_not_valid() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    for bad in ["nope", "", &global("Role", &app.support.id)] {
        assert_error(
            &app.graphql(
                Some(&admin),
                UPDATE_USER,
                json!({"i": {"id": bad, "change_password": true}}),
            )
            .await,
            "id_not_valid",
        );
    }
}
