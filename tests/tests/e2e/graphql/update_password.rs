use super::*;

#[tokio::test]
async fn each_refusal_gets_the_python_message() {
    let mut app = app().await;
    let token = app.support_token().await;
    let cases = [
        (
            json!({"current_password": "current", "new_password": "new-pass-1", "password_confirmed": "new-pass-2"}),
            "Passwords don't match",
        ),
        (
            json!({"current_password": "wrong", "new_password": "new-pass-1", "password_confirmed": "new-pass-1"}),
            "Current password don't match",
        ),
        (
            json!({"current_password": "current", "new_password": "current", "password_confirmed": "current"}),
            "bad_request",
        ),
        (
            json!({"current_password": "current", "new_password": "short", "password_confirmed": "short"}),
            "bad_request",
        ),
        (
            json!({"current_password": "current", "new_password": "has space s", "password_confirmed": "has space s"}),
            "bad_request",
        ),
    ];
    for (input, message) in cases {
        let response = app
            .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": input}))
            .await;
        assert_error(&response, message);
        assert_eq!(response.body["data"]["update_password"], Value::Null);
    }
}

#[tokio::test]
async fn a_bad_request_names_the_broken_rule_in_the_extensions() {
    let mut app = app().await;
    let token = app.support_token().await;
    let short = app
        .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current", "new_password": "short", "password_confirmed": "short"}}))
        .await;
    assert_eq!(
        short.body["errors"][0]["extensions"]["errors"],
        json!({"new_password": ["min length is 8"]})
    );
}

#[tokio::test]
async fn the_current_password_as_the_new_one_is_refused_and_kept() {
    let mut app = app().await;
    let token = app.support_token().await;
    // Same as current, once the current one is long enough to pass the rules.
    let hash = shared::auth::password::hash("current-long").unwrap();
    app.db
        .set_user(app.support.id, doc! {"password": hash})
        .await;
    let same = app
        .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current-long", "new_password": "current-long", "password_confirmed": "current-long"}}))
        .await;
    assert_error(&same, "The new password is equal as the current password");
    // The refusal did not change the stored hash.
    assert!(
        shared::auth::password::verify(
            "current-long",
            app.db
                .user_doc(app.support.id)
                .await
                .get_str("password")
                .unwrap()
        ) != shared::auth::password::Verdict::Mismatch
    );
}

/// The support user, flagged to change their password, signed in twice; the
/// password changed through the first session. Returns (the session used,
/// the other access token, the other refresh token).
async fn changed_with_another_session_open(app: &mut TestApp) -> (String, String, String) {
    app.db
        .set_user(app.support.id, doc! {"change_password": true})
        .await;
    let (other_access, other_refresh) = app.login("sue", "current").await;
    let token = app.support_token().await;
    let response = app
        .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current", "new_password": "brand-new-1", "password_confirmed": "brand-new-1"}}))
        .await;
    assert_eq!(
        response.body,
        json!({"data": {"update_password": {"ok": true}}}),
        "{}",
        response.raw_body
    );
    (token, other_access, other_refresh)
}

#[tokio::test]
async fn a_password_change_clears_the_change_password_flag() {
    let mut app = app().await;
    changed_with_another_session_open(&mut app).await;
    assert!(!app
        .db
        .user_doc(app.support.id)
        .await
        .get_bool("change_password")
        .unwrap());
}

#[tokio::test]
async fn a_password_change_keeps_the_session_in_use() {
    let mut app = app().await;
    let (token, _, _) = changed_with_another_session_open(&mut app).await;
    let me = app
        .graphql(
            Some(&token),
            "{ me { username change_password } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me.body["data"]["me"],
        json!({"username": "sue", "change_password": false})
    );
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_refresh_token_included() {
    let mut app = app().await;
    let (_, other_access, other_refresh) = changed_with_another_session_open(&mut app).await;
    let stale = app
        .graphql(Some(&other_access), "{ me { username } }", json!({}))
        .await;
    assert_eq!(stale.status, 401);
    assert_eq!(stale.body, json!({"message": "unauthorized"}));
    let refresh = app
        .graphql(
            None,
            REFRESH,
            json!({"i": {"refresh_token": other_refresh}}),
        )
        .await;
    assert_error(&refresh, "unauthorized");
}

#[tokio::test]
async fn a_pending_password_change_allows_only_update_password_and_me() {
    let mut app = TestApp::with_env(&[ANY_ROLE, ("REQUIRE_PASSWORD_CHANGE", "true")]).await;
    app.db
        .set_user(app.support.id, doc! {"change_password": true})
        .await;
    let token = app.support_token().await;
    let me = app
        .graphql(
            Some(&token),
            "{ me { username change_password } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me.body["data"]["me"],
        json!({"username": "sue", "change_password": true}),
        "{}",
        me.raw_body
    );
    let other = app
        .graphql(
            Some(&token),
            "{ me { username } roles { name } }",
            json!({}),
        )
        .await;
    assert_eq!(other.status, 401);
    assert_eq!(other.body, json!({"message": "password_change_required"}));
    let change = app
        .graphql(Some(&token), UPDATE_PASSWORD, json!({"i": {"current_password": "current", "new_password": "brand-new-1", "password_confirmed": "brand-new-1"}}))
        .await;
    assert_eq!(
        change.body["data"]["update_password"]["ok"], true,
        "{}",
        change.raw_body
    );
    let after = app
        .graphql(Some(&token), "{ me { username } }", json!({}))
        .await;
    assert_eq!(after.status, 200);
}
