//! TTL timing (#20, item 5): MongoDB's TTL monitor sweeps about once a minute
//! (DocumentDB's is best effort), so an entry past its `expires_at` may still
//! be there; every reader treats it as absent. Each test writes such an entry
//! by hand and goes through the built functions. Also item 8: an upsert that
//! loses an insert race (E11000) is retried once.

use e2e::app::login_request;
use e2e::proxy::{mongodb_address, Failure, Proxy};
use e2e::{Payload, TestApp};
use mongodb::bson::{doc, DateTime, Document};
use serde_json::json;

const IP: &str = "203.0.113.7";

fn at(offset_millis: i64) -> DateTime {
    DateTime::from_millis(DateTime::now().timestamp_millis() + offset_millis)
}

async fn insert_attempt_entry(app: &TestApp, entry: Document) {
    app.db
        .db
        .collection::<Document>("login_attempt")
        .insert_one(entry)
        .await
        .expect("insert login_attempt entry");
}

async fn attempt_entry(app: &TestApp, id: &str) -> Document {
    app.db
        .db
        .collection::<Document>("login_attempt")
        .find_one(doc! { "_id": id })
        .await
        .expect("find login_attempt entry")
        .unwrap_or_else(|| panic!("no entry {id}"))
}

fn failures(entry: &Document) -> i64 {
    match entry.get("failures") {
        Some(mongodb::bson::Bson::Int32(n)) => i64::from(*n),
        Some(mongodb::bson::Bson::Int64(n)) => *n,
        other => panic!("failures is {other:?} in {entry:?}"),
    }
}

/// (a) A username's count past its `expires_at`, not yet swept, at the
/// maximum with its last lock over: the next failure starts a fresh count (1)
/// instead of counting the 6th failure and locking for 2 s, so the right
/// password right after it gets in.
#[tokio::test]
async fn an_expired_username_count_is_a_fresh_one() {
    let mut app = TestApp::spawn().await;
    insert_attempt_entry(
        &app,
        doc! {
            "_id": "user:root",
            "failures": 5,
            "last": at(-120_000),
            "locked_until": at(-90_000),
            "expires_at": at(-60_000),
        },
    )
    .await;
    let wrong = login_request("root", "wrong-password").event(Payload::RestV1);
    let response = app.login_fn.invoke(wrong).await;
    assert_eq!(response.status, 400, "{}", response.raw_body);
    assert_eq!(response.body, json!({"message": "bad_credentials"}));
    let entry = attempt_entry(&app, "user:root").await;
    assert_eq!(failures(&entry), 1, "{entry:?}");
    assert!(!entry.contains_key("locked_until"), "{entry:?}");
    assert!(
        entry.get_datetime("expires_at").unwrap() > &DateTime::now(),
        "{entry:?}"
    );
    // Not locked by that failure.
    let right = login_request("root", "root-password").event(Payload::RestV1);
    let response = app.login_fn.invoke(right).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
}

/// (b) An IP's window that has ended (`window_ends`, `expires_at` past), not
/// yet swept, with failures over the per-IP maximum: that IP is not locked,
/// and its next failure opens a new window counting 1.
#[tokio::test]
async fn an_expired_ip_window_does_not_lock_the_ip() {
    let mut app = TestApp::with_env(&[
        ("LOGIN_MAX_FAILURES", "0"),
        ("LOGIN_MAX_FAILURES_PER_IP", "3"),
        ("LOGIN_IP_WINDOW_SECONDS", "60"),
    ])
    .await;
    let key = format!("ip:{IP}");
    insert_attempt_entry(
        &app,
        doc! {
            "_id": &key,
            "failures": 10,
            "window_ends": at(-60_000),
            "expires_at": at(-60_000),
        },
    )
    .await;
    let right = login_request("root", "root-password").from_ip(IP);
    let response = app.login_fn.invoke(right.event(Payload::RestV1)).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let wrong = login_request("ann", "guess").from_ip(IP);
    let response = app.login_fn.invoke(wrong.event(Payload::RestV1)).await;
    assert_eq!(response.status, 400, "{}", response.raw_body);
    let entry = attempt_entry(&app, &key).await;
    assert_eq!(failures(&entry), 1, "{entry:?}");
    assert!(
        entry.get_datetime("window_ends").unwrap() > &DateTime::now(),
        "{entry:?}"
    );
}

/// A refresh of `refresh` answers `unauthorized` and changes no whitelist
/// entry and no side document.
async fn refused_and_nothing_written(app: &mut TestApp, refresh: &str) {
    let (entries, metas) = (app.db.sessions().await, app.db.session_metas().await);
    let response = app.refresh(refresh).await;
    assert_eq!(
        response.body["errors"][0]["message"], "unauthorized",
        "{}",
        response.raw_body
    );
    assert_eq!(app.db.sessions().await, entries, "the entry is unchanged");
    assert_eq!(
        app.db.session_metas().await,
        metas,
        "no side document written"
    );
}

/// (c) A session past the end of its refreshability, swept by neither TTL
/// yet: its side document past `expires_at`, its whitelist entry's
/// `created_at` more than a refresh lifetime ago. A refresh of it answers
/// `unauthorized` and writes nothing: the rotation's filter has
/// `expires_at > now`, and the lookup by refresh id finds the side document
/// expired, so the session is over.
#[tokio::test]
async fn a_session_whose_side_document_and_entry_have_expired_does_not_refresh() {
    let mut app = TestApp::spawn().await;
    let (_, refresh) = app.login("root", "root-password").await;
    // A week (the default refresh lifetime) and a day ago.
    app.db
        .set_where(
            "whitelist_token",
            doc! {},
            doc! { "created_at": at(-8 * 24 * 3600 * 1000) },
        )
        .await;
    app.db
        .set_where(
            "session_meta",
            doc! {},
            doc! { "expires_at": at(-24 * 3600 * 1000) },
        )
        .await;
    refused_and_nothing_written(&mut app, &refresh).await;
}

/// A session whose side document has expired (its cap reached, say) while
/// its whitelist entry lives on (a raised `REFRESH_TOKEN_EXPIRE_MINUTES`
/// gives old entries longer): the refresh is refused, and the session is not
/// adopted as one without a side document, which would start its cap again.
#[tokio::test]
async fn a_session_whose_side_document_expired_is_not_adopted_again() {
    let mut app = TestApp::spawn().await;
    let (_, refresh) = app.login("root", "root-password").await;
    app.db
        .set_where(
            "session_meta",
            doc! {},
            doc! { "expires_at": at(-60 * 1000) },
        )
        .await;
    refused_and_nothing_written(&mut app, &refresh).await;
}

/// (d) Item 8: the first count of a login attempt loses an insert race: the
/// proxy answers its upsert (`findAndModify` on `login_attempt`) with a
/// duplicate key error (E11000), as when two first attempts on one username
/// insert at once. The read that follows finds no entry (a lost race, not a
/// lock), and the count is retried once: the failure answers 400, not 500,
/// and is counted once.
#[tokio::test]
async fn an_attempt_count_that_loses_an_insert_race_is_retried_once() {
    let app = TestApp::spawn().await;
    let failure = Failure::every(
        "findAndModify",
        Some("login_attempt"),
        11000,
        "DuplicateKey",
    )
    .unlabelled()
    .only(1);
    let proxy = Proxy::failing_mongodb_commands(&mongodb_address(&app.db.uri), failure);
    let uri = proxy.mongodb_uri();
    let mut login = app.start_with("login", &[("MONGODB_URI", &uri)]).await;
    let wrong = login_request("root", "wrong-password").event(Payload::RestV1);
    let response = login.invoke(wrong).await;
    assert_eq!(response.status, 400, "{}", response.raw_body);
    assert_eq!(response.body, json!({"message": "bad_credentials"}));
    // The failed upsert and its one retry; only the first was answered
    // with the error.
    assert_eq!(proxy.failure_counts(), (2, 1));
    let entry = attempt_entry(&app, "user:root").await;
    assert_eq!(failures(&entry), 1, "{entry:?}");
}
