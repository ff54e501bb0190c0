//! Settings of the README's Settings table that no other test changes, each
//! changed here and observed through the built functions: the lockout cap and
//! how long failures are remembered (`LOGIN_LOCKOUT_MAX_SECONDS`), the length
//! of a generated password (`RESET_PASSWORD_LEN_GENERATOR` against
//! `PASSWORD_MIN_LENGTH`), the minimum lengths of new usernames and passwords,
//! the 1000 retired refresh ids a session remembers, and the connection pool's
//! default size.

use e2e::app::{graphql_request, ANY_ROLE};
use e2e::proxy::mongodb_address;
use e2e::{Function, LambdaResponse, Payload, TestApp};
use mongodb::bson::{doc, DateTime, Document};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A login through `login`, as a fresh client sends it.
async fn attempt(login: &mut Function, username: &str, password: &str) -> LambdaResponse {
    login
        .invoke(e2e::app::login_event(username, password))
        .await
}

/// The app, with its login container's refusal floor known.
async fn calibrated(env: &[(&'static str, &str)]) -> TestApp {
    let app = TestApp::with_env(env).await;
    app.login_fn.wait_for_timing_calibration().await;
    app
}

/// `root`'s entry in `login_attempt`.
async fn attempts_of_root(app: &TestApp) -> Document {
    app.db
        .db
        .collection::<Document>("login_attempt")
        .find_one(doc! { "_id": "user:root" })
        .await
        .expect("read login_attempt")
        .expect("root has an entry")
}

/// The entry's failure count, however the server stored the number.
fn failures(entry: &Document) -> i64 {
    match entry.get("failures") {
        Some(mongodb::bson::Bson::Int32(n)) => i64::from(*n),
        Some(mongodb::bson::Bson::Int64(n)) => *n,
        other => panic!("failures: {other:?}"),
    }
}

fn millis_from_now(offset_ms: i64) -> DateTime {
    DateTime::from_millis(DateTime::now().timestamp_millis() + offset_ms)
}

// LOGIN_LOCKOUT_MAX_SECONDS, the cap: the entry says 10 failures, its last
// lock over but remembered (as a default, 900 s, cap would remember it). The
// 11th failure would lock for 2^10 s uncapped; capped at 1 s, the lock ends
// 1 s plus the refusal floor after the reservation, i.e. about 1 s after the
// refusal's answer. 2.5 s after that answer a right password logs in: a 1.5 s
// margin, against 17 minutes uncapped. (Ten failures through the function
// would take ten locks to wait out; the count is written as they would leave it.)
#[tokio::test]
async fn a_lock_never_lasts_longer_than_login_lockout_max_seconds() {
    let mut app = calibrated(&[
        ("LOGIN_MAX_FAILURES", "1"),
        ("LOGIN_LOCKOUT_MAX_SECONDS", "1"),
    ])
    .await;
    app.db
        .db
        .collection::<Document>("login_attempt")
        .insert_one(doc! {
            "_id": "user:root",
            "failures": 10_i64,
            "attempt": "an-earlier-attempt",
            "last": millis_from_now(-3_000),
            "locked_until": millis_from_now(-1_000),
            "expires_at": millis_from_now(600_000),
        })
        .await
        .expect("seed the failures");
    let failed = attempt(&mut app.login_fn, "root", "wrong-password").await;
    assert_eq!(failed.status, 400, "{}", failed.raw_body);
    let answered = Instant::now();
    // Counted as the 11th (not forgotten), and locked: for a second at most.
    assert_eq!(failures(&attempts_of_root(&app).await), 11);
    let locked = attempt(&mut app.login_fn, "root", "root-password").await;
    assert_eq!(locked.status, 429, "{}", locked.raw_body);
    let retry: u64 = locked
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After");
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    tokio::time::sleep_until((answered + Duration::from_millis(2_500)).into()).await;
    let response = attempt(&mut app.login_fn, "root", "root-password").await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
}

// LOGIN_LOCKOUT_MAX_SECONDS, the forgetting: an entry is kept for the cap
// after its last attempt (`expires_at`), and past that the next failure starts
// a fresh count. With LOGIN_MAX_FAILURES=2 a remembered failure plus this one
// would lock; after 2.5 s of quiet (the cap is 1 s: a 1.5 s margin) it doesn't.
#[tokio::test]
async fn failures_are_forgotten_once_the_username_is_quiet_for_login_lockout_max_seconds() {
    let mut app = calibrated(&[
        ("LOGIN_MAX_FAILURES", "2"),
        ("LOGIN_LOCKOUT_MAX_SECONDS", "1"),
    ])
    .await;
    let first = attempt(&mut app.login_fn, "root", "wrong-password").await;
    assert_eq!(first.status, 400, "{}", first.raw_body);
    let answered = Instant::now();
    // Remembered for exactly the cap after the attempt.
    let entry = attempts_of_root(&app).await;
    assert_eq!(failures(&entry), 1);
    let last = entry.get_datetime("last").expect("last").timestamp_millis();
    let expires = entry.get_datetime("expires_at").expect("expires_at");
    assert_eq!(expires.timestamp_millis() - last, 1_000);
    tokio::time::sleep_until((answered + Duration::from_millis(2_500)).into()).await;
    let second = attempt(&mut app.login_fn, "root", "wrong-password").await;
    assert_eq!(second.status, 400, "{}", second.raw_body);
    assert_eq!(failures(&attempts_of_root(&app).await), 1);
    let response = attempt(&mut app.login_fn, "root", "root-password").await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
}

const RESET_PASSWORD: &str =
    "mutation($i: ResetPasswordInput!) { reset_password(input: $i) { password } }";

/// The password `reset_password` generates for `sue` in an app with `env`,
/// after checking it logs her in.
async fn generated_password(env: &[(&'static str, &str)]) -> String {
    let mut app = TestApp::with_env(env).await;
    let admin = app.admin_token().await;
    let id = ::graphql::ids::to_global("User", &app.support.id);
    let response = app
        .graphql(Some(&admin), RESET_PASSWORD, json!({"i": {"id": id}}))
        .await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let password = response.body["data"]["reset_password"]["password"]
        .as_str()
        .unwrap_or_else(|| panic!("no password: {}", response.raw_body))
        .to_owned();
    assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
    app.login("sue", &password).await;
    password
}

// RESET_PASSWORD_LEN_GENERATOR or PASSWORD_MIN_LENGTH, whichever is longer.
#[tokio::test]
async fn a_generated_password_is_password_min_length_long_when_that_is_longer() {
    let password = generated_password(&[
        ANY_ROLE,
        ("RESET_PASSWORD_LEN_GENERATOR", "8"),
        ("PASSWORD_MIN_LENGTH", "12"),
    ])
    .await;
    assert_eq!(password.len(), 12, "{password}");
}

#[tokio::test]
async fn a_generated_password_is_reset_password_len_generator_long_when_that_is_longer() {
    let password = generated_password(&[
        ANY_ROLE,
        ("RESET_PASSWORD_LEN_GENERATOR", "16"),
        ("PASSWORD_MIN_LENGTH", "8"),
    ])
    .await;
    assert_eq!(password.len(), 16, "{password}");
}

const CREATE_USER: &str =
    "mutation($i: CreateUserInput!) { create_user(input: $i) { user { username } } }";

async fn create_user(app: &mut TestApp, token: &str, username: &str, password: &str) -> Value {
    let input = json!({"i": {"username": username, "password": password, "password_confirmed": password, "role": "support"}});
    let response = app.graphql(Some(token), CREATE_USER, input).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    response.body
}

/// A `create_user` refused as `bad_request` with exactly `field: [message]`.
fn assert_refused(body: &Value, field: &str, message: &str) {
    assert_eq!(body["errors"][0]["message"], "bad_request", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["errors"],
        json!({ field: [message] }),
        "{body}"
    );
    assert_eq!(body["data"]["create_user"], Value::Null, "{body}");
}

// USERNAME_MIN_LENGTH and PASSWORD_MIN_LENGTH other than 3 and 8: new users
// are held to them, exactly at the bound; login never applies them (`sue`,
// 3 letters with a 7-letter password, still logs in).
#[tokio::test]
async fn username_and_password_min_lengths_hold_for_new_users_only() {
    let mut app = TestApp::with_env(&[
        ANY_ROLE,
        ("USERNAME_MIN_LENGTH", "5"),
        ("PASSWORD_MIN_LENGTH", "10"),
    ])
    .await;
    let admin = app.admin_token().await;
    let short_name = create_user(&mut app, &admin, "abcd", "ten-chars!").await;
    assert_refused(&short_name, "username", "min length is 5");
    let short_password = create_user(&mut app, &admin, "abcde", "nine-char").await;
    assert_refused(&short_password, "password", "min length is 10");
    assert_eq!(app.db.count_users(doc! {}).await, 2);
    let made = create_user(&mut app, &admin, "abcde", "ten-chars!").await;
    assert!(made.get("errors").is_none(), "{made}");
    assert_eq!(made["data"]["create_user"]["user"]["username"], "abcde");
    app.login("abcde", "ten-chars!").await;
    app.login("sue", "current").await;
}

/// A TCP proxy to `upstream` that counts the connections it accepts and, once
/// `delay` is set (milliseconds), holds every chunk of every reply that long:
/// a database so slow that each command keeps its connection busy.
struct SlowProxy {
    port: u16,
    accepted: Arc<AtomicUsize>,
    delay_ms: Arc<AtomicU64>,
}

impl SlowProxy {
    fn start(upstream: &str) -> SlowProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let (count, delay, upstream) = (accepted.clone(), delay_ms.clone(), upstream.to_owned());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let (mut client_in, mut server_out) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                std::thread::spawn(move || std::io::copy(&mut client_in, &mut server_out));
                let delay = delay.clone();
                std::thread::spawn(move || {
                    let (mut server, mut client) = (server, client);
                    let mut buffer = vec![0; 64 * 1024];
                    while let Ok(n @ 1..) = server.read(&mut buffer) {
                        std::thread::sleep(Duration::from_millis(delay.load(Ordering::SeqCst)));
                        if client.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = client.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        SlowProxy {
            port,
            accepted,
            delay_ms,
        }
    }

    /// The URI through this proxy. The monitor's heartbeat (every 10 s by
    /// default) is put off for the test's length: a slowed one could time
    /// out and reconnect, a connection the pool didn't open.
    fn uri(&self) -> String {
        format!(
            "mongodb://127.0.0.1:{}/?directConnection=true&heartbeatFrequencyMS=60000",
            self.port
        )
    }

    fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Ten `roles` root fields, resolved concurrently by async-graphql, each a
/// database read that wants a connection of its own.
fn ten_concurrent_reads() -> String {
    let fields: String = (0..10)
        .map(|i| format!("r{i}: roles {{ name }} "))
        .collect();
    format!("{{ {fields} }}")
}

/// A fresh graphql container on `uri` (through `proxy`): the connections open
/// once it has started, and after ten concurrent reads sent once every reply
/// takes a second.
async fn connections_for_ten_reads(app: &TestApp, proxy: &SlowProxy, uri: &str) -> (usize, usize) {
    let token = {
        let mut login = app.start("login").await;
        e2e::app::login_pair(&mut login, "root", "root-password")
            .await
            .0
    };
    let mut graphql = app.start_with("graphql", &[("MONGODB_URI", uri)]).await;
    graphql
        .ready_after(Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("graphql never became ready:\n{}", graphql.logs()));
    let opened = proxy.connections();
    proxy.delay_ms.store(1_000, Ordering::SeqCst);
    let event = graphql_request(Some(&token), &ten_concurrent_reads(), json!({}));
    let response = graphql.invoke(event.event(Payload::RestV1)).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    let data = response.body["data"].as_object().expect("data");
    assert_eq!(data.len(), 10, "{}", response.raw_body);
    (opened, proxy.connections())
}

// The pool's default size (README Settings, MONGODB_URI): at most 4
// connections per container unless the URI says otherwise. Start-up opens 3
// (`Store::warm_up`) beside the driver's monitoring connection; then ten
// concurrent reads, each holding its connection for a second or more, open
// one more by default (the pool's fourth) and at least two more with
// `maxPoolSize=10` (the driver opens two at a time while all are busy).
#[tokio::test]
async fn a_container_opens_at_most_four_connections_unless_the_uri_says_otherwise() {
    let app = TestApp::spawn().await;
    let upstream = mongodb_address(&app.db.uri);
    let default = SlowProxy::start(&upstream);
    let (start_up, after) = connections_for_ten_reads(&app, &default, &default.uri()).await;
    let wide = SlowProxy::start(&upstream);
    let uri = format!("{}&maxPoolSize=10", wide.uri());
    let (wide_start_up, wide_after) = connections_for_ten_reads(&app, &wide, &uri).await;
    println!("default: {start_up} then {after}; maxPoolSize=10: {wide_start_up} then {wide_after}");
    assert_eq!(start_up, 4, "3 warmed up and the monitor's");
    assert_eq!(after, 5, "the pool's 4 and the monitor's");
    assert_eq!(wide_start_up, 4);
    assert!(wide_after >= 6, "{wide_after}: maxPoolSize=10 ignored?");
}
