use e2e::domain::DomainApp;
use mongodb::bson::doc;
use shared::ServiceError;

#[tokio::test]
async fn a_login_opens_a_whitelist_entry_and_its_side_document() {
    let app = DomainApp::with(&[]).await;
    let grant = app.support_login().await;
    assert_eq!(grant.role, "support");
    let entries = app.db.sessions().await;
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    let id = entry.get_object_id("_id").expect("an id");
    assert_eq!(
        entry.get_str("uuid_access"),
        Ok(grant.tokens.access.uuid.as_str())
    );
    assert_eq!(
        entry.get_str("uuid_refresh"),
        Ok(grant.tokens.refresh.uuid.as_str())
    );
    let user = entry.get_document("user").expect("a DBRef");
    assert_eq!(user.get_object_id("$id"), Ok(app.support));
    let meta = app
        .meta_with_refresh(&grant.tokens.refresh.uuid)
        .await
        .expect("a side document");
    assert_eq!(meta.get_object_id("_id"), Ok(id));
    assert_eq!(meta.get_str("source_ip"), Ok("198.51.100.7"));
}

#[tokio::test]
async fn a_username_is_matched_whatever_its_case() {
    let app = DomainApp::with(&[]).await;
    let grant = app.login("SUE", "current").await.expect("sue logs in");
    assert_eq!(grant.role, "support");
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_opens_no_session() {
    let app = DomainApp::with(&[]).await;
    let refused = app.login("sue", "wrong").await;
    assert!(
        matches!(refused, Err(ServiceError::BadCredentials)),
        "{refused:?}"
    );
    assert_eq!(app.count("whitelist_token", doc! {}).await, 0);
    assert_eq!(app.count("session_meta", doc! {}).await, 0);
}

#[tokio::test]
async fn an_inactive_user_is_refused_like_a_wrong_password() {
    let app = DomainApp::with(&[]).await;
    app.db.set_user(app.support, doc! { "active": false }).await;
    let refused = app.login("sue", "current").await;
    assert!(
        matches!(refused, Err(ServiceError::BadCredentials)),
        "{refused:?}"
    );
    assert_eq!(app.count("whitelist_token", doc! {}).await, 0);
}
