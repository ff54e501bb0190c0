use super::*;

#[tokio::test]
async fn sessions_lists_exactly_the_live_sessions_with_the_callers_marked_current() {
    let mut app = app().await;
    let (phone, _) = app
        .login_from("sue", "current", "198.51.100.7", "Phone/1.0")
        .await;
    let (ended, _) = app.login("sue", "current").await;
    let (_, refresh) = app
        .login_from("sue", "current", "203.0.113.9", "Laptop/2.0")
        .await;
    app.logout(&ended).await;
    let (laptop, _) = new_pair(&app.refresh(&refresh).await);
    app.login("root", "root-password").await;

    let sessions = app.sessions(&laptop).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], "Laptop/2.0");
    assert_eq!(current[0]["source_ip"], "203.0.113.9");
    assert!(current[0]["refreshed_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["user_agent"], "Phone/1.0");
    assert_eq!(other["source_ip"], "198.51.100.7");
    assert_eq!(other["refreshed_at"], Value::Null);
    let created = other["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.contains('T'), "{created}");
    let id = ::graphql::ids::session_id(other["id"].as_str().unwrap()).unwrap();
    assert_eq!(app.sessions(&phone).await.len(), 2);
    assert!(app
        .db
        .sessions()
        .await
        .iter()
        .any(|s| s.get_object_id("_id").unwrap().to_hex() == id.to_hex()));
}

#[tokio::test]
async fn a_long_user_agent_is_kept_to_256_characters() {
    let mut app = app().await;
    let agent = "é".repeat(300);
    let (token, _) = app.login_from("sue", "current", "192.0.2.1", &agent).await;
    let sessions = app.sessions(&token).await;
    let kept = sessions[0]["user_agent"].as_str().unwrap();
    assert_eq!(kept.chars().count(), 256);
    assert!(agent.starts_with(kept));
}

#[tokio::test]
async fn a_session_the_python_service_opened_is_listed_with_unknown_origin_and_gets_a_start() {
    let mut app = app().await;
    let (token, _) = app.login("sue", "current").await;
    app.db
        .whitelist(app.support.id, "py-access", "py-refresh")
        .await;
    let sessions = app.sessions(&token).await;
    assert_eq!(sessions.len(), 2);
    let python = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(python["source_ip"], Value::Null);
    assert_eq!(python["user_agent"], Value::Null);
    assert!(python["created_at"].is_string());
    // Swept: it has a `created_at` now, so the TTL index applies to it.
    let entries = app.db.sessions().await;
    assert!(entries.iter().all(|e| e.get_datetime("created_at").is_ok()));
}

#[tokio::test]
async fn an_admin_sees_another_users_sessions_and_a_plain_user_does_not() {
    let mut app = app().await;
    let (sue, _) = app.login("sue", "current").await;
    let admin = app.admin_token().await;
    let query = "query($id: ID!) { user(id: $id) { sessions { id current } } }";
    let variables = json!({"id": app.support.id.to_hex()});
    let seen = app.graphql(Some(&admin), query, variables.clone()).await;
    let sessions = seen.body["data"]["user"]["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{}", seen.raw_body);
    assert_eq!(sessions[0]["current"], false);
    let me = app
        .graphql(Some(&sue), "{ me { sessions { id current } } }", json!({}))
        .await;
    assert_eq!(
        me.body["data"]["me"]["sessions"][0]["current"], true,
        "{}",
        me.raw_body
    );
    let admin_id = json!({"id": app.admin.id.to_hex()});
    // A support user can't reach `user` by default; with `user` opened to
    // them, another user's sessions stay closed.
    let mut open = app
        .start_with(
            "graphql",
            &[(
                "GRAPHQL_ACCESS_CONTROL",
                r#"[{"query":"user","roles":["support"]}]"#,
            )],
        )
        .await;
    let refused = open
        .invoke(graphql_request(Some(&sue), query, admin_id).event(Payload::RestV1))
        .await;
    assert_eq!(
        refused.body["errors"][0]["message"], "unauthorized",
        "{}",
        refused.raw_body
    );
}
