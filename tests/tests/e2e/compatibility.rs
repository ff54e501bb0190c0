//! MongoDB 4.4+ and Amazon DocumentDB 5.0 (#20): every test reaches the shared
//! server through a proxy that refuses, with a MongoDB error, any command,
//! stage or operator outside the profile both support
//! (`tests/compat/mongodb-4.4-documentdb-5.0.json`, from DocumentDB's list of
//! supported APIs), so any test whose function, `auth-admin` run or fixture
//! sends one fails. These tests prove the proxy is there, records, and bites.

use e2e::compat::{compat_recording, Profile, Recording};
use e2e::proxy::{mongodb_address, Proxy};
use e2e::{AdminCli, TestApp, TestDb};
use mongodb::bson::{doc, Document};
use mongodb::Client;
use std::sync::{Arc, Mutex};

/// The negative controls' collection.
const NEGATIVE: &str = "compat_negative_control";

#[tokio::test]
async fn the_shared_server_is_reached_through_the_compatibility_proxy() {
    assert!(
        e2e::mongo_server::compatibility_checked(),
        "MONGODB_URI is not a plain mongodb://host:port URI: the compatibility check did not run"
    );
    let profile = Profile::get();
    assert!(profile
        .sources
        .iter()
        .any(|s| s.contains("docs.aws.amazon.com/documentdb")));
}

/// The positive control: a login, a refresh, a session list, a logout and
/// `auth-admin` runs, then everything the proxies have recorded in this process
/// so far is in the profile and nothing but the negative controls was refused.
#[tokio::test]
async fn a_whole_session_and_auth_admin_send_only_what_the_profile_allows() {
    let mut app = TestApp::spawn().await;
    let (_, refresh) = app.login("root", "root-password").await;
    let refreshed = app.refresh(&refresh).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.raw_body);
    // The refresh retired the login's access token: list with the new one.
    let access = refreshed.body["data"]["refresh_token"]["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", refreshed.raw_body))
        .to_owned();
    let _ = app.sessions(&access).await;
    let wrong = app
        .post_login(
            e2e::Payload::RestV1,
            &serde_json::json!({"username": "root", "password": "wrong"}),
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.raw_body);
    let cli = AdminCli::on(&app.db);
    cli.run(&["user-list"]).assert_success();
    cli.run(&["unlock", "--username", "root"]).assert_success();
    let db = TestDb::empty().await;
    AdminCli::on(&db).run(&["init"]).assert_success();

    let recording = compat_recording();
    let commands: Vec<_> = recording
        .seen
        .keys()
        .filter(|name| name.starts_with("command "))
        .collect();
    for expected in [
        "command find",
        "command findAndModify",
        "command insert",
        "command aggregate",
    ] {
        assert!(
            recording.seen.contains_key(expected),
            "{expected} not recorded: {commands:?}"
        );
    }
    let outside: Vec<_> = recording
        .seen
        .keys()
        .filter(|name| {
            let (kind, name) = name.rsplit_once(' ').unwrap();
            !Profile::get().allows(kind, name)
        })
        .collect();
    eprintln!("compatibility recording: {:#?}", recording.seen);
    assert!(outside.is_empty(), "sent outside the profile: {outside:?}");
    assert!(
        recording.refused.is_empty(),
        "refused outside the profile: {:#?}",
        recording.refused
    );
}

/// A collection reached through a checking proxy of its own (its refusals
/// are recorded apart from the process's), with one document `{_id: 1, n: 1}`.
async fn negative_control() -> (Proxy, Arc<Mutex<Recording>>, mongodb::Collection<Document>) {
    let recording = Arc::<Mutex<Recording>>::default();
    let upstream = mongodb_address(&e2e::mongo_server::direct_uri());
    let proxy = Proxy::checking_compatibility_into(&upstream, true, recording.clone());
    let client = Client::with_uri_str(proxy.mongodb_uri()).await.unwrap();
    let collection = client
        .database(&format!(
            "e2e_compat_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ))
        .collection::<Document>(NEGATIVE);
    collection
        .insert_one(doc! { "_id": 1, "n": 1 })
        .await
        .unwrap();
    (proxy, recording, collection)
}

fn refusal(result: Result<impl std::fmt::Debug, mongodb::error::Error>) -> String {
    let err = result.expect_err("the proxy refuses it");
    match *err.kind {
        mongodb::error::ErrorKind::Command(ref command) => {
            assert_eq!(command.code, 2, "{command:?}");
            command.message.clone()
        }
        ref other => panic!("not a command error: {other:?}"),
    }
}

/// The negative controls: a pipeline update, `$unionWith` and `$where` are
/// answered with BadValue naming them, and never reach the server.
#[tokio::test]
async fn a_pipeline_update_unionwith_and_where_are_refused_with_bad_value() {
    let (_proxy, recording, collection) = negative_control().await;
    let pipeline = vec![doc! { "$set": { "n": { "$add": ["$n", 1] } } }];
    let message = refusal(collection.update_one(doc! { "_id": 1 }, pipeline).await);
    assert!(message.contains("aggregation-pipeline update"), "{message}");
    assert!(message.contains(NEGATIVE), "{message}");
    let message = refusal(
        collection
            .find_one_and_update(doc! { "_id": 1 }, vec![doc! { "$unset": "n" }])
            .await,
    );
    assert!(message.contains("aggregation-pipeline update"), "{message}");
    let union = [doc! { "$unionWith": { "coll": "user" } }];
    let message = refusal(collection.aggregate(union).await.map(drop));
    assert!(message.contains("stage $unionWith"), "{message}");
    let message = refusal(collection.find_one(doc! { "$where": "true" }).await);
    assert!(message.contains("query $where"), "{message}");
    // Nothing reached the server: the document is as it was inserted.
    let stored = collection
        .find_one(doc! { "_id": 1 })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.get_i32("n"), Ok(1));
    let refused = recording.lock().unwrap().refused.clone();
    assert_eq!(refused.len(), 4, "{refused:#?}");
}
