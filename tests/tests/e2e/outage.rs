//! Start-up and database outages: init waits on the database at most 1.5 s, an outage
//! answers 503 in bounded time, and the same warm container recovers.

use e2e::app::login_event;
use e2e::mongo_server::{free_port, spawn_secantus, uri_for, wait_until_listening};
use e2e::{Function, HttpRequest, Payload, TestDb};
use serde_json::json;
use std::time::{Duration, Instant};

/// README, Responses: one command gives up within 5 s (server selection 3 s,
/// the client's bound on a whole operation 5 s), and a whole request within
/// its 6 s deadline.
const ONE_COMMAND: Duration = Duration::from_secs(5);
const REQUEST_DEADLINE: Duration = Duration::from_secs(6);
/// What a loaded 2-core machine may add to a bound measured from outside the
/// function: delivering the event through the Runtime API emulator and the
/// answer back, and a late wake-up of the timer that ends the wait.
const SCHEDULING_MARGIN: Duration = Duration::from_millis(500);

fn env_with_uri(uri: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SECRET_KEY", e2e::SECRET_KEY.to_owned()),
        ("MONGODB_URI", uri.to_owned()),
        ("MONGODB_DATABASE", "outage".to_owned()),
    ]
}

/// A login function pointed at a port where no database listens.
async fn login_with_the_database_down() -> Function {
    let port = free_port().unwrap();
    Function::start("login", &env_with_uri(&uri_for(port))).await
}

/// Init opens the database connections, but waits at most 1.5 s for them and
/// then starts without, saying so.
#[tokio::test]
async fn with_the_database_down_init_succeeds_within_its_bounded_wait() {
    let login = login_with_the_database_down().await;
    let ready = login.ready_after(Duration::from_secs(10)).await;
    let ready = ready.unwrap_or_else(|| panic!("never ready:\n{}", login.logs()));
    assert!(ready < Duration::from_secs(3), "ready after {ready:?}");
    let warned = login
        .wait_for_log(Duration::from_secs(1), |line| {
            line.contains("database connections not opened at start-up")
        })
        .await;
    assert!(warned, "{}", login.logs());
}

/// How long `login` takes to answer one login once it is ready, and the answer.
/// Measured from the end of init, which the test above bounds on its own.
async fn one_login_once_ready(login: &mut Function) -> (Duration, e2e::LambdaResponse) {
    assert!(
        login.ready_after(Duration::from_secs(10)).await.is_some(),
        "never ready:\n{}",
        login.logs()
    );
    let start = Instant::now();
    let response = login.invoke(login_event("alice", "alice-password")).await;
    (start.elapsed(), response)
}

// A login's first wait (the user and its locks) fails, and the login stops
// there: one command's bound, not the request's.
#[tokio::test]
async fn with_the_database_down_a_login_gets_503_within_one_commands_bound() {
    let mut login = login_with_the_database_down().await;
    let (took, response) = one_login_once_ready(&mut login).await;
    assert_eq!(response.status, 503, "{}", response.raw_body);
    assert_eq!(response.raw_body, r#"{"message":"service_unavailable"}"#);
    assert!(took <= ONE_COMMAND + SCHEDULING_MARGIN, "took {took:?}");
}

// The same for a server that accepts connections and never answers: only
// timeouts end the wait.
#[tokio::test]
async fn with_the_database_silent_a_login_gets_503_within_one_commands_bound() {
    let port = e2e::helpers::silent_port();
    let mut login = Function::start("login", &env_with_uri(&uri_for(port))).await;
    let (took, response) = one_login_once_ready(&mut login).await;
    assert_eq!(response.status, 503, "{}", response.raw_body);
    assert_eq!(response.raw_body, r#"{"message":"service_unavailable"}"#);
    assert!(took <= ONE_COMMAND + SCHEDULING_MARGIN, "took {took:?}");
}

#[tokio::test]
async fn a_warm_container_recovers_when_the_database_comes_back() {
    let port = free_port().unwrap();
    let data = std::env::temp_dir().join(format!("e2e-recovery-{}", uuid::Uuid::new_v4()));
    let start_server = |port: u16| {
        let mut command = std::process::Command::new(e2e::mongo_server::secantus_launcher());
        command
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--storage-path")
            .arg(&data)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        e2e::mongo_server::die_with_parent(&mut command);
        let child = command.spawn().expect("start the test server");
        wait_until_listening(port, Duration::from_secs(20)).expect("server up");
        child
    };
    // Make sure the launcher exists, with the usual message if not.
    drop(spawn_secantus(free_port().unwrap()).map(|mut c| c.kill()));
    let mut server = start_server(port);

    let uri = uri_for(port);
    let db = TestDb::prepared(&uri, "outage").await;
    let admin = db.role("admin").await;
    db.user("alice", "alice-password", admin).await;

    let mut login = Function::start("login", &env_with_uri(&uri)).await;
    assert_eq!(
        login
            .invoke(login_event("alice", "alice-password"))
            .await
            .status,
        200
    );

    stop(&mut server);
    let response = login.invoke(login_event("alice", "alice-password")).await;
    assert_eq!(response.status, 503, "{}", response.raw_body);

    let mut server = start_server(port);
    let mut recovered = false;
    for _ in 0..20 {
        let response = login.invoke(login_event("alice", "alice-password")).await;
        if response.status == 200 {
            recovered = true;
            break;
        }
        assert_eq!(response.status, 503, "{}", response.raw_body);
        // Time for the driver to reconnect between attempts: recovery shows only
        // in answers, so this retries at an interval, 5 s in all.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    stop(&mut server);
    let _ = std::fs::remove_dir_all(&data);
    assert!(
        recovered,
        "the warm container never recovered:\n{}",
        login.logs()
    );
}

fn stop(server: &mut std::process::Child) {
    // SIGTERM lets the server flush its storage; wait for it to let go of the port.
    unsafe {
        libc::kill(server.id() as i32, libc::SIGTERM);
    }
    let _ = server.wait();
}

type Env = Vec<(&'static str, String)>;

#[tokio::test]
async fn start_up_fails_naming_a_missing_or_bad_setting_but_never_a_value() {
    // (case, environment, the setting named, a value that must not appear)
    let cases: [(&str, Env, &str, &str); 3] = [
        (
            "no SECRET_KEY",
            vec![("MONGODB_URI", "mongodb://127.0.0.1:1".into())],
            "SECRET_KEY",
            "mongodb://127.0.0.1:1",
        ),
        (
            "bad boolean",
            vec![
                ("SECRET_KEY", e2e::SECRET_KEY.into()),
                ("MONGODB_URI", "mongodb://127.0.0.1:1".into()),
                ("WHITE_LIST_TOKEN", "sometimes".into()),
            ],
            "WHITE_LIST_TOKEN",
            e2e::SECRET_KEY,
        ),
        (
            "unparseable URI with a password",
            vec![
                ("SECRET_KEY", e2e::SECRET_KEY.into()),
                (
                    "MONGODB_URI",
                    "mongo://admin:hunter2@db.example:27017".into(),
                ),
            ],
            "MONGODB_URI",
            "hunter2",
        ),
    ];
    for (case, env, named, hidden) in cases {
        for binary in ["login", "logout"] {
            let mut function = Function::start(binary, &env).await;
            let code = function.exit_code(Duration::from_secs(10)).await;
            assert!(
                matches!(code, Some(c) if c != 0),
                "{case}: {binary} kept running"
            );
            // The reader threads may still hold its last lines when the
            // exit is seen: wait for the one naming the setting.
            let named_it = function
                .wait_for_log(Duration::from_secs(5), |line| line.contains(named))
                .await;
            let logs = function.logs();
            assert!(named_it, "{case}: {binary} did not name {named}:\n{logs}");
            assert!(
                !logs.contains(hidden),
                "{case}: {binary} logged {hidden}:\n{logs}"
            );
        }
    }
}

// #12.10: one deadline for the whole request. Each command is bounded on its
// own (a few seconds), so without it a batch of five refreshes against a silent
// database would take five times that, past the function's Timeout. The
// refreshes run one after another, each failing after server selection's 3 s,
// so the deadline is what ends the batch: at 6 s, not before, and no later
// than the margin after (the test's clock starts before the function's).
#[tokio::test]
async fn a_batch_against_a_silent_database_answers_503_at_the_request_deadline() {
    let port = e2e::helpers::silent_port();
    let mut graphql = Function::start("graphql", &env_with_uri(&uri_for(port))).await;
    assert!(
        graphql.ready_after(Duration::from_secs(10)).await.is_some(),
        "{}",
        graphql.logs()
    );
    // Well-signed refresh tokens: each refresh gets as far as the database.
    let now = e2e::helpers::now();
    let batch: Vec<serde_json::Value> = (0..5)
        .map(|i| {
            let refresh = e2e::helpers::sign_hs256(
                &json!({"exp": now + 600, "uuid": format!("refresh-{i}")}),
                e2e::SECRET_KEY,
            );
            json!({
                "query": "mutation($i: RefreshTokenInput!) { refresh_token(input: $i) { access_token } }",
                "variables": {"i": {"refresh_token": refresh}},
            })
        })
        .collect();
    let start = Instant::now();
    let response = graphql
        .invoke(
            HttpRequest::post("/admin/graphql")
                .json(&json!(batch))
                .event(Payload::RestV1),
        )
        .await;
    let took = start.elapsed();
    assert_eq!(response.status, 503, "{}", response.raw_body);
    assert!(
        response.raw_body.contains("service_unavailable"),
        "{}",
        response.raw_body
    );
    assert!(
        took >= REQUEST_DEADLINE && took <= REQUEST_DEADLINE + SCHEDULING_MARGIN,
        "took {took:?}"
    );
}
