// #12.4: a password change, a reset, a deactivation or a deletion ends the
// sessions before it writes the user, so when the database dies between the two
// writes no session (perhaps an attacker's) outlives the attempt. A proxy in
// front of the database drops the connection on the write to `user`.

use super::*;
use e2e::proxy::{command_on, mongodb_address, Proxy};

/// The app with its functions behind a proxy that kills the connection on
/// any `command` on collection `user` (its own writes go straight to the
/// database), the proxy kept alive beside it.
async fn app_dying_on(command: &str) -> (TestApp, Proxy) {
    let upstream = mongodb_address(&e2e::mongo_server::uri());
    let proxy = Proxy::cutting_mongodb_commands(&upstream, command_on(command, "user"));
    let uri = proxy.mongodb_uri();
    let app = TestApp::with_env(&[ANY_ROLE, ("MONGODB_URI", uri.as_str())]).await;
    (app, proxy)
}

fn assert_failed(response: &LambdaResponse, field: &str) {
    assert!(
        response.body["data"][field].is_null() && !error_messages(response).is_empty(),
        "the write went through: {}",
        response.raw_body
    );
}

/// Sue signs in, then the admin runs `mutation` on her (`fields` beside her
/// id in the input) while the database connection dies on `command` to
/// `user`: the app, its proxy and the admin's answer.
async fn admin_cut_off_on_sue(
    command: &str,
    mutation: &str,
    fields: Value,
) -> (TestApp, Proxy, LambdaResponse) {
    let (mut app, proxy) = app_dying_on(command).await;
    app.support_token().await;
    let admin = app.admin_token().await;
    let mut input = json!({"id": global("User", &app.support.id)});
    if let (Some(input), Value::Object(fields)) = (input.as_object_mut(), fields) {
        input.extend(fields);
    }
    let response = app
        .graphql(Some(&admin), mutation, json!({ "i": input }))
        .await;
    (app, proxy, response)
}

#[tokio::test]
async fn a_password_change_cut_off_before_the_write_leaves_only_the_session_in_use() {
    let (mut app, _proxy) = app_dying_on("update").await;
    app.login("sue", "current").await;
    let token = app.support_token().await;
    let response = app
        .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current", "new_password": "brand-new-1", "password_confirmed": "brand-new-1"}}))
        .await;
    assert_failed(&response, "update_password");
    assert_eq!(
        app.db.sessions().await.len(),
        1,
        "the other session lives on"
    );
    let stored = app.db.user_doc(app.support.id).await;
    assert_ne!(
        shared::auth::password::verify("current", stored.get_str("password").unwrap()),
        shared::auth::password::Verdict::Mismatch,
        "the new hash was written after all"
    );
}

#[tokio::test]
async fn a_reset_cut_off_before_the_write_leaves_no_session() {
    let (app, _proxy, response) = admin_cut_off_on_sue("update", RESET_PASSWORD, json!({})).await;
    assert_failed(&response, "reset_password");
    let sessions = app.db.sessions().await;
    assert_eq!(sessions.len(), 1, "only the admin's session: {sessions:?}");
    assert!(!app
        .db
        .user_doc(app.support.id)
        .await
        .get_bool("change_password")
        .unwrap());
}

#[tokio::test]
async fn a_deactivation_cut_off_before_the_write_leaves_no_session() {
    let (app, _proxy, response) = admin_cut_off_on_sue(
        "update",
        UPDATE_USER,
        json!({"change_password": false, "active": false}),
    )
    .await;
    assert_failed(&response, "update_user");
    assert_eq!(app.db.sessions().await.len(), 1, "only the admin's session");
    assert!(app
        .db
        .user_doc(app.support.id)
        .await
        .get_bool("active")
        .unwrap());
}

#[tokio::test]
async fn a_deletion_cut_off_before_the_write_leaves_no_session() {
    let (app, _proxy, response) = admin_cut_off_on_sue("delete", DELETE_USER, json!({})).await;
    assert_failed(&response, "delete_user");
    assert_eq!(app.db.sessions().await.len(), 1, "only the admin's session");
    assert_eq!(app.db.count_users(doc! {"username": "sue"}).await, 1);
}
