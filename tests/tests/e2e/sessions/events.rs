use super::*;

/// Every mutation of the admin, as `root`.
async fn admin_does(app: &mut TestApp, token: &str, query: &str, variables: Value) -> Value {
    let response = app.graphql(Some(token), query, variables).await;
    assert!(
        response.body.get("errors").is_none(),
        "{query}: {}",
        response.raw_body
    );
    response.body["data"].clone()
}

/// The first record of `event`, after checking there are `count` and it
/// carries the request's origin and each of `fields`.
async fn logged(app: &TestApp, event: &str, count: usize, fields: &[&str]) -> Value {
    let records = app.wait_for_events(event, count).await;
    assert_eq!(records.len(), count, "{event}:\n{}", app.all_logs());
    let record = records[0].clone();
    for field in ["source_ip", "request_id"].iter().chain(fields) {
        assert!(
            record[*field].as_str().is_some_and(|v| !v.is_empty()),
            "{event} has no {field}: {record}"
        );
    }
    record
}

#[tokio::test]
async fn every_auth_event_is_logged_once_per_action_with_its_fields_and_no_secret() {
    let mut app = app().await;
    let mut secrets: Vec<String> = vec![
        e2e::SECRET_KEY.to_owned(),
        "$argon2".to_owned(),
        "sue-wrong-guess".to_owned(),
        "root-password".to_owned(),
        "ella-password-1".to_owned(),
        "ella-password-2".to_owned(),
    ];
    let failed = app
        .post_login(
            Payload::RestV1,
            &json!({"username": "sue", "password": "sue-wrong-guess"}),
        )
        .await;
    assert_eq!(failed.status, 400);
    let (admin, admin_refresh) = app.login("root", "root-password").await;
    secrets.extend([admin.clone(), admin_refresh]);
    let created = admin_does(
        &mut app,
        &admin,
        "mutation { create_user(input: {username: \"ella\", password: \"ella-password-1\", \
         password_confirmed: \"ella-password-1\", role: \"support\"}) { user { id } } }",
        json!({}),
    )
    .await;
    let ella = created["create_user"]["user"]["id"].clone();

    let (a1, r1) = app.login("ella", "ella-password-1").await;
    let (a2, r2) = app.login("ella", "ella-password-1").await;
    let (a3, r3) = new_pair(&app.refresh(&r1).await);
    let (a4, r4) = new_pair(&app.refresh(&r3).await);
    assert_unauthorized(&app.refresh(&r1).await);
    let (a5, r5) = app.login("ella", "ella-password-1").await;
    let (a6, r6) = app.login("ella", "ella-password-1").await;
    secrets.extend([a1, r1, a2, r2, a3, r3, a4, r4, a5, r5, a6.clone(), r6]);
    let fifth = app
        .sessions(&a6)
        .await
        .into_iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .clone();
    assert_eq!(app.end_session(&a6, &fifth).await.status, 200);
    let others = app.end_other_sessions(&a6).await;
    assert_eq!(others.body["data"]["end_other_sessions"]["ok"], true);
    let changed = app
        .graphql(
            Some(&a6),
            "mutation { update_password(input: {current_password: \"ella-password-1\", \
             new_password: \"ella-password-2\", password_confirmed: \"ella-password-2\"}) { ok } }",
            json!({}),
        )
        .await;
    assert_eq!(
        changed.body["data"]["update_password"]["ok"], true,
        "{}",
        changed.raw_body
    );
    assert_eq!(app.logout(&a6).await.status, 200);

    let id = json!({"id": ella});
    admin_does(&mut app, &admin, "mutation($id: ID!) { update_user(input: {id: $id, change_password: true}) { user { id } } }", id.clone()).await;
    let reset = admin_does(
        &mut app,
        &admin,
        "mutation($id: ID!) { reset_password(input: {id: $id}) { password } }",
        id.clone(),
    )
    .await;
    secrets.push(
        reset["reset_password"]["password"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    admin_does(
        &mut app,
        &admin,
        "mutation($id: ID!) { delete_user(input: {id: $id}) { ok } }",
        id,
    )
    .await;

    let failed = logged(&app, "login_failed", 1, &["username", "reason"]).await;
    assert_eq!(failed["reason"], "wrong_password");
    let user = &["user_id", "username", "session_id"];
    logged(&app, "login_succeeded", 5, user).await;
    logged(&app, "token_refreshed", 2, user).await;
    logged(&app, "refresh_token_reused", 1, user).await;
    logged(&app, "session_ended", 1, user).await;
    let ended = logged(&app, "sessions_ended", 1, user).await;
    assert_eq!(ended["count"], 1);
    logged(&app, "password_changed", 1, user).await;
    logged(&app, "logout", 1, user).await;
    let by_admin = &["user_id", "actor", "actor_id"];
    let created = logged(&app, "user_created", 1, by_admin).await;
    assert_eq!(created["username"], "ella");
    assert_eq!(created["actor"], "root");
    logged(&app, "user_updated", 1, by_admin).await;
    logged(&app, "password_reset", 1, by_admin).await;
    logged(&app, "user_deleted", 1, by_admin).await;

    let logs = app.all_logs();
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "the logs contain {secret}:\n{logs}"
        );
    }
}
