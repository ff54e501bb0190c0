//! Settings of the README's Settings table that no other test changes, each
//! changed here and observed through the built functions: the first lock's
//! length (`LOGIN_LOCKOUT_BASE_SECONDS`), the lockout cap and how long
//! failures are remembered (`LOGIN_LOCKOUT_MAX_SECONDS`), the length of a
//! generated password (`RESET_PASSWORD_LEN_GENERATOR` against
//! `PASSWORD_MIN_LENGTH`), the minimum lengths of new usernames and passwords,
//! a short `SECRET_KEY`'s warning, `RUST_LOG` beside `AWS_LAMBDA_LOG_LEVEL`,
//! and the connection pool's defaults (its size, how long a connection may
//! idle).

use e2e::app::{graphql_request, login_pair, ANY_ROLE};
use e2e::db::failures;
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
    let entry = app.db.login_attempt_of("root").await;
    entry.expect("root has an entry")
}

fn millis_from_now(offset_ms: i64) -> DateTime {
    DateTime::from_millis(DateTime::now().timestamp_millis() + offset_ms)
}

// LOGIN_LOCKOUT_BASE_SECONDS: the first lock's length (1 s by default). At 3
// s, the failure that reaches LOGIN_MAX_FAILURES (1 here) locks the username
// for 3 s from its refusal's answer: Retry-After says so (at most 3, and more
// than the default's 1 unless a second passed between the two requests);
// 1.5 s after the answer the right password is still refused, where the
// default lock would be over; 1.5 s after the lock's end it logs in.
#[tokio::test]
async fn the_first_lock_lasts_login_lockout_base_seconds() {
    let mut app = calibrated(&[
        ("LOGIN_MAX_FAILURES", "1"),
        ("LOGIN_LOCKOUT_BASE_SECONDS", "3"),
    ])
    .await;
    let failed = attempt(&mut app.login_fn, "root", "wrong-password").await;
    assert_eq!(failed.status, 400, "{}", failed.raw_body);
    let answered = Instant::now();
    let locked = attempt(&mut app.login_fn, "root", "root-password").await;
    assert_eq!(locked.status, 429, "{}", locked.raw_body);
    let retry: u64 = locked
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After");
    assert!((2..=3).contains(&retry), "Retry-After {retry}");
    tokio::time::sleep_until((answered + Duration::from_millis(1_500)).into()).await;
    let still = attempt(&mut app.login_fn, "root", "root-password").await;
    assert_eq!(still.status, 429, "{}", still.raw_body);
    tokio::time::sleep_until((answered + Duration::from_millis(4_500)).into()).await;
    let response = attempt(&mut app.login_fn, "root", "root-password").await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
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
// would lock; after 6.5 s of quiet (the cap is 5 s: a 1.5 s margin) it doesn't.
// The cap outlasts a refusal's padding (seconds on a loaded machine), so the
// entry is still there to read after each answer: the test server's TTL
// monitor removes an expired one at any moment.
#[tokio::test]
async fn failures_are_forgotten_once_the_username_is_quiet_for_login_lockout_max_seconds() {
    let mut app = calibrated(&[
        ("LOGIN_MAX_FAILURES", "2"),
        ("LOGIN_LOCKOUT_MAX_SECONDS", "5"),
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
    assert_eq!(expires.timestamp_millis() - last, 5_000);
    tokio::time::sleep_until((answered + Duration::from_millis(6_500)).into()).await;
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

/// 20 bytes: under the 32 that RFC 7518 asks of an HS256 key.
const SHORT_KEY: &str = "a-key-of-twenty-byte";

/// Whether `function` warned, at start-up, of a key under 32 bytes.
fn warned_of_a_short_key(function: &Function) -> bool {
    function.log_records().iter().any(|record| {
        record["message"] == "secret key is shorter than 32 bytes"
            && record["setting"] == "SECRET_KEY"
    })
}

/// Logs `root` in through `login` and waits for the line of its audit event:
/// whatever `login` wrote before (start-up's lines) has been read by then.
async fn log_root_in(login: &mut Function) -> String {
    let (access, _) = login_pair(login, "root", "root-password").await;
    let logged = login
        .wait_for_log(Duration::from_secs(5), |line| {
            line.contains("login_succeeded")
        })
        .await;
    assert!(logged, "no login_succeeded line:\n{}", login.logs());
    access
}

fn signed_with(token: &str, key: &str) -> bool {
    let key = jsonwebtoken::DecodingKey::from_secret(key.as_bytes()).expect("a key");
    let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    jsonwebtoken::decode::<Value>(token, &key, &validation).is_ok()
}

// SECRET_KEY under 32 bytes: a warning naming the setting (never the key),
// and the key is still used, since a team moving over must keep the key its
// live tokens were signed with. A key of 32 bytes or more warns of nothing.
#[tokio::test]
async fn a_secret_key_under_32_bytes_is_used_and_warned_of() {
    let mut app = TestApp::with_env(&[("SECRET_KEY", SHORT_KEY)]).await;
    let access = log_root_in(&mut app.login_fn).await;
    assert!(signed_with(&access, SHORT_KEY), "{access}");
    assert!(
        warned_of_a_short_key(&app.login_fn),
        "{}",
        app.login_fn.logs()
    );
    assert!(!app.login_fn.logs().contains(SHORT_KEY));
    let mut long = app
        .start_with("login", &[("SECRET_KEY", e2e::SECRET_KEY)])
        .await;
    log_root_in(&mut long).await;
    assert!(!warned_of_a_short_key(&long), "{}", long.logs());
}

// AWS_LAMBDA_LOG_LEVEL / RUST_LOG: without Lambda's own setting RUST_LOG sets
// the level, and Lambda's wins when both are set. Seen on a start-up warning
// (a short SECRET_KEY's, shown at the default INFO by the test above):
// RUST_LOG=ERROR drops it, and AWS_LAMBDA_LOG_LEVEL=WARN beside it keeps it.
#[tokio::test]
async fn rust_log_sets_the_level_unless_aws_lambda_log_level_is_set() {
    let mut app = TestApp::with_env(&[("SECRET_KEY", SHORT_KEY), ("RUST_LOG", "ERROR")]).await;
    log_root_in(&mut app.login_fn).await;
    assert!(
        !warned_of_a_short_key(&app.login_fn),
        "{}",
        app.login_fn.logs()
    );
    let mut lambda = app
        .start_with("login", &[("AWS_LAMBDA_LOG_LEVEL", "WARN")])
        .await;
    log_root_in(&mut lambda).await;
    assert!(warned_of_a_short_key(&lambda), "{}", lambda.logs());
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

/// A graphql container on `uri` (through `proxy`): the connections opened
/// by one guarded `me` after start-up, and after a second `me` sent once the
/// first one's connections have been idle for 2 s.
async fn connections_around_an_idle_pause(
    app: &TestApp,
    proxy: &SlowProxy,
    uri: &str,
) -> (usize, usize) {
    let token = {
        let mut login = app.start("login").await;
        login_pair(&mut login, "root", "root-password").await.0
    };
    let mut graphql = app.start_with("graphql", &[("MONGODB_URI", uri)]).await;
    let me = || graphql_request(Some(&token), "{ me { username } }", json!({}));
    let first = graphql.invoke(me().event(Payload::RestV1)).await;
    assert_eq!(first.status, 200, "{}", first.raw_body);
    let before = proxy.connections();
    // Idle time is what is being measured: a sleep.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let second = graphql.invoke(me().event(Payload::RestV1)).await;
    assert_eq!(second.status, 200, "{}", second.raw_body);
    (before, proxy.connections())
}

// MONGODB_URI's other default (README Settings), maxIdleTimeMS=60000: a
// connection idle for 2 s is used again; with maxIdleTimeMS=1000 in the URI
// the pool closes it and the next request opens new ones.
#[tokio::test]
async fn a_connection_idle_for_2_s_is_reused_unless_the_uri_sets_max_idle_time_ms() {
    let app = TestApp::spawn().await;
    let upstream = mongodb_address(&app.db.uri);
    let default = SlowProxy::start(&upstream);
    let (kept, still) = connections_around_an_idle_pause(&app, &default, &default.uri()).await;
    let short = SlowProxy::start(&upstream);
    let uri = format!("{}&maxIdleTimeMS=1000", short.uri());
    let (before, after) = connections_around_an_idle_pause(&app, &short, &uri).await;
    println!("default: {kept} then {still}; maxIdleTimeMS=1000: {before} then {after}");
    assert_eq!(still, kept, "a connection idle for 2 s was replaced");
    assert!(after > before, "maxIdleTimeMS=1000 ignored?");
}
