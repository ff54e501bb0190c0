//! End-to-end costs of the release binaries under the Runtime API emulator,
//! against the test MongoDB-wire server on loopback:
//! - init: process start until the function first polls for an event (cold start
//!   minus the download and VM setup Lambda adds);
//! - warm login, warm logout;
//! - every kind of refused login (unknown user, wrong password on argon2id and on
//!   a legacy bcrypt-12 hash, inactive user, role not allowed), which must take
//!   the same time (#9), and a refusal while locked out, which must be quick.
//!
//! - init when the settings come from Secrets Manager (moto's emulator on
//!   loopback): the extra cold-start cost of reading the secret;
//! - peak memory of a login container after its logins.
//!
//! Run against the deployable packages (the harness itself needs no optimising):
//! `scripts/package && LAMBDA_DIR=$PWD/target/lambda cargo bench -p e2e --bench functions --profile dev`
//! or against native release binaries: `cargo build --release --bins && cargo bench -p e2e --bench functions`.

use e2e::app::login_event;
use e2e::{Function, HttpRequest, Payload, TestDb};
use std::time::{Duration, Instant};

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<34} median {:>9.2?}  p90 {:>9.2?}  min {:>9.2?}  ({} runs)",
        pick(0.5),
        pick(0.9),
        samples[0],
        samples.len()
    );
}

#[tokio::main]
async fn main() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    db.user("bench", "bench-password", admin).await;
    let env = db.env();

    for binary in ["login", "logout", "graphql"] {
        let mut samples = Vec::new();
        for _ in 0..20 {
            let function = Function::start(binary, &env).await;
            let ready = function
                .ready_after(Duration::from_secs(10))
                .await
                .expect("function became ready");
            samples.push(ready);
        }
        summary(&format!("init {binary}"), samples);
    }

    let secret_env = e2e::moto_server::secret_env_for(&db).await;
    for binary in ["login", "graphql"] {
        let mut samples = Vec::new();
        for _ in 0..20 {
            let function = Function::start(binary, &secret_env).await;
            let ready = function
                .ready_after(Duration::from_secs(10))
                .await
                .expect("function became ready");
            samples.push(ready);
        }
        summary(&format!("init {binary}, secret from emulator"), samples);
    }

    let mut login = Function::start("login", &env).await;
    let mut logout = Function::start("logout", &env).await;
    let first = Instant::now();
    let response = login.invoke(login_event("bench", "bench-password")).await;
    assert_eq!(response.status, 200, "{}", response.raw_body);
    println!("{:<34} {:>9.2?}", "first login (connects)", first.elapsed());

    let mut logins = Vec::new();
    let mut logouts = Vec::new();
    for _ in 0..30 {
        let start = Instant::now();
        let response = login.invoke(login_event("bench", "bench-password")).await;
        logins.push(start.elapsed());
        let token = response.body["data"]["token"]
            .as_str()
            .expect("token")
            .to_owned();
        let start = Instant::now();
        let response = logout
            .invoke(
                HttpRequest::post("/admin/logout")
                    .bearer(&token)
                    .event(Payload::RestV1),
            )
            .await;
        logouts.push(start.elapsed());
        assert_eq!(response.status, 200, "{}", response.raw_body);
    }
    summary("warm login", logins);
    summary("warm logout", logouts);
    if let Some(kib) = login.peak_rss_kib() {
        println!("{:<34} {:>6} MiB", "login peak memory (VmHWM)", kib / 1024);
    }

    refusals(&db, admin).await;
}

/// Each kind of refusal, timed in one container with lockout off (so repeated
/// failures stay refusals), then a refusal while locked out.
async fn refusals(db: &TestDb, admin: mongodb::bson::oid::ObjectId) {
    use e2e::db::{PYTHON_BCRYPT_HASH, PYTHON_BCRYPT_PASSWORD};
    db.user_with_hash("legacy", PYTHON_BCRYPT_HASH, admin).await;
    let inactive = db.user("inactive", "inactive-password", admin).await;
    db.set_user(inactive, mongodb::bson::doc! {"active": false})
        .await;
    let guest = db.role("guest").await;
    db.user("guest", "guest-password", guest).await;
    let mut env = db.env();
    env.push(("LOGIN_MAX_FAILURES", "0".into()));
    env.push(("LOGIN_MAX_FAILURES_PER_IP", "0".into()));
    let mut login = Function::start("login", &env).await;
    // The start-up timing of both schemes, before measuring refusals.
    login.wait_for_timing_calibration().await;
    for (name, username, password) in [
        ("refused: unknown user", "nobody", "wrong-password"),
        (
            "refused: wrong password, argon2id",
            "bench",
            "wrong-password",
        ),
        (
            "refused: wrong password, bcrypt-12",
            "legacy",
            "wrong-password",
        ),
        ("refused: inactive user", "inactive", "inactive-password"),
        ("refused: role not allowed", "guest", "guest-password"),
    ] {
        let mut samples = Vec::new();
        for _ in 0..15 {
            let start = Instant::now();
            let response = login.invoke(login_event(username, password)).await;
            samples.push(start.elapsed());
            assert_eq!(response.status, 400, "{}", response.raw_body);
        }
        summary(name, samples);
    }
    let ok = login
        .invoke(login_event("legacy", PYTHON_BCRYPT_PASSWORD))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.raw_body);

    let mut locked_out = Function::start("login", &db.env()).await;
    for _ in 0..5 {
        locked_out
            .invoke(login_event("bench", "wrong-password"))
            .await;
    }
    let mut samples = Vec::new();
    for _ in 0..15 {
        let start = Instant::now();
        let response = locked_out
            .invoke(login_event("bench", "wrong-password"))
            .await;
        samples.push(start.elapsed());
        assert_eq!(response.status, 429, "{}", response.raw_body);
    }
    summary("refused: locked out", samples);
}
