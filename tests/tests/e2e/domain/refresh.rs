use e2e::domain::{origin, DomainApp};
use mongodb::bson::doc;
use shared::auth::guard::SentAlong;
use shared::sessions::refresh::refresh;
use shared::{ServiceError, UserId};

#[tokio::test]
async fn a_refresh_rotates_the_pair_and_retires_the_refresh_token() {
    let app = DomainApp::with(&[]).await;
    let grant = app.support_login().await;
    let old = grant.tokens.refresh.uuid.clone();
    let pair = refresh(&app.app, &grant.tokens.refresh_token, None, &origin())
        .await
        .expect("a new pair");
    assert_ne!(pair.refresh.uuid, old);
    let meta = app
        .meta_with_refresh(&pair.refresh.uuid)
        .await
        .expect("the session's side document");
    let retired: Vec<&str> = meta
        .get_array("retired")
        .expect("retired ids")
        .iter()
        .filter_map(|id| id.as_str())
        .collect();
    assert_eq!(retired, [old.as_str()]);
    let entry = doc! { "uuid_refresh": &pair.refresh.uuid };
    assert_eq!(app.count("whitelist_token", entry).await, 1);
}

#[tokio::test]
async fn the_previous_refresh_token_within_the_grace_window_gets_the_current_pair() {
    let app = DomainApp::with(&[("REFRESH_REUSE_GRACE_SECONDS", "10")]).await;
    let grant = app.support_login().await;
    let first = refresh(&app.app, &grant.tokens.refresh_token, None, &origin())
        .await
        .expect("a new pair");
    let again = refresh(&app.app, &grant.tokens.refresh_token, None, &origin())
        .await
        .expect("the same pair, signed again");
    assert_eq!(again.access.uuid, first.access.uuid);
    assert_eq!(again.refresh.uuid, first.refresh.uuid);
    assert_eq!(app.count("whitelist_token", doc! {}).await, 1);
}

#[tokio::test]
async fn a_retired_refresh_token_without_grace_ends_the_whole_session() {
    let app = DomainApp::with(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let grant = app.support_login().await;
    refresh(&app.app, &grant.tokens.refresh_token, None, &origin())
        .await
        .expect("a new pair");
    let reused = refresh(&app.app, &grant.tokens.refresh_token, None, &origin()).await;
    assert!(
        matches!(reused, Err(ServiceError::Unauthorized)),
        "{reused:?}"
    );
    assert_eq!(app.count("whitelist_token", doc! {}).await, 0);
    assert_eq!(app.count("session_meta", doc! {}).await, 0);
}

#[tokio::test]
async fn a_refresh_sent_with_another_users_access_token_changes_nothing() {
    let app = DomainApp::with(&[]).await;
    let grant = app.support_login().await;
    let root = SentAlong {
        user_id: UserId::from(app.admin),
        live: true,
    };
    let refused = refresh(&app.app, &grant.tokens.refresh_token, Some(root), &origin()).await;
    assert!(
        matches!(refused, Err(ServiceError::Unauthorized)),
        "{refused:?}"
    );
    let current = doc! { "uuid_refresh": &grant.tokens.refresh.uuid };
    assert_eq!(app.count("whitelist_token", current).await, 1);
}
