//! `scripts/bench`: our functions against the Python package they replace
//! (flask-auth-service-mongo 0.1.8, served by `tests/python/flask_service.py`),
//! on one machine and one test database, like for like:
//! - both verifying the same bcrypt-12 hash (ours in `PASSWORD_HASH=bcrypt`
//!   mode, as the cut-over guide runs it beside the package), and ours with its
//!   default argon2id user besides;
//! - per route (login, logout, a guarded GraphQL `me`): p50 and p95 of warm
//!   requests, start-up, peak memory, and the database commands one request
//!   sends (counted by a proxy that reads the wire protocol, so both drivers
//!   are counted alike);
//! - each login's password check, timed by the service that ran it, and so
//!   the time a login spends outside the hash;
//! - the authorizer, and the cold start with the settings read from Secrets
//!   Manager.
//!
//! Writes the Markdown body `scripts/bench` puts into docs/benchmark.md and the
//! README (to `BENCH_OUT`), and `docs/benchmark.svg`. Our functions run as
//! built: `scripts/bench` sets `LAMBDA_DIR` to the release packages.
//!
//! The authorizer has no counterpart route at the package (its
//! `auth.required` runs inside every guarded view, so it is part of the
//! package's `me`): its row is ours alone, a REST `TOKEN` event per request.

#[path = "compare/report.rs"]
mod report;
#[path = "compare/sides.rs"]
mod sides;

use e2e::proxy::{mongodb_address, Proxy};
use e2e::TestDb;
use report::Report;
use sides::{Service, Side};
use std::path::PathBuf;

const BCRYPT_USER: &str = "pybench";
const ARGON2_USER: &str = "bench";
const PASSWORD: &str = "bench-password";

#[tokio::main]
async fn main() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    let argon2 = shared::auth::password::hash(PASSWORD).expect("argon2id hash");
    db.user_with_hash(ARGON2_USER, &argon2, admin).await;
    // One bcrypt-12 user, the hash the package writes, verified by both
    // services (ours in bcrypt mode keeps it as it is: nothing is upgraded).
    let bcrypt =
        shared::auth::password::hash_with(shared::auth::password::HashScheme::Bcrypt, PASSWORD)
            .expect("bcrypt hash");
    db.user_with_hash(BCRYPT_USER, &bcrypt, admin).await;
    let proxy = Proxy::recording_mongodb_commands(&mongodb_address(&db.uri));

    let services = [
        Service::rust_bcrypt(BCRYPT_USER),
        Service::flask(BCRYPT_USER),
        Service::rust_default(ARGON2_USER),
    ];
    let mut measured: Vec<Side> = Vec::new();
    for service in &services {
        measured.push(service.measure(&db, &proxy, PASSWORD).await);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("BENCH_TARGET")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let guard = sides::authorizer(&db, &proxy, ARGON2_USER, PASSWORD).await;
    let secrets = sides::secret_startups(&db).await;
    let report = Report {
        machine: report::machine(),
        date: std::env::var("BENCH_DATE").unwrap_or_else(|_| "(date not given)".into()),
        commit: std::env::var("BENCH_COMMIT").unwrap_or_else(|_| "(commit not given)".into()),
        sides: measured,
        guard,
        secrets,
        packages: report::package_sizes(&target),
    };
    let body = report.markdown();
    println!("\n{body}");
    let out = std::env::var_os("BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/bench/compare.md"));
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).expect("create the report's folder");
    }
    std::fs::write(&out, &body).expect("write the report");
    std::fs::write(root.join("docs/benchmark.svg"), report.svg()).expect("write the chart");
    println!("report: {}; chart: docs/benchmark.svg", out.display());
}
