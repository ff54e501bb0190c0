//! Database round trips are the cost floor of every request, so they are counted
//! here with the driver's command monitoring (deterministic, unlike timings). The
//! handlers are called in-process with real API Gateway events and a real server.

use e2e::db::{PYTHON_BCRYPT_HASH, PYTHON_BCRYPT_PASSWORD};
use e2e::{HttpRequest, Payload, TestDb};
use mongodb::event::command::CommandEvent;
use mongodb::event::EventHandler;
use mongodb::options::ClientOptions;
use serde_json::json;
use shared::lambda_http::{request::from_str, Body, Request, Response};
use shared::settings::Settings;
use shared::store::Store;
use shared::App;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// An [`App`] whose client records the name of every command it sends.
async fn counted_app(db: &TestDb) -> (App, Arc<Mutex<Vec<String>>>) {
    let commands = Arc::new(Mutex::new(Vec::new()));
    let sink = commands.clone();
    let mut options = ClientOptions::parse(&db.uri).await.unwrap();
    options.command_event_handler = Some(EventHandler::callback(move |event: CommandEvent| {
        if let CommandEvent::Started(started) = event {
            sink.lock().unwrap().push(started.command_name.clone());
        }
    }));
    let env: HashMap<String, String> = db
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let settings = Settings::from_map(&env).unwrap();
    let store = Store::with_options(options, &db.name).unwrap();
    (App::new(settings, store).unwrap(), commands)
}

fn request(path: &str, body: serde_json::Value, token: Option<&str>) -> Request {
    let mut http = HttpRequest::post(path).json(&body);
    if let Some(token) = token {
        http = http.bearer(token);
    }
    from_str(&http.event(Payload::RestV1).to_string()).unwrap()
}

fn json_body(response: &Response<Body>) -> serde_json::Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("unexpected body {other:?}"),
    }
}

fn take(commands: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    std::mem::take(&mut *commands.lock().unwrap())
}

#[tokio::test]
async fn login_takes_two_commands_and_three_when_it_rehashes() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    db.user("alice", "alice-password", admin).await;
    db.user_with_hash("legacy", PYTHON_BCRYPT_HASH, admin).await;
    let (app, commands) = counted_app(&db).await;

    let body = json!({"username": "alice", "password": "alice-password"});
    let response = ::login::handle(&app, request("/admin/login", body, None))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(take(&commands), ["aggregate", "insert"]);

    let body = json!({"username": "legacy", "password": PYTHON_BCRYPT_PASSWORD});
    let response = ::login::handle(&app, request("/admin/login", body, None))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut sent = take(&commands);
    sent.sort();
    assert_eq!(sent, ["aggregate", "insert", "update"]);

    let body = json!({"username": "nobody", "password": "x-password"});
    let response = ::login::handle(&app, request("/admin/login", body, None))
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(take(&commands), ["aggregate"]);
}

#[tokio::test]
async fn logout_takes_three_commands_of_which_the_guard_two() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    db.user("alice", "alice-password", admin).await;
    let (app, commands) = counted_app(&db).await;

    let body = json!({"username": "alice", "password": "alice-password"});
    let login = ::login::handle(&app, request("/admin/login", body, None))
        .await
        .unwrap();
    let token = json_body(&login)["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    take(&commands);

    let response = ::logout::handle(&app, request("/admin/logout", json!({}), Some(&token)))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut sent = take(&commands);
    sent.sort();
    assert_eq!(sent, ["aggregate", "delete", "find"]);

    // Refused by the guard after its two commands; nothing deleted.
    let response = ::logout::handle(&app, request("/admin/logout", json!({}), Some(&token)))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let mut sent = take(&commands);
    sent.sort();
    assert_eq!(sent, ["aggregate", "find"]);

    // A token that fails verification costs no command at all.
    let response = ::logout::handle(&app, request("/admin/logout", json!({}), Some("garbage")))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(take(&commands).is_empty());
}
