//! One headless locust run (`tests/python/locustfile.py`) against a host, and
//! what it measured: every request's time and outcome per route, and every
//! session's token ids for the audit. Locust's own CSV files and log go
//! beside the JSON, in the output folder.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The run's shape, the same for every service.
#[derive(Debug, Clone)]
pub struct Settings {
    pub users: usize,
    pub spawn_rate: usize,
    pub seconds: u64,
    pub password: String,
    pub out: PathBuf,
}

#[derive(Debug, Deserialize)]
pub struct Clock {
    pub start: Option<f64>,
    pub stop: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Route {
    /// Milliseconds, as locust timed them (request sent to answer read).
    pub times: Vec<f64>,
    /// Failures by status (`0`: no HTTP answer).
    pub errors: BTreeMap<String, usize>,
}

impl Route {
    pub fn quantile(&self, q: f64) -> f64 {
        if self.times.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.times.clone();
        sorted.sort_by(f64::total_cmp);
        sorted[((sorted.len() - 1) as f64 * q).round() as usize]
    }

    pub fn failures(&self) -> usize {
        self.errors.values().sum()
    }
}

/// One session as its locust user saw it.
#[derive(Debug, Clone, Deserialize)]
pub struct Session {
    /// The `uuid` claim of every access and refresh token it was issued, in order.
    pub access: Vec<String>,
    pub refresh: Vec<String>,
    pub refreshed: usize,
    pub rotation_lost: usize,
    /// Its logout answered 200.
    pub ended: bool,
    pub ended_at: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub struct Run {
    pub clock: Clock,
    /// Locust's own CPU seconds.
    #[serde(default)]
    pub cpu: f64,
    pub routes: BTreeMap<String, Route>,
    pub sessions: Vec<Session>,
}

impl Run {
    /// Sessions logged out within the fixed time, per second of it.
    pub fn sessions_per_second(&self, seconds: u64) -> f64 {
        let start = self.clock.start.unwrap_or(0.0);
        let end = start + seconds as f64;
        let within = self
            .sessions
            .iter()
            .filter(|s| s.ended && s.ended_at.is_some_and(|at| at <= end))
            .count();
        within as f64 / seconds as f64
    }

    pub fn route(&self, name: &str) -> &Route {
        static EMPTY: Route = Route {
            times: Vec::new(),
            errors: BTreeMap::new(),
        };
        self.routes.get(name).unwrap_or(&EMPTY)
    }

    /// Seconds from the start until the last user finished its session.
    pub fn wall_seconds(&self) -> f64 {
        match (self.clock.start, self.clock.stop) {
            (Some(start), Some(stop)) => stop - start,
            _ => f64::NAN,
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The locust command: `LOCUST`, or the venv `scripts/load` made.
fn locust() -> PathBuf {
    std::env::var_os("LOCUST")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tools/locust/bin/locust"))
}

/// Runs locust against `host` for the set time, `accounts` seeded users.
pub async fn run(name: &str, host: &str, accounts: usize, settings: &Settings) -> Run {
    std::fs::create_dir_all(&settings.out).expect("the output folder");
    let json = settings.out.join(format!("{name}.json"));
    let _ = std::fs::remove_file(&json);
    let log = std::fs::File::create(settings.out.join(format!("{name}-locust.log")))
        .expect("locust's log file");
    let status = tokio::process::Command::new(locust())
        .arg("-f")
        .arg(root().join("tests/python/locustfile.py"))
        .args(["--headless", "--only-summary", "--loglevel", "WARNING"])
        .args(["--users", &settings.users.to_string()])
        .args(["--spawn-rate", &settings.spawn_rate.to_string()])
        .args(["--run-time", &format!("{}s", settings.seconds)])
        // Every user finishes the session it is in: the audit then knows
        // which sessions ended.
        .args(["--stop-timeout", "60"])
        .args(["--host", host])
        .arg("--csv")
        .arg(settings.out.join(name))
        .env("LOAD_ACCOUNTS", accounts.to_string())
        .env("LOAD_PASSWORD", &settings.password)
        .env("LOAD_OUT", &json)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("the log file"))
        .stderr(log)
        .kill_on_drop(true)
        .status()
        .await
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", locust().display()));
    // Locust exits 1 when any request failed: the figures say how many.
    let text = std::fs::read_to_string(&json).unwrap_or_else(|err| {
        panic!(
            "locust ({status}) wrote no {}: {err}; see {name}-locust.log there",
            json.display()
        )
    });
    serde_json::from_str(&text).expect("the locustfile's JSON")
}
