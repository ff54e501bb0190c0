//! Every refusal takes the same time (README, Brute force): an unknown user, a
//! wrong password on an argon2id hash or on a legacy bcrypt-12 one, an
//! inactive user and a role not allowed are all padded to the slowest check
//! the container has timed, so the time tells neither which usernames exist
//! nor which rule refused. (A bcrypt-12 check takes ~13x an argon2id one, and
//! an unknown user's dummy check or an inactive user's right password would
//! otherwise answer in tens of milliseconds.)

use e2e::app::login_event;
use e2e::db::PYTHON_BCRYPT_HASH;
use e2e::TestApp;
use mongodb::bson::doc;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Lockout off: dozens of refusals of the same usernames and source IP must
/// not lock them (a locked attempt answers 429 at once, checking nothing).
const LOCKOUT_OFF: &[(&str, &str)] = &[
    ("LOGIN_MAX_FAILURES", "0"),
    ("LOGIN_MAX_FAILURES_PER_IP", "0"),
];

/// Timed refusals per kind, after one untimed round (first-use costs). Each
/// takes the floor, ~300 ms here (bcrypt-12), so 5 kinds take ~12 s in all.
const SAMPLES: usize = 7;

/// How far apart the kinds' medians may be: the slowest at most 25% over the
/// fastest.
const SPREAD: f64 = 1.25;

/// (kind, username, password, the `reason` its `login_failed` line gives).
const KINDS: [(&str, &str, &str, &str); 5] = [
    (
        "unknown user",
        "nobody-here",
        "any-password",
        "unknown_user",
    ),
    (
        "wrong password, argon2id",
        "root",
        "wrong-password",
        "wrong_password",
    ),
    (
        "wrong password, bcrypt-12",
        "legacy",
        "wrong-password",
        "wrong_password",
    ),
    // The right passwords: the check passes and a later rule refuses.
    ("inactive user", "idle", "idle-password", "inactive_user"),
    // `sue`'s role, support, is not in the default ALLOWED_ROLES (admin).
    ("role not allowed", "sue", "current", "role_not_allowed"),
];

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

// The kinds take turns, round after round, so a change in the machine's load
// (another build starting) falls on all of them alike; the median of each
// drops the odd slow request.
#[tokio::test]
async fn every_kind_of_refusal_takes_the_same_time_within_25_percent() {
    let mut app = TestApp::with_env(LOCKOUT_OFF).await;
    app.db
        .user_with_hash("legacy", PYTHON_BCRYPT_HASH, app.admin_role)
        .await;
    let idle = app.db.user("idle", "idle-password", app.admin_role).await;
    app.db.set_user(idle, doc! { "active": false }).await;
    // Until both schemes are timed, refusals are padded to argon2id's check.
    app.login_fn.wait_for_timing_calibration().await;

    let mut samples = vec![Vec::new(); KINDS.len()];
    for round in 0..=SAMPLES {
        for (kind, (name, username, password, _)) in KINDS.iter().enumerate() {
            let start = Instant::now();
            let response = app.login_fn.invoke(login_event(username, password)).await;
            let took = start.elapsed();
            assert_eq!(response.status, 400, "{name}: {}", response.raw_body);
            assert_eq!(response.raw_body, r#"{"message":"bad_credentials"}"#);
            if round > 0 {
                samples[kind].push(took);
            }
        }
    }
    // Each kind was refused for its own reason, not for a mistake in the set-up.
    let refusals = app
        .wait_for_events("login_failed", KINDS.len() * (SAMPLES + 1))
        .await;
    let reasons: BTreeSet<&str> = refusals
        .iter()
        .filter_map(|r| r["reason"].as_str())
        .collect();
    let expected: BTreeSet<&str> = KINDS.iter().map(|kind| kind.3).collect();
    assert_eq!(reasons, expected);

    let medians: Vec<(&str, Duration)> = KINDS
        .iter()
        .zip(samples)
        .map(|(kind, samples)| (kind.0, median(samples)))
        .collect();
    println!("medians of {SAMPLES}: {medians:?}");
    let fastest = medians.iter().map(|m| m.1).min().unwrap_or_default();
    let slowest = medians.iter().map(|m| m.1).max().unwrap_or_default();
    assert!(
        slowest.as_secs_f64() <= fastest.as_secs_f64() * SPREAD,
        "medians of {SAMPLES} refusals each: {medians:?}"
    );
}
