use super::*;

/// Moves the login time of every session `minutes` into the past.
async fn started_minutes_ago(app: &TestApp, minutes: i64) {
    let at = DateTime::from_millis(DateTime::now().timestamp_millis() - minutes * 60_000);
    app.db
        .set_where("session_meta", doc! {}, doc! { "started_at": at })
        .await;
}

#[tokio::test]
async fn a_session_past_its_maximum_age_refreshes_no_more_and_its_entry_goes() {
    let mut app = TestApp::with_env(&[ANY_ROLE, ("SESSION_MAX_MINUTES", "60")]).await;
    let (access, refresh) = app.login("sue", "current").await;
    started_minutes_ago(&app, 61).await;
    assert_unauthorized(&app.refresh(&refresh).await);
    assert!(app.db.sessions().await.is_empty());
    assert!(app.db.session_metas().await.is_empty());
    assert_eq!(app.me_status(&access).await, 401);
    let ended = app.wait_for_events("session_ended", 1).await;
    assert_eq!(ended.len(), 1, "{}", app.all_logs());
    assert_eq!(ended[0]["reason"], "max_lifetime");
}

#[tokio::test]
async fn the_login_time_survives_refreshes() {
    let mut app = TestApp::with_env(&[ANY_ROLE, ("SESSION_MAX_MINUTES", "60")]).await;
    let (_, refresh) = app.login("sue", "current").await;
    started_minutes_ago(&app, 59).await;
    let (_, refresh) = new_pair(&app.refresh(&refresh).await);
    started_minutes_ago(&app, 61).await;
    // Had the refresh restarted the clock this one would pass.
    assert_unauthorized(&app.refresh(&refresh).await);
}

#[tokio::test]
async fn the_ttl_indexes_remove_a_session_at_its_cap_when_that_comes_before_refresh_expiry() {
    // Refresh tokens live 7 days by default; the cap here is 1 minute.
    let mut app = TestApp::with_env(&[ANY_ROLE, ("SESSION_MAX_MINUTES", "1")]).await;
    app.login("sue", "current").await;
    let meta = app.db.session_metas().await.remove(0);
    let started = meta.get_datetime("started_at").unwrap().timestamp_millis();
    let expires = meta.get_datetime("expires_at").unwrap().timestamp_millis();
    assert_eq!(expires - started, 60_000);
    // The whitelist's TTL index sweeps `created_at` + 7 days: the same moment.
    let entry = app.db.sessions().await.remove(0);
    let created = entry.get_datetime("created_at").unwrap().timestamp_millis();
    assert_eq!(created + 7 * 24 * 3_600_000, expires);
}

#[tokio::test]
async fn the_ttl_indexes_remove_a_session_at_refresh_expiry_when_that_comes_first() {
    let mut app = app().await;
    let (_, refresh) = app.login("sue", "current").await;
    new_pair(&app.refresh(&refresh).await);
    let meta = app.db.session_metas().await.remove(0);
    let refreshed = meta
        .get_datetime("refreshed_at")
        .unwrap()
        .timestamp_millis();
    let expires = meta.get_datetime("expires_at").unwrap().timestamp_millis();
    assert_eq!(expires - refreshed, 7 * 24 * 3_600_000);
    let entry = app.db.sessions().await.remove(0);
    assert_eq!(
        entry.get_datetime("created_at").unwrap().timestamp_millis(),
        refreshed
    );
    let indexes = app
        .db
        .db
        .collection::<mongodb::bson::Document>("session_meta")
        .list_index_names()
        .await
        .unwrap();
    assert!(
        indexes.iter().any(|name| name == "expires_at_1"),
        "{indexes:?}"
    );
}

#[tokio::test]
async fn a_session_the_python_service_opened_gets_a_start_at_first_use() {
    let mut app = TestApp::with_env(&[ANY_ROLE, ("SESSION_MAX_MINUTES", "60")]).await;
    let access = uuid::Uuid::new_v4().to_string();
    let refresh_id = uuid::Uuid::new_v4().to_string();
    app.db.whitelist(app.support.id, &access, &refresh_id).await;
    let refresh = e2e::helpers::sign_hs256(
        &json!({"exp": e2e::helpers::now() + 600, "uuid": refresh_id}),
        e2e::SECRET_KEY,
    );
    let (_, next) = new_pair(&app.refresh(&refresh).await);
    let metas = app.db.session_metas().await;
    assert_eq!(metas.len(), 1);
    assert!(app.db.sessions().await[0]
        .get_datetime("created_at")
        .is_ok());
    // From now on it is capped like any other.
    started_minutes_ago(&app, 61).await;
    assert_unauthorized(&app.refresh(&next).await);
    assert!(app.db.sessions().await.is_empty());
}
