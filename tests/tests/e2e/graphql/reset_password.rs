use super::*;

/// Resets the support user's password as `admin`; returns the new password.
async fn reset_the_support_user(app: &mut TestApp, admin: &str) -> String {
    let response = app
        .graphql(
            Some(admin),
            RESET_PASSWORD,
            json!({"i": {"id": global("User", &app.support.id)}}),
        )
        .await;
    response.body["data"]["reset_password"]["password"]
        .as_str()
        .expect("password")
        .to_owned()
}

#[tokio::test]
async fn reset_password_returns_eight_random_letters_and_digits() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let password = reset_the_support_user(&mut app, &admin).await;
    assert_eq!(password.len(), 8);
    assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
    let again = reset_the_support_user(&mut app, &admin).await;
    assert_ne!(again, password);
}

#[tokio::test]
async fn reset_password_forces_a_change_and_stores_only_a_hash() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let password = reset_the_support_user(&mut app, &admin).await;
    let stored = app.db.user_doc(app.support.id).await;
    assert!(stored.get_bool("change_password").unwrap());
    assert!(!stored.get_str("password").unwrap().contains(&password));
}

#[tokio::test]
async fn reset_password_ends_the_old_session_and_the_new_password_logs_in() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let sue = app.support_token().await;
    let password = reset_the_support_user(&mut app, &admin).await;
    assert_eq!(app.me_status(&sue).await, 401, "old session ended");
    app.login("sue", &password).await;
}

#[tokio::test]
async fn reset_password_of_an_unknown_user_is_not_found() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    assert_error(
        &app.graphql(
            Some(&admin),
            RESET_PASSWORD,
            json!({"i": {"id": global("User", &ObjectId::new())}}),
        )
        .await,
        "not_found",
    );
}

#[tokio::test]
async fn the_new_password_never_reaches_the_logs() {
    let mut app = app().await;
    let admin = app.admin_token().await;
    let password = reset_the_support_user(&mut app, &admin).await;
    let logs = app.graphql_fn.logs();
    assert!(
        !logs.contains(&password),
        "the generated password reached the logs"
    );
}
