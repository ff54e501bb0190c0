use e2e::domain::{origin, DomainApp};
use mongodb::bson::{doc, DateTime};
use shared::sessions::refresh::refresh;
use shared::ServiceError;

/// Moves a session's login time `minutes` into the past.
async fn started_minutes_ago(app: &DomainApp, refresh_id: &str, minutes: i64) {
    let started = DateTime::from_millis(DateTime::now().timestamp_millis() - minutes * 60_000);
    app.db
        .set_where(
            "session_meta",
            doc! { "refresh": refresh_id },
            doc! { "started_at": started },
        )
        .await;
}

#[tokio::test]
async fn a_session_past_its_cap_is_not_refreshed_and_ends() {
    let app = DomainApp::with(&[("SESSION_MAX_MINUTES", "60")]).await;
    let grant = app.support_login().await;
    started_minutes_ago(&app, &grant.tokens.refresh.uuid, 61).await;
    let refused = refresh(&app.app, &grant.tokens.refresh_token, None, &origin()).await;
    assert!(
        matches!(refused, Err(ServiceError::Unauthorized)),
        "{refused:?}"
    );
    assert_eq!(app.count("whitelist_token", doc! {}).await, 0);
    assert_eq!(app.count("session_meta", doc! {}).await, 0);
}

#[tokio::test]
async fn a_refresh_near_the_cap_expires_at_the_cap_not_a_refresh_lifetime_later() {
    let app = DomainApp::with(&[
        ("SESSION_MAX_MINUTES", "60"),
        ("REFRESH_TOKEN_EXPIRE_MINUTES", "30"),
    ])
    .await;
    let grant = app.support_login().await;
    started_minutes_ago(&app, &grant.tokens.refresh.uuid, 50).await;
    let before = DateTime::now().timestamp_millis();
    let pair = refresh(&app.app, &grant.tokens.refresh_token, None, &origin())
        .await
        .expect("a new pair");
    let meta = app
        .meta_with_refresh(&pair.refresh.uuid)
        .await
        .expect("a side document");
    let started = meta
        .get_datetime("started_at")
        .expect("a start")
        .timestamp_millis();
    let expires = meta
        .get_datetime("expires_at")
        .expect("an expiry")
        .timestamp_millis();
    // The cap (start + 60 min), not now + 30 min.
    assert_eq!(expires, started + 60 * 60_000);
    assert!(expires < before + 30 * 60_000);
}

#[tokio::test]
async fn without_a_cap_a_session_lives_as_long_as_it_is_refreshed() {
    let app = DomainApp::with(&[("SESSION_MAX_MINUTES", "0")]).await;
    let grant = app.support_login().await;
    started_minutes_ago(&app, &grant.tokens.refresh.uuid, 60 * 24 * 365).await;
    refresh(&app.app, &grant.tokens.refresh_token, None, &origin())
        .await
        .expect("a new pair a year on");
}
