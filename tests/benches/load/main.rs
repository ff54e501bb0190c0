//! `scripts/load` (`scripts/bench --load`): whole sessions from many
//! concurrent locust users (`tests/python/locustfile.py`: login, guarded
//! GraphQL `me` calls, two refreshes, logout) for a fixed time, against our
//! functions (N containers of each behind an API Gateway stand-in, see
//! `front.rs`) and against the Python package they replace (gunicorn with N
//! workers, see `flask.rs`), one after the other on one SecantusDB server.
//! Reports sessions per second, p50/p95 per route and the errors, audits each
//! database afterwards (`audit.rs`), prints the Markdown and writes it to
//! `docs/load.md`.
//!
//! Settings (environment; `scripts/load` sets them from its flags):
//! `LOAD_CONTAINERS` (4: containers per function), `LOAD_WORKERS` (the
//! package's gunicorn workers; as many as `LOAD_CONTAINERS`),
//! `LOAD_USERS` (32), `LOAD_SPAWN_RATE` (half the users per second),
//! `LOAD_SECONDS` (60), `LOAD_SERVICES` (`rust,flask,rust-argon2id`),
//! `LOAD_OUT` (locust's files; `target/load`), `LOAD_REPORT` (`docs/load.md`).
//! Our functions run from `LAMBDA_DIR` (the packages) when it is set.

mod audit;
mod cpu;
mod flask;
mod front;
mod locust;
mod report;

use e2e::TestDb;
use shared::auth::password::{hash, hash_with, HashScheme};
use std::path::{Path, PathBuf};

const PASSWORD: &str = "load-password";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Service {
    /// Ours, every user bcrypt-12 and `PASSWORD_HASH=bcrypt` (nothing is
    /// rehashed): the like-for-like row.
    Rust,
    /// The package, every user bcrypt-12 (the only hash it verifies).
    Flask,
    /// Ours with its default: argon2id users.
    RustArgon2id,
}

impl Service {
    fn parse(name: &str) -> Service {
        match name.trim() {
            "rust" => Service::Rust,
            "flask" => Service::Flask,
            "rust-argon2id" => Service::RustArgon2id,
            other => {
                panic!("LOAD_SERVICES: unknown service {other:?} (rust, flask, rust-argon2id)")
            }
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Service::Rust => "rust",
            Service::Flask => "flask",
            Service::RustArgon2id => "rust-argon2id",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Service::Rust => "Rust functions",
            Service::Flask => "Flask package 0.1.8",
            Service::RustArgon2id => "Rust functions, argon2id",
        }
    }

    fn hash(self) -> &'static str {
        match self {
            Service::Rust | Service::Flask => "bcrypt-12",
            Service::RustArgon2id => "argon2id",
        }
    }
}

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn number(name: &str, default: usize) -> usize {
    let value = setting(name, &default.to_string());
    value
        .parse()
        .unwrap_or_else(|_| panic!("{name}={value:?} is not a number"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn seed(db: &TestDb, accounts: usize, stored_hash: &str) {
    let admin = db.role("admin").await;
    for n in 0..accounts {
        db.user_with_hash(&format!("load{n}"), stored_hash, admin)
            .await;
    }
}

/// Runs one service under load and audits its database.
async fn measure(
    service: Service,
    (containers, workers): (usize, usize),
    accounts: usize,
    settings: &locust::Settings,
) -> report::Outcome {
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let name = format!("load_{}_{suffix}", service.slug().replace('-', "_"));
    // Straight to the server: the tests' compatibility proxy would add a hop.
    let db = TestDb::prepared(&e2e::mongo_server::direct_uri(), &name).await;
    let stored_hash = match service {
        Service::RustArgon2id => hash(PASSWORD),
        Service::Rust | Service::Flask => hash_with(HashScheme::Bcrypt, PASSWORD),
    }
    .expect("a password hash");
    seed(&db, accounts, &stored_hash).await;
    eprintln!("load: {} ({}): starting", service.label(), service.hash());
    let mut waits = Vec::new();
    let (run, cpu) = if service == Service::Flask {
        let gunicorn = flask::Gunicorn::start(&db, workers).await;
        let host = format!("http://127.0.0.1:{}", gunicorn.port);
        let before = report::Cpu::now(|| cpu::tree(gunicorn.pid()));
        let run = locust::run(service.slug(), &host, accounts, settings).await;
        let cpu = report::Cpu::now(|| cpu::tree(gunicorn.pid())).since(&before);
        (run, cpu)
    } else {
        let mut env = db.env();
        if service == Service::Rust {
            env.push(("PASSWORD_HASH", "bcrypt".to_owned()));
        }
        let front = front::Front::start(containers, &env).await;
        let host = format!("http://127.0.0.1:{}", front.port);
        // The packages' binaries are all `bootstrap`; debug ones have their names.
        let functions = || cpu::children_named_any(&["bootstrap", "login", "logout", "graphql"]);
        let before = report::Cpu::now(functions);
        let run = locust::run(service.slug(), &host, accounts, settings).await;
        let cpu = report::Cpu::now(functions).since(&before);
        for pool in front.pools.iter() {
            let replaced = pool.replaced.load(std::sync::atomic::Ordering::Relaxed);
            waits.push((pool.function, pool.waits(), replaced));
        }
        (run, cpu)
    };
    let audit = audit::check(&db, &run.sessions, service != Service::Flask).await;
    eprintln!(
        "load: {}: {:.2} sessions/s, {} sessions, wall {:.1} s, audit {}",
        service.label(),
        run.sessions_per_second(settings.seconds),
        run.sessions.len(),
        run.wall_seconds(),
        if audit.clean() { "clean" } else { "NOT clean" }
    );
    report::Outcome {
        service: service.label().to_owned(),
        hash: service.hash(),
        run,
        audit,
        waits,
        cpu,
    }
}

fn machine() -> String {
    let packages = match std::env::var("LAMBDA_DIR") {
        Ok(_) => "our release packages",
        Err(_) => "our debug binaries (LAMBDA_DIR unset)",
    };
    format!(
        "{}, everything on loopback (load tool included), {packages}",
        e2e::machine::cores_and_cpu()
    )
}

fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let containers = number("LOAD_CONTAINERS", 4);
    let workers = number("LOAD_WORKERS", containers);
    let users = number("LOAD_USERS", 32);
    let settings = locust::Settings {
        users,
        spawn_rate: number("LOAD_SPAWN_RATE", users.div_ceil(2)),
        seconds: number("LOAD_SECONDS", 60) as u64,
        password: PASSWORD.to_owned(),
        out: PathBuf::from(setting(
            "LOAD_OUT",
            &root().join("target/load").to_string_lossy(),
        )),
    };
    let services: Vec<Service> = setting("LOAD_SERVICES", "rust,flask,rust-argon2id")
        .split(',')
        .map(Service::parse)
        .collect();
    // One user per locust user: no two sessions race on one username.
    let accounts = users;
    let mut outcomes = Vec::new();
    for service in services {
        outcomes.push(measure(service, (containers, workers), accounts, &settings).await);
    }
    let context = report::Context {
        machine: machine(),
        date: today(),
        containers,
        workers,
        accounts,
        settings: &settings,
    };
    let markdown = report::markdown(&context, &outcomes);
    println!("\n{markdown}");
    let path = PathBuf::from(setting(
        "LOAD_REPORT",
        &root().join("docs/load.md").to_string_lossy(),
    ));
    std::fs::write(
        &path,
        format!(
            "# Load run\n\n<!-- written by scripts/load; run it again to update -->\n\n{markdown}"
        ),
    )
    .expect("write the report");
    println!("report: {}", path.display());
}
