//! #20.3, #20.4: a replica set's election seen from the functions. A proxy in
//! front of the test server answers a chosen command with the error a primary
//! stepping down gives (`NotWritablePrimary`, `PrimarySteppedDown`, ...,
//! labelled `RetryableWriteError`): the request answers 503, nothing is left
//! half-written, and the next request, once the election is over, succeeds.
//! The same proxy, in another mode, checks that every read and
//! find-and-modify carries `maxTimeMS`.

use e2e::app::ANY_ROLE;
use e2e::proxy::{mongodb_address, Failure, Proxy};
use e2e::{LambdaResponse, Payload, TestApp};
use serde_json::json;

/// What a replica set answers writes with while it has no primary.
const ELECTION: [(i32, &str); 4] = [
    (10107, "NotWritablePrimary"),
    (189, "PrimarySteppedDown"),
    (11602, "InterruptedDueToReplStateChange"),
    (91, "ShutdownInProgress"),
];

const UNAVAILABLE: &str = r#"{"message":"service_unavailable"}"#;

/// The app with its functions behind `proxy` (the test's own reads and
/// writes go to the server directly).
async fn app_behind(proxy: &Proxy) -> TestApp {
    let uri = proxy.mongodb_uri();
    TestApp::with_env(&[ANY_ROLE, ("MONGODB_URI", uri.as_str())]).await
}

/// The app behind a proxy answering `failure` in place of its commands.
async fn app_failing(failure: Failure) -> (TestApp, Proxy) {
    let upstream = mongodb_address(&e2e::mongo_server::direct_uri());
    let proxy = Proxy::failing_mongodb_commands(&upstream, failure);
    (app_behind(&proxy).await, proxy)
}

async fn login_sue(app: &mut TestApp) -> LambdaResponse {
    let body = json!({"username": "sue", "password": "current"});
    app.post_login(Payload::RestV1, &body).await
}

fn assert_unavailable(response: &LambdaResponse, case: &str) {
    assert_eq!(response.status, 503, "{case}: {}", response.raw_body);
    assert_eq!(response.raw_body, UNAVAILABLE, "{case}");
}

/// Every write of a login fails as in an election: 503, no session and no
/// side document, and once the election is over the next login works.
#[tokio::test]
async fn a_login_during_an_election_answers_503_writes_nothing_and_the_next_one_works() {
    for (code, name) in ELECTION {
        let (mut app, proxy) = app_failing(Failure::every("insert", None, code, name)).await;
        let response = login_sue(&mut app).await;
        assert_unavailable(&response, name);
        assert!(app.db.sessions().await.is_empty(), "{name}: a session");
        assert!(
            app.db.session_metas().await.is_empty(),
            "{name}: a side doc"
        );
        // The driver retried each insert once, and it failed again.
        let (seen, answered) = proxy.failure_counts();
        assert_eq!(seen, answered, "{name}: an insert got through");
        assert!(seen >= 2, "{name}: {seen} inserts seen, no retry");

        proxy.stop_failing();
        let (token, _) = app.login("sue", "current").await;
        assert_eq!(app.me_status(&token).await, 200, "{name}");
        assert_eq!(app.db.sessions().await.len(), 1, "{name}");
    }
}

/// Without the label (a server that gives only the code), the code alone
/// makes it an outage.
#[tokio::test]
async fn a_state_change_code_without_its_label_still_answers_503() {
    let failure = Failure::every("insert", None, 189, "PrimarySteppedDown").unlabelled();
    let (mut app, proxy) = app_failing(failure).await;
    assert_unavailable(&login_sue(&mut app).await, "unlabelled");
    assert!(app.db.sessions().await.is_empty());
    proxy.stop_failing();
    app.login("sue", "current").await;
}

/// The attempt count reserved before the password check fails as in an
/// election: 503 before any session is opened.
#[tokio::test]
async fn a_login_whose_attempt_reservation_fails_in_an_election_answers_503() {
    let failure = Failure::every(
        "findAndModify",
        Some("login_attempt"),
        10107,
        "NotWritablePrimary",
    );
    let (mut app, proxy) = app_failing(failure).await;
    assert_unavailable(&login_sue(&mut app).await, "reservation");
    assert!(proxy.failure_counts().1 >= 1, "never injected");
    assert!(app.db.sessions().await.is_empty());
    proxy.stop_failing();
    app.login("sue", "current").await;
}

/// One stepdown, on the whitelist insert only: the driver retries the write
/// by itself (retryable writes are on by default) and the login succeeds.
#[tokio::test]
async fn a_single_stepdown_is_retried_by_the_driver_and_the_login_succeeds() {
    let failure =
        Failure::every("insert", Some("whitelist_token"), 189, "PrimarySteppedDown").only(1);
    let (mut app, proxy) = app_failing(failure).await;
    let (token, _) = app.login("sue", "current").await;
    assert_eq!(proxy.failure_counts(), (2, 1), "sent twice, failed once");
    assert_eq!(app.db.sessions().await.len(), 1);
    assert_eq!(app.db.session_metas().await.len(), 1);
    assert_eq!(app.me_status(&token).await, 200);
}

/// Logout's one write (the guard's find-and-delete of the whitelist entry)
/// fails as in an election: 503, the session still lives, and the logout
/// goes through once the election is over.
#[tokio::test]
async fn a_logout_during_an_election_answers_503_and_ends_the_session_on_the_next_try() {
    for (code, name) in ELECTION {
        let failure = Failure::every("findAndModify", Some("whitelist_token"), code, name);
        let (mut app, proxy) = app_failing(failure).await;
        let (token, _) = app.login("sue", "current").await;
        assert_unavailable(&app.logout(&token).await, name);
        assert_eq!(app.db.sessions().await.len(), 1, "{name}: half-ended");

        proxy.stop_failing();
        assert_eq!(app.me_status(&token).await, 200, "{name}");
        let response = app.logout(&token).await;
        assert_eq!(response.status, 200, "{name}: {}", response.raw_body);
        assert_eq!(app.me_status(&token).await, 401, "{name}");
    }
}

/// A stepdown in the middle of a login's last step: the whitelist insert,
/// the side-document insert and the count's clearing are sent together, and
/// only the side document's fails. The login answers 503 and hands out no
/// token, and the half that landed (the whitelist entry) is removed: no
/// phantom session shows in the user's list.
#[tokio::test]
async fn a_stepdown_on_the_side_document_insert_answers_503_and_leaves_no_half_session() {
    let failure = Failure::every("insert", Some("session_meta"), 189, "PrimarySteppedDown");
    let (mut app, proxy) = app_failing(failure).await;
    let response = login_sue(&mut app).await;
    assert_unavailable(&response, "mid-batch");
    assert!(app.db.session_metas().await.is_empty(), "a side document");
    let orphans = app.db.sessions().await;
    assert!(orphans.is_empty(), "a half session was left: {orphans:?}");

    proxy.stop_failing();
    let (token, _) = app.login("sue", "current").await;
    let sessions = app.sessions(&token).await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["current"], true, "{sessions:?}");
}

/// A refresh whose rotation fails as in an election answers 503 with
/// `SERVICE_UNAVAILABLE`, rotates nothing, and the same refresh token works
/// on the next try.
#[tokio::test]
async fn a_refresh_during_an_election_answers_503_and_the_old_token_still_works() {
    let failure = Failure::every(
        "findAndModify",
        Some("session_meta"),
        189,
        "PrimarySteppedDown",
    );
    let (mut app, proxy) = app_failing(failure).await;
    let (_, refresh) = app.login("sue", "current").await;
    let before = app.db.session_metas().await;

    let response = app.refresh(&refresh).await;
    assert_eq!(response.status, 503, "{}", response.raw_body);
    let error = &response.body["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{}",
        response.raw_body
    );
    assert!(response.body["data"]["refresh_token"].is_null());
    assert_eq!(app.db.session_metas().await, before, "half-rotated");

    proxy.stop_failing();
    let response = app.refresh(&refresh).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let access = response.body["data"]["refresh_token"]["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {}", response.raw_body));
    assert_eq!(app.me_status(access).await, 200);
}

/// #20.4: every `find`, `aggregate`, `findAndModify` and `count` a login, a
/// refresh, a session list and a logout send carries `maxTimeMS`.
#[tokio::test]
async fn every_read_and_find_and_modify_carries_max_time_ms() {
    let upstream = mongodb_address(&e2e::mongo_server::direct_uri());
    let proxy = Proxy::checking_max_time(&upstream);
    let mut app = app_behind(&proxy).await;
    let (_, refresh) = app.login("sue", "current").await;
    let response = app.refresh(&refresh).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let access = response.body["data"]["refresh_token"]["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {}", response.raw_body))
        .to_owned();
    let sessions = app.sessions(&access).await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(app.logout(&access).await.status, 200);

    let timed = proxy.timed_commands();
    println!("{timed:#?}");
    assert!(
        timed.iter().any(|c| c.command == "findAndModify"),
        "no find-and-modify seen: {timed:?}"
    );
    let missing: Vec<_> = timed.iter().filter(|c| !c.max_time_ms).collect();
    assert!(missing.is_empty(), "without maxTimeMS: {missing:?}");
}
