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
use std::time::Duration;

/// What command monitoring saw: the name of every command sent, and the
/// sequential waits among them. A wait starts when a command is sent while none
/// is in flight; commands sent before every earlier one has answered share it.
#[derive(Default)]
struct Monitor {
    sent: Vec<String>,
    in_flight: usize,
    waits: usize,
}

type Commands = Arc<Mutex<Monitor>>;

/// An [`App`] whose client records every command it sends and the waits.
async fn counted_app(db: &TestDb, extra: &[(&str, &str)]) -> (App, Commands) {
    let commands = Commands::default();
    let sink = commands.clone();
    let mut options = ClientOptions::parse(&db.uri).await.unwrap();
    options.command_event_handler = Some(EventHandler::callback(move |event: CommandEvent| {
        let mut monitor = sink.lock().unwrap();
        match event {
            CommandEvent::Started(started) => {
                if monitor.in_flight == 0 {
                    monitor.waits += 1;
                }
                monitor.in_flight += 1;
                monitor.sent.push(started.command_name.clone());
            }
            CommandEvent::Succeeded(_) | CommandEvent::Failed(_) => {
                monitor.in_flight = monitor.in_flight.saturating_sub(1);
            }
            _ => {}
        }
    }));
    let mut env: HashMap<String, String> = db
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let settings = Settings::from_map(&env).unwrap();
    let store = Store::with_options(options, &db.name).unwrap();
    // As at a function's start-up: the connections a request uses at once are
    // open before it comes (otherwise a second concurrent command waits for a
    // new connection, and the count shows a wait the functions don't have).
    store.warm_up(Duration::from_secs(5)).await.unwrap();
    take(&commands);
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

/// The commands sent since the last take.
fn take(commands: &Commands) -> Vec<String> {
    take_with_waits(commands).0
}

/// The commands sent since the last take, and the sequential waits they took.
fn take_with_waits(commands: &Commands) -> (Vec<String>, usize) {
    let mut monitor = commands.lock().unwrap();
    assert_eq!(monitor.in_flight, 0, "a command is still in flight");
    let waits = std::mem::take(&mut monitor.waits);
    (std::mem::take(&mut monitor.sent), waits)
}

/// The app with `alice` (argon2id) and `legacy` (bcrypt, as the Python service
/// left her), counting commands.
async fn app_with_two_users() -> (TestDb, App, Commands) {
    app_with_two_users_and(&[]).await
}

/// Lockout off, per username and per IP: a login as it was before #9.
const NO_LOCKOUT: &[(&str, &str)] = &[
    ("LOGIN_MAX_FAILURES", "0"),
    ("LOGIN_MAX_FAILURES_PER_IP", "0"),
];

async fn app_with_two_users_and(extra: &[(&str, &str)]) -> (TestDb, App, Commands) {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    db.user("alice", "alice-password", admin).await;
    db.user_with_hash("legacy", PYTHON_BCRYPT_HASH, admin).await;
    let (app, commands) = counted_app(&db, extra).await;
    (db, app, commands)
}

async fn login(app: &App, username: &str, password: &str) -> Response<Body> {
    let body = json!({"username": username, "password": password});
    ::login::handle(app, request("/admin/login", body, None))
        .await
        .unwrap()
}

/// The last `n` commands, which a login sends concurrently, in a stable order.
fn sorted_tail(mut sent: Vec<String>, n: usize) -> Vec<String> {
    let at = sent.len().saturating_sub(n);
    sent[at..].sort();
    sent
}

/// The read, then the whitelist entry and its side document (source IP, user
/// agent, login time) written together: three commands in two waits.
#[tokio::test]
async fn a_login_takes_three_commands_in_two_waits_without_lockout() {
    let (_db, app, commands) = app_with_two_users_and(NO_LOCKOUT).await;
    let response = login(&app, "alice", "alice-password").await;
    assert_eq!(response.status(), 200);
    let (sent, waits) = take_with_waits(&commands);
    assert_eq!(sent, ["aggregate", "insert", "insert"]);
    assert_eq!(waits, 2);
}

#[tokio::test]
async fn a_login_that_rehashes_takes_four_commands_without_lockout() {
    let (_db, app, commands) = app_with_two_users_and(NO_LOCKOUT).await;
    let response = login(&app, "legacy", PYTHON_BCRYPT_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let mut sent = take(&commands);
    sent.sort();
    assert_eq!(sent, ["aggregate", "insert", "insert", "update"]);
}

#[tokio::test]
async fn a_login_of_an_unknown_user_takes_one_command_without_lockout() {
    let (_db, app, commands) = app_with_two_users_and(NO_LOCKOUT).await;
    let response = login(&app, "nobody", "x-password").await;
    assert_eq!(response.status(), 400);
    assert_eq!(take(&commands), ["aggregate"]);
}

/// The first `n` commands, which a request sends concurrently, in a stable
/// order.
fn sorted_head(mut sent: Vec<String>, n: usize) -> Vec<String> {
    let at = n.min(sent.len());
    sent[..at].sort();
    sent
}

/// With lockout on (the default): the user and both locks read together (two
/// commands, one wait: the user's aggregate and a `find` on `login_attempt`;
/// one command until #20, whose `$unionWith` DocumentDB supports only from
/// 8.0.3), one atomic count of the attempt, then the session's two inserts
/// (whitelist entry, side document) and the count's clearing sent together:
/// six commands in three waits.
#[tokio::test]
async fn a_login_takes_six_commands_in_three_waits() {
    let (_db, app, commands) = app_with_two_users().await;
    let response = login(&app, "alice", "alice-password").await;
    assert_eq!(response.status(), 200);
    let (sent, waits) = take_with_waits(&commands);
    assert_eq!(
        sorted_head(sorted_tail(sent, 3), 2),
        [
            "aggregate",
            "find",
            "findAndModify",
            "delete",
            "insert",
            "insert"
        ]
    );
    assert_eq!(waits, 3);
}

/// A refusal: the read (two commands together, see above), the count, and the
/// source IP's count: four commands in three waits.
#[tokio::test]
async fn a_refused_login_takes_four_commands_in_three_waits() {
    let (_db, app, commands) = app_with_two_users().await;
    for (username, password) in [("alice", "wrong-password"), ("nobody", "x-password")] {
        let response = login(&app, username, password).await;
        assert_eq!(response.status(), 400);
        let (sent, waits) = take_with_waits(&commands);
        assert_eq!(
            sorted_head(sent, 2),
            ["aggregate", "find", "findAndModify", "update"],
            "{username}"
        );
        assert_eq!(waits, 3, "{username}");
    }
}

/// The failure that reaches the maximum writes its lock: one more command,
/// and one more wait, on that attempt only (the count and the lock are two
/// commands without pipeline updates; nobody else is counted between them).
#[tokio::test]
async fn the_failure_that_locks_takes_one_more_command() {
    let (_db, app, commands) = app_with_two_users().await;
    for _ in 0..4 {
        assert_eq!(login(&app, "alice", "wrong-password").await.status(), 400);
    }
    take(&commands);
    assert_eq!(login(&app, "alice", "wrong-password").await.status(), 400);
    let (sent, waits) = take_with_waits(&commands);
    assert_eq!(
        sorted_head(sent, 2),
        ["aggregate", "find", "findAndModify", "update", "update"]
    );
    assert_eq!(waits, 4);
}

/// A locked attempt is refused after the one read (its two commands sent
/// together), with no hashing and nothing counted.
#[tokio::test]
async fn a_locked_login_takes_two_commands_in_one_wait() {
    let (_db, app, commands) = app_with_two_users().await;
    for _ in 0..5 {
        assert_eq!(login(&app, "alice", "wrong-password").await.status(), 400);
    }
    take(&commands);
    let response = login(&app, "alice", "alice-password").await;
    assert_eq!(response.status(), 429);
    let (sent, waits) = take_with_waits(&commands);
    assert_eq!(sorted_head(sent, 2), ["aggregate", "find"]);
    assert_eq!(waits, 1);
}

/// `alice` signed in, with the commands of her login already taken; returns
/// her access token.
async fn signed_in() -> (TestDb, App, Commands, String) {
    let (db, app, commands, access, _) = signed_in_with_pair(&[]).await;
    (db, app, commands, access)
}

/// `alice` signed in with `extra` settings; returns her (access, refresh).
async fn signed_in_with_pair(extra: &[(&str, &str)]) -> (TestDb, App, Commands, String, String) {
    let (db, app, commands) = app_with_two_users_and(extra).await;
    let response = login(&app, "alice", "alice-password").await;
    let body = json_body(&response);
    let token = |name: &str| body["data"][name].as_str().unwrap().to_owned();
    take(&commands);
    (db, app, commands, token("token"), token("refresh_token"))
}

/// The GraphQL function in-process, on `app`.
fn graphql_service(app: App) -> graphql::GraphqlService {
    let settings = graphql::settings::GraphqlSettings::from_lookup(|_| None).unwrap();
    graphql::GraphqlService::new(app, settings)
}

async fn refresh(service: &graphql::GraphqlService, refresh_token: &str) -> serde_json::Value {
    let body = json!({
        "query": "mutation($r: String!) { refresh_token(input: {refresh_token: $r}) { access_token refresh_token } }",
        "variables": {"r": refresh_token},
    });
    let response = graphql::handle(service, request("/admin/graphql", body, None))
        .await
        .unwrap();
    json_body(&response)
}

/// A refresh: the side document rotated in one atomic command, then the
/// whitelist entry's new ids and the user's read sent together: three
/// commands in two waits.
#[tokio::test]
async fn a_refresh_takes_three_commands_in_two_waits() {
    let (_db, app, commands, _, refresh_token) = signed_in_with_pair(&[]).await;
    let service = graphql_service(app);
    let body = refresh(&service, &refresh_token).await;
    assert!(
        body["data"]["refresh_token"]["access_token"].is_string(),
        "{body}"
    );
    let (sent, waits) = take_with_waits(&commands);
    assert_eq!(
        sorted_tail(sent, 2),
        ["findAndModify", "aggregate", "update"]
    );
    assert_eq!(waits, 2);
}

/// A reused refresh token (past the grace window): the missed rotation, the
/// lookup by retired id, the whitelist entry's deletion once no rotation is
/// writing it, then the side document's and the user's read (for the event)
/// sent together: five commands.
#[tokio::test]
async fn a_reused_refresh_token_takes_five_commands() {
    let grace_off = [("REFRESH_REUSE_GRACE_SECONDS", "0")];
    let (_db, app, commands, _, first) = signed_in_with_pair(&grace_off).await;
    let service = graphql_service(app);
    refresh(&service, &first).await;
    take(&commands);
    let body = refresh(&service, &first).await;
    assert_eq!(body["errors"][0]["message"], "unauthorized", "{body}");
    let sent = sorted_tail(take(&commands), 2);
    assert_eq!(
        sent,
        ["findAndModify", "find", "delete", "aggregate", "delete"]
    );
}

async fn logout(app: &App, token: &str) -> Response<Body> {
    ::logout::handle(app, request("/admin/logout", json!({}), Some(token)))
        .await
        .unwrap()
}

/// The whitelist entry is removed by the command that finds it
/// (`findAndModify`), and the side document by a `delete`, both sent with the
/// read of the user: three commands, one wait.
#[tokio::test]
async fn a_logout_takes_three_commands_in_one_wait() {
    let (db, app, commands, token) = signed_in().await;
    let response = logout(&app, &token).await;
    assert_eq!(response.status(), 200);
    let (mut sent, waits) = take_with_waits(&commands);
    sent.sort();
    assert_eq!(sent, ["aggregate", "delete", "findAndModify"]);
    assert_eq!(waits, 1);
    assert!(db.sessions().await.is_empty(), "the session was ended");
    assert!(
        db.session_metas().await.is_empty(),
        "its side document went with it"
    );
}

#[tokio::test]
async fn a_logout_refused_by_the_guard_takes_its_three_commands_in_one_wait() {
    let (_db, app, commands, token) = signed_in().await;
    logout(&app, &token).await;
    take(&commands);
    // The session is gone: the guard refuses after its three commands.
    let response = logout(&app, &token).await;
    assert_eq!(response.status(), 401);
    let (mut sent, waits) = take_with_waits(&commands);
    sent.sort();
    assert_eq!(sent, ["aggregate", "delete", "findAndModify"]);
    assert_eq!(waits, 1);
}

/// A user whose role is no longer allowed is refused as the guard refuses,
/// and the token's session, already removed in the same wait, stays ended.
#[tokio::test]
async fn a_logout_refused_for_the_users_role_still_ends_the_session() {
    let (db, app, commands, token) = signed_in().await;
    let alice = db.sessions().await[0]
        .get_document("user")
        .unwrap()
        .get_object_id("$id")
        .unwrap();
    db.set_user(alice, mongodb::bson::doc! {"active": false})
        .await;
    let response = logout(&app, &token).await;
    assert_eq!(response.status(), 401);
    assert_eq!(take_with_waits(&commands).1, 1);
    assert!(db.sessions().await.is_empty());
    assert!(db.session_metas().await.is_empty());
}

/// `{ me { ... } }` answers from the user the guard read: the guard's two
/// commands, sent together, and nothing after.
#[tokio::test]
async fn a_graphql_me_takes_two_commands_in_one_wait() {
    let (_db, app, commands, token) = signed_in().await;
    let settings = graphql::settings::GraphqlSettings::from_lookup(|_| None).unwrap();
    let service = graphql::GraphqlService::new(app, settings);
    let query =
        json!({"query": "{ me { id username active change_password role { name permissions } } }"});
    let response = graphql::handle(&service, request("/admin/graphql", query, Some(&token)))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&response)["data"]["me"]["username"], "alice");
    let (mut sent, waits) = take_with_waits(&commands);
    sent.sort();
    assert_eq!(sent, ["aggregate", "find"]);
    assert_eq!(waits, 1);
}

#[tokio::test]
async fn a_token_that_fails_verification_costs_no_command() {
    let (_db, app, commands, _) = signed_in().await;
    let response = logout(&app, "garbage").await;
    assert_eq!(response.status(), 401);
    assert!(take(&commands).is_empty());
}

/// `sessions`: the guard's two commands, then the whitelist entries and their
/// side documents read together.
#[tokio::test]
async fn a_session_list_takes_four_commands_of_which_the_guard_two() {
    let (_db, app, commands, token, _) = signed_in_with_pair(&[]).await;
    let service = graphql_service(app);
    let body = json!({"query": "{ sessions { id current } }"});
    let response = graphql::handle(&service, request("/admin/graphql", body, Some(&token)))
        .await
        .unwrap();
    let body = json_body(&response);
    assert_eq!(body["data"]["sessions"][0]["current"], true, "{body}");
    let (mut sent, waits) = take_with_waits(&commands);
    sent.sort();
    assert_eq!(sent, ["aggregate", "find", "find", "find"]);
    assert_eq!(waits, 2);
}

/// `update_password`: the guard's two commands; the attempt counted on the
/// username (one atomic command) before the current password is checked; then
/// the count cleared and the other sessions ended (whitelist entries and side
/// documents) sent together; then the new hash written: seven commands in
/// four waits (five in three before its check was counted).
#[tokio::test]
async fn an_update_password_takes_seven_commands_in_four_waits() {
    let (_db, app, commands, token, _) = signed_in_with_pair(&[]).await;
    let service = graphql_service(app);
    let body = json!({
        "query": "mutation($i: UpdatePasswordInput!) { update_password(input: $i) { ok } }",
        "variables": {"i": {"current_password": "alice-password", "new_password": "new-pass-1", "password_confirmed": "new-pass-1"}},
    });
    let response = graphql::handle(&service, request("/admin/graphql", body, Some(&token)))
        .await
        .unwrap();
    let body = json_body(&response);
    assert_eq!(body["data"]["update_password"]["ok"], true, "{body}");
    let (sent, waits) = take_with_waits(&commands);
    let mut guard = sent[..2].to_vec();
    guard.sort();
    assert_eq!(guard, ["aggregate", "find"]);
    let mut after_check = sent[3..6].to_vec();
    after_check.sort();
    assert_eq!(sent[2], "findAndModify");
    assert_eq!(after_check, ["delete", "delete", "delete"]);
    assert_eq!(sent[6..], ["update"]);
    assert_eq!(waits, 4);
}

/// A wrong current password: the guard's two commands and the count; no more.
#[tokio::test]
async fn a_wrong_current_password_takes_three_commands_in_two_waits() {
    let (_db, app, commands, token, _) = signed_in_with_pair(&[]).await;
    let service = graphql_service(app);
    let body = json!({
        "query": "mutation($i: UpdatePasswordInput!) { update_password(input: $i) { ok } }",
        "variables": {"i": {"current_password": "wrong", "new_password": "new-pass-1", "password_confirmed": "new-pass-1"}},
    });
    let response = graphql::handle(&service, request("/admin/graphql", body, Some(&token)))
        .await
        .unwrap();
    let body = json_body(&response);
    assert_eq!(
        body["errors"][0]["message"], "Current password don't match",
        "{body}"
    );
    let (sent, waits) = take_with_waits(&commands);
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[2], "findAndModify");
    assert_eq!(waits, 2);
}

/// The TOKEN example event of the authorizer, for `token` on `method path`.
fn authorizer_event(token: &str) -> serde_json::Value {
    json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/orders/42",
    })
}

async fn authorize(app: App, event: serde_json::Value) -> serde_json::Value {
    use shared::lambda_http::lambda_runtime::{Context, LambdaEvent};
    let authorizer = ::authorizer::Authorizer::new(app, ::authorizer::RouteRoles::default());
    authorizer
        .handle(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap()
}

/// An authorization is the guard's: the whitelist entry and the user read
/// together, one wait.
#[tokio::test]
async fn an_authorization_takes_two_commands_in_one_wait() {
    let (_db, app, commands, token) = signed_in().await;
    let answer = authorize(app, authorizer_event(&token)).await;
    assert!(answer["context"]["user_id"].is_string(), "{answer}");
    let (mut sent, waits) = take_with_waits(&commands);
    sent.sort();
    assert_eq!(sent, ["aggregate", "find"]);
    assert_eq!(waits, 1);
}

/// A token refused on its signature or its expiry costs the database nothing.
#[tokio::test]
async fn an_authorization_refused_on_the_token_alone_costs_no_command() {
    let (db, app, commands, _) = signed_in().await;
    // Nobody's: the token is refused before any user is looked up.
    let nobody = mongodb::bson::oid::ObjectId::new().to_hex();
    let expired = e2e::helpers::expired_access_token(&nobody, e2e::SECRET_KEY);
    let answer = authorize(app, authorizer_event(&expired)).await;
    assert_eq!(
        answer["context"]["message"], "signature_expired",
        "{answer}"
    );
    assert!(take(&commands).is_empty());
    let (app, commands) = counted_app(&db, &[]).await;
    let answer = authorize(app, authorizer_event("not-a-jwt")).await;
    assert_eq!(answer["context"]["message"], "invalid_token", "{answer}");
    assert!(take(&commands).is_empty());
}
