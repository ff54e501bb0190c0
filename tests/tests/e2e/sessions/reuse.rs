use super::*;

pub(super) const NO_GRACE: (&str, &str) = ("REFRESH_REUSE_GRACE_SECONDS", "0");

#[tokio::test]
async fn reuse_of_the_previous_refresh_token_ends_the_session_and_its_newest_pair() {
    let mut app = TestApp::with_env(&[ANY_ROLE, NO_GRACE]).await;
    let (_, first) = app.login("sue", "current").await;
    let (access, refresh) = new_pair(&app.refresh(&first).await);
    assert_unauthorized(&app.refresh(&first).await);
    assert_eq!(app.me_status(&access).await, 401);
    assert_unauthorized(&app.refresh(&refresh).await);
    assert!(app.db.sessions().await.is_empty());
    assert!(app.db.session_metas().await.is_empty());
}

#[tokio::test]
async fn reuse_of_an_older_refresh_token_ends_the_session_even_within_the_grace_window() {
    let mut app = app().await;
    let (_, first) = app.login("sue", "current").await;
    let (_, second) = new_pair(&app.refresh(&first).await);
    let (access, third) = new_pair(&app.refresh(&second).await);
    assert_unauthorized(&app.refresh(&first).await);
    assert_eq!(app.me_status(&access).await, 401);
    assert_unauthorized(&app.refresh(&third).await);
    assert!(app.db.sessions().await.is_empty());
}

#[tokio::test]
async fn a_retired_token_sent_with_another_users_access_token_still_ends_its_session() {
    let mut app = app().await;
    let (_, first) = app.login("sue", "current").await;
    let (access, _) = new_pair(&app.refresh(&first).await);
    let admin = app.admin_token().await;
    let query =
        "mutation($r: String!) { refresh_token(input: {refresh_token: $r}) { access_token } }";
    let response = app.graphql(Some(&admin), query, json!({"r": first})).await;
    assert_unauthorized(&response);
    assert_eq!(app.me_status(&access).await, 401);
    assert_eq!(app.me_status(&admin).await, 200);
}

#[tokio::test]
async fn reuse_ends_only_its_own_session() {
    let mut app = TestApp::with_env(&[ANY_ROLE, NO_GRACE]).await;
    let (other, _) = app.login("sue", "current").await;
    let (_, first) = app.login("sue", "current").await;
    new_pair(&app.refresh(&first).await);
    assert_unauthorized(&app.refresh(&first).await);
    assert_eq!(app.me_status(&other).await, 200);
}

#[tokio::test]
async fn within_the_grace_window_the_previous_token_gets_the_same_successor() {
    let mut app = app().await;
    let (_, first) = app.login("sue", "current").await;
    let (access, refresh) = new_pair(&app.refresh(&first).await);
    let (again_access, again_refresh) = new_pair(&app.refresh(&first).await);
    assert_eq!(uuid(&again_access), uuid(&access));
    assert_eq!(uuid(&again_refresh), uuid(&refresh));
    assert_eq!(app.me_status(&again_access).await, 200);
    assert_eq!(app.db.sessions().await.len(), 1);
    // The successor still refreshes once, as any current token.
    new_pair(&app.refresh(&again_refresh).await);
}

#[tokio::test]
async fn past_the_grace_window_the_previous_token_ends_the_session() {
    let mut app = TestApp::with_env(&[ANY_ROLE, ("REFRESH_REUSE_GRACE_SECONDS", "1")]).await;
    let (_, first) = app.login("sue", "current").await;
    let (access, _) = new_pair(&app.refresh(&first).await);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_unauthorized(&app.refresh(&first).await);
    assert_eq!(app.me_status(&access).await, 401);
}

/// 20 refreshes of one token at once, each in a container of its own.
async fn twenty_at_once(app: &mut TestApp, refresh: &str) -> Vec<LambdaResponse> {
    let mut containers = Vec::new();
    for _ in 0..20 {
        containers.push(app.start("graphql").await);
    }
    let event = graphql_request(None, REFRESH_QUERY, json!({"r": refresh})).event(Payload::RestV1);
    let mut tasks = Vec::new();
    for mut container in containers {
        let event = event.clone();
        tasks.push(tokio::spawn(async move {
            let response = container.invoke(event).await;
            (response, container)
        }));
    }
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.expect("refresh task").0);
    }
    responses
}

#[tokio::test]
async fn twenty_concurrent_refreshes_within_the_grace_window_all_get_the_same_successor() {
    let mut app = app().await;
    let (_, refresh) = app.login("sue", "current").await;
    let responses = twenty_at_once(&mut app, &refresh).await;
    let pairs: Vec<(String, String)> = responses.iter().map(new_pair).collect();
    let (access, successor) = (uuid(&pairs[0].0), uuid(&pairs[0].1));
    for (a, r) in &pairs {
        assert_eq!((uuid(a), uuid(r)), (access.clone(), successor.clone()));
    }
    let sessions = app.db.sessions().await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].get_str("uuid_refresh"), Ok(successor.as_str()));
    assert_eq!(app.me_status(&pairs[0].0).await, 200);
}

#[tokio::test]
async fn twenty_concurrent_refreshes_without_grace_give_one_pair_and_end_the_session() {
    let mut app = TestApp::with_env(&[ANY_ROLE, NO_GRACE]).await;
    let (_, refresh) = app.login("sue", "current").await;
    let responses = twenty_at_once(&mut app, &refresh).await;
    let winners: Vec<(String, String)> = responses.iter().filter_map(pair).collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        responses.iter().map(|r| &r.raw_body).collect::<Vec<_>>()
    );
    for response in responses.iter().filter(|r| pair(r).is_none()) {
        assert_unauthorized(response);
    }
    // The others were reuse: the session, the winner's pair included, ended.
    assert!(app.db.sessions().await.is_empty());
    assert_eq!(app.me_status(&winners[0].0).await, 401);
}
