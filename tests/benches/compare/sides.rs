//! Each service measured alike: warm login, GraphQL `me` and logout in turn,
//! start-ups, peak memory, commands per request, and the time of each login's
//! password check, as the service that ran it timed it.

use e2e::app::login_event;
use e2e::proxy::Proxy;
use e2e::python_service::PythonService;
use e2e::{Function, HttpRequest, Payload, TestDb};
use serde_json::json;
use std::time::{Duration, Instant};

const RUNS: usize = 40;
const STARTS: usize = 10;
const ME: &str = "{ me { username } }";
const READY: Duration = Duration::from_secs(10);

#[derive(Default, Clone)]
pub struct Route {
    pub samples: Vec<Duration>,
    pub commands: usize,
}

impl Route {
    /// Awaits one request, adding its time to the samples and keeping the
    /// commands the proxy saw for it (the client is done once it answered).
    async fn time<T>(&mut self, proxy: &Proxy, request: impl std::future::Future<Output = T>) -> T {
        let before = proxy.commands().len();
        let start = Instant::now();
        let answer = request.await;
        self.samples.push(start.elapsed());
        self.commands = proxy.commands().len() - before;
        answer
    }

    pub fn quantile(&self, q: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        sorted[((sorted.len() - 1) as f64 * q).round() as usize]
    }
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Rust { bcrypt_mode: bool },
    Flask,
}

/// One service as the bench runs it: which implementation, in which mode, and
/// the user it logs in.
pub struct Service {
    kind: Kind,
    user: &'static str,
}

/// What one service measured: `routes` in the order of [`ROUTES`].
pub struct Side {
    pub name: &'static str,
    pub hash_name: &'static str,
    pub routes: [Route; 3],
    pub startup: Duration,
    pub peak_mib: [f64; 3],
    /// Median time of the warm logins' password checks, as each service timed
    /// its own in the process that served them (ours: the hop to the blocking
    /// pool included; the package: its `bcrypt.checkpw` call).
    pub verify: Duration,
}

pub const ROUTES: [&str; 3] = ["login", "logout", "GraphQL `me`"];

impl Service {
    pub fn rust_bcrypt(user: &'static str) -> Service {
        let kind = Kind::Rust { bcrypt_mode: true };
        Service { kind, user }
    }

    pub fn rust_default(user: &'static str) -> Service {
        let kind = Kind::Rust { bcrypt_mode: false };
        Service { kind, user }
    }

    pub fn flask(user: &'static str) -> Service {
        Service {
            kind: Kind::Flask,
            user,
        }
    }

    pub async fn measure(&self, db: &TestDb, proxy: &Proxy, password: &str) -> Side {
        match self.kind {
            Kind::Rust { bcrypt_mode } => ours(db, proxy, bcrypt_mode, self.user, password).await,
            Kind::Flask => flask(db, proxy, self.user, password).await,
        }
    }
}

/// The checks login timed itself (its `password check timed` debug lines), in
/// the binary and the logins measured: the last `RUNS` are the warm logins'.
fn checks_timed(login: &Function) -> Duration {
    let samples: Vec<Duration> = login
        .log_records()
        .iter()
        .filter(|record| record["message"] == "password check timed")
        .filter_map(|record| {
            let field = &record["took_us"];
            field.as_u64().or_else(|| field.as_str()?.parse().ok())
        })
        .map(Duration::from_micros)
        .collect();
    assert!(
        samples.len() >= RUNS,
        "login logged {} timed checks",
        samples.len()
    );
    median(samples[samples.len() - RUNS..].to_vec())
}

/// The median of the package's last `RUNS` timed checks (the warm logins').
fn package_checks(path: &std::path::Path) -> Duration {
    let text = std::fs::read_to_string(path).expect("the package's timed checks");
    let samples: Vec<Duration> = text
        .lines()
        .map(|line| Duration::from_micros(line.parse().expect("microseconds")))
        .collect();
    assert!(
        samples.len() >= RUNS,
        "the package timed {} checks",
        samples.len()
    );
    let _ = std::fs::remove_file(path);
    median(samples[samples.len() - RUNS..].to_vec())
}

fn env_through(db: &TestDb, proxy: &Proxy, bcrypt_mode: bool) -> Vec<(&'static str, String)> {
    let mut env = db.env();
    env.retain(|(name, _)| *name != "MONGODB_URI");
    env.push(("MONGODB_URI", proxy.mongodb_uri()));
    if bcrypt_mode {
        env.push(("PASSWORD_HASH", "bcrypt".into()));
    }
    env
}

/// Our crates' debug lines (the login's timed checks); every other crate
/// stays at INFO (shared/src/runtime/telemetry.rs).
fn with_debug(mut env: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
    env.push(("RUST_LOG", "debug".into()));
    env
}

async fn ours(db: &TestDb, proxy: &Proxy, bcrypt_mode: bool, user: &str, password: &str) -> Side {
    let env = env_through(db, proxy, bcrypt_mode);
    let mut startups = Vec::new();
    for binary in ["login", "logout", "graphql"] {
        for _ in 0..STARTS {
            let function = Function::start(binary, &env).await;
            startups.push(
                function
                    .ready_after(READY)
                    .await
                    .expect("function became ready"),
            );
        }
    }
    let mut login = Function::start("login", &with_debug(env.clone())).await;
    let mut logout = Function::start("logout", &env).await;
    let mut graphql = Function::start("graphql", &env).await;
    for function in [&login, &logout, &graphql] {
        function.ready_after(READY).await;
    }
    // Login's start-up timing of both schemes, before its logins count.
    login.wait_for_timing_calibration().await;
    let mut routes: [Route; 3] = Default::default();
    for _ in 0..RUNS {
        let response = routes[0]
            .time(proxy, login.invoke(login_event(user, password)))
            .await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        let token = response.body["data"]["token"]
            .as_str()
            .expect("token")
            .to_owned();

        let request = e2e::app::graphql_request(Some(&token), ME, json!({}));
        let response = routes[2]
            .time(proxy, graphql.invoke(request.event(Payload::RestV1)))
            .await;
        assert_eq!(response.status, 200, "{}", response.raw_body);

        let request = HttpRequest::post("/admin/logout")
            .bearer(&token)
            .json(&json!({}));
        let response = routes[1]
            .time(proxy, logout.invoke(request.event(Payload::RestV1)))
            .await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
    }
    // A failed read is a broken bench, not "0 MiB".
    let peak = |f: &Function| f.peak_rss_kib().expect("the function's VmHWM") as f64 / 1024.0;
    let (name, hash_name) = if bcrypt_mode {
        ("Rust functions, PASSWORD_HASH=bcrypt", "bcrypt-12")
    } else {
        ("Rust functions, default", "argon2id")
    };
    Side {
        name,
        hash_name,
        routes,
        startup: median(startups),
        peak_mib: [peak(&login), peak(&logout), peak(&graphql)],
        verify: checks_timed(&login),
    }
}

async fn flask(db: &TestDb, proxy: &Proxy, user: &str, password: &str) -> Side {
    let uri = proxy.mongodb_uri();
    // The package's own checks, timed in the process that serves the logins
    // (tests/python/flask_service.py, `time_password_checks`).
    let checks = std::env::temp_dir().join(format!("bench-checks-{}", std::process::id()));
    let _ = std::fs::remove_file(&checks);
    let checks_path = checks.to_string_lossy().into_owned();
    let start = Instant::now();
    let extra = [
        ("MONGODB_URI", uri.as_str()),
        ("BENCH_CHECK_TIMES", &checks_path),
    ];
    let service = PythonService::start_with(db, &extra).await;
    let startup = start.elapsed();
    let mut routes: [Route; 3] = Default::default();
    for _ in 0..RUNS {
        let response = routes[0]
            .time(proxy, service.post_login(user, password))
            .await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        let token = response.body["data"]["access_token"]
            .as_str()
            .expect("token")
            .to_owned();

        let response = routes[2]
            .time(proxy, service.graphql(&token, ME, json!({})))
            .await;
        assert_eq!(response.status, 200, "{}", response.raw_body);

        let response = routes[1].time(proxy, service.logout(&token)).await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
    }
    let peak = service.peak_rss_kib().expect("the package's VmHWM") as f64 / 1024.0;
    Side {
        name: "Flask package 0.1.8",
        hash_name: "bcrypt-12",
        routes,
        startup,
        peak_mib: [peak; 3],
        verify: package_checks(&checks),
    }
}

/// The authorizer's warm TOKEN events for a live token, start-up and peak.
pub struct Guard {
    pub route: Route,
    pub startup: Duration,
    pub peak_mib: f64,
}

pub async fn authorizer(db: &TestDb, proxy: &Proxy, user: &str, password: &str) -> Guard {
    let env = env_through(db, proxy, false);
    let mut startups = Vec::new();
    for _ in 0..STARTS {
        let function = Function::start("authorizer", &env).await;
        startups.push(
            function
                .ready_after(READY)
                .await
                .expect("authorizer became ready"),
        );
    }
    let mut login = Function::start("login", &env).await;
    let mut authorizer = Function::start("authorizer", &env).await;
    authorizer.ready_after(READY).await;
    let response = login.invoke(login_event(user, password)).await;
    let token = response.body["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let event = json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/orders/42",
    });
    let mut route = Route::default();
    for _ in 0..RUNS {
        let answer = route
            .time(proxy, authorizer.invoke_json(event.clone()))
            .await
            .expect("an answer");
        assert!(answer["context"]["user_id"].is_string(), "{answer}");
    }
    let peak_mib = authorizer.peak_rss_kib().expect("the authorizer's VmHWM") as f64 / 1024.0;
    Guard {
        route,
        startup: median(startups),
        peak_mib,
    }
}

/// Median start-up of `login` with the settings in the environment, and with
/// them read from Secrets Manager (moto on loopback).
pub async fn secret_startups(db: &TestDb) -> (Duration, Duration) {
    let secret_env = e2e::moto_server::secret_env_for(db).await;
    let mut plain = Vec::new();
    let mut with_secret = Vec::new();
    for _ in 0..STARTS * 2 {
        for (env, samples) in [(&db.env(), &mut plain), (&secret_env, &mut with_secret)] {
            let function = Function::start("login", env).await;
            samples.push(
                function
                    .ready_after(READY)
                    .await
                    .expect("login became ready"),
            );
        }
    }
    (median(plain), median(with_secret))
}
