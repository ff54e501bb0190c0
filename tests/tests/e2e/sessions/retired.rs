use super::*;

// A session remembers its last 1000 retired refresh ids (README Sessions).
// 1001 refreshes through the function took 31 s here (~31 ms each, alone), so
// the side document's `retired` list is filled by hand to 1000 ids (the two
// real ones first, as the oldest), and one more refresh through the function
// pushes the oldest out: the login's refresh token is then forgotten (a plain
// `unauthorized` that ends nothing and logs no reuse), while the next one, now
// the oldest of the 1000 remembered, is still known and its reuse ends the
// session.
#[tokio::test]
async fn a_session_remembers_its_last_1000_retired_refresh_tokens_only() {
    let mut app = TestApp::with_env(&[ANY_ROLE, super::reuse::NO_GRACE]).await;
    let (_, oldest) = app.login("sue", "current").await;
    let (_, next) = new_pair(&app.refresh(&oldest).await);
    let (_, third) = new_pair(&app.refresh(&next).await);
    let meta = &app.db.session_metas().await[0];
    let retired = meta.get_array("retired").expect("retired").clone();
    assert_eq!(retired.len(), 2);
    let mut filled: Vec<mongodb::bson::Bson> = retired;
    filled.extend((2..1000).map(|i| format!("an-older-refresh-id-{i}").into()));
    app.db
        .set_where(
            shared::store::SESSION_META,
            doc! {},
            doc! { "retired": filled },
        )
        .await;
    let (access, current) = new_pair(&app.refresh(&third).await);
    let retired = app.db.session_metas().await[0]
        .get_array("retired")
        .expect("retired")
        .clone();
    assert_eq!(retired.len(), 1000);
    assert_eq!(
        retired[0].as_str(),
        Some(claims(&next)["uuid"].as_str().unwrap())
    );

    assert_unauthorized(&app.refresh(&oldest).await);
    assert_eq!(app.me_status(&access).await, 200, "the session lives on");
    assert!(app.events("refresh_token_reused").is_empty());

    assert_unauthorized(&app.refresh(&next).await);
    assert_eq!(app.me_status(&access).await, 401, "the session ended");
    assert_unauthorized(&app.refresh(&current).await);
    assert_eq!(
        app.wait_for_events("refresh_token_reused", 1).await.len(),
        1
    );
}
