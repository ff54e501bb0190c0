use e2e::domain::DomainApp;
use mongodb::bson::doc;
use shared::sessions::end::{end_all, end_sessions_of};
use shared::{SessionId, UserId};

#[tokio::test]
async fn ending_a_users_sessions_removes_their_entries_and_side_documents_only() {
    let app = DomainApp::with(&[]).await;
    app.support_login().await;
    app.support_login().await;
    app.login("root", "root-password")
        .await
        .expect("root logs in");
    let sue = UserId::from(app.support);
    // The whole DBRef: the test server matches no dotted path through one.
    let of_sue = doc! { "user": { "$ref": "user", "$id": app.support } };
    assert_eq!(app.count("whitelist_token", of_sue.clone()).await, 2);
    let ended = end_sessions_of(&app.app.store, sue, None)
        .await
        .expect("ended");
    assert_eq!(ended, 2);
    assert_eq!(app.count("whitelist_token", of_sue).await, 0);
    assert_eq!(
        app.count("session_meta", doc! { "user": app.support })
            .await,
        0
    );
    assert_eq!(
        app.count("session_meta", doc! { "user": app.admin }).await,
        1
    );
    assert_eq!(app.db.sessions().await.len(), 1);
}

#[tokio::test]
async fn ending_a_users_other_sessions_keeps_the_one_named() {
    let app = DomainApp::with(&[]).await;
    app.support_login().await;
    let kept = app.support_login().await;
    let meta = app
        .meta_with_refresh(&kept.tokens.refresh.uuid)
        .await
        .expect("a side document");
    let keep = SessionId::from(meta.get_object_id("_id").expect("an id"));
    let ended = end_sessions_of(&app.app.store, UserId::from(app.support), Some(keep))
        .await
        .expect("ended");
    assert_eq!(ended, 1);
    assert_eq!(app.db.sessions().await.len(), 1);
    assert_eq!(app.db.session_metas().await.len(), 1);
    assert!(app
        .meta_with_refresh(&kept.tokens.refresh.uuid)
        .await
        .is_some());
}

#[tokio::test]
async fn ending_every_session_leaves_no_entry_and_no_side_document() {
    let app = DomainApp::with(&[]).await;
    app.support_login().await;
    app.login("root", "root-password")
        .await
        .expect("root logs in");
    assert_eq!(end_all(&app.app.store).await.expect("ended"), 2);
    assert!(app.db.sessions().await.is_empty());
    assert!(app.db.session_metas().await.is_empty());
}
