use super::*;

#[tokio::test]
async fn auth_events_are_logged_even_at_the_error_level() {
    let mut app = TestApp::with_env(&[ANY_ROLE, ("AWS_LAMBDA_LOG_LEVEL", "ERROR")]).await;
    let (access, _) = app.login("sue", "current").await;
    assert_eq!(app.logout(&access).await.status, 200);
    assert_eq!(app.wait_for_events("login_succeeded", 1).await.len(), 1);
    assert_eq!(app.wait_for_events("logout", 1).await.len(), 1);
    // The level holds for everything else: no INFO line but the events.
    let chatty = app
        .all_logs()
        .lines()
        .filter(|line| line.contains("\"INFO\"") && !line.contains("\"event\""))
        .map(str::to_owned)
        .collect::<Vec<_>>();
    assert!(chatty.is_empty(), "{chatty:?}");
}
