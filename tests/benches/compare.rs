//! `scripts/bench`: our three functions against the Python package they
//! replace (flask-auth-service-mongo 0.1.8, served by `tests/python/flask_service.py`),
//! on one machine and one test database. Per route (login, logout, a guarded
//! GraphQL `me`): p50 and p95 of warm requests, start-up, peak memory, and the
//! database commands one request sends (counted by a proxy that reads the wire
//! protocol, so both drivers are counted alike). Then the cold start with the
//! settings read from Secrets Manager. Prints a Markdown table and writes
//! `docs/benchmark.svg`.
//!
//! Our functions run as built: `scripts/bench` sets `LAMBDA_DIR` to the
//! release packages `scripts/package` made.
//!
//! The authorizer has no counterpart route at the package (its
//! `auth.required` runs inside every guarded view, so it is part of the
//! package's `me`): its row is ours alone, a REST `TOKEN` event per request.

use e2e::app::login_event;
use e2e::proxy::{mongodb_address, Proxy};
use e2e::python_service::PythonService;
use e2e::{Function, HttpRequest, Payload, TestDb};
use serde_json::json;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

const RUNS: usize = 40;
const STARTS: usize = 10;
const ME: &str = "{ me { username } }";

#[derive(Default, Clone)]
struct Route {
    samples: Vec<Duration>,
    commands: usize,
}

impl Route {
    fn quantile(&self, q: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        sorted[((sorted.len() - 1) as f64 * q).round() as usize]
    }
}

struct Side {
    name: &'static str,
    routes: [Route; 3],
    startup: Duration,
    peak_mib: [f64; 3],
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// New commands the proxy saw since `before`, once the client is done.
fn commands_since(proxy: &Proxy, before: usize) -> usize {
    proxy.commands().len() - before
}

async fn ours(db: &TestDb, proxy: &Proxy) -> Side {
    let mut env = db.env();
    env.retain(|(name, _)| *name != "MONGODB_URI");
    env.push(("MONGODB_URI", proxy.mongodb_uri()));
    let mut startups = Vec::new();
    for binary in ["login", "logout", "graphql"] {
        for _ in 0..STARTS {
            let function = Function::start(binary, &env).await;
            let ready = function.ready_after(Duration::from_secs(10)).await;
            startups.push(ready.expect("function became ready"));
        }
    }
    let mut login = Function::start("login", &env).await;
    let mut logout = Function::start("logout", &env).await;
    let mut graphql = Function::start("graphql", &env).await;
    for function in [&login, &logout, &graphql] {
        function.ready_after(Duration::from_secs(10)).await;
    }
    // Login's start-up timing of both schemes, before its refusals count.
    login.wait_for_timing_calibration().await;
    let mut routes: [Route; 3] = Default::default();
    for _ in 0..RUNS {
        let before = proxy.commands().len();
        let start = Instant::now();
        let response = login.invoke(login_event("bench", "bench-password")).await;
        routes[0].samples.push(start.elapsed());
        routes[0].commands = commands_since(proxy, before);
        assert_eq!(response.status, 200, "{}", response.raw_body);
        let token = response.body["data"]["token"]
            .as_str()
            .expect("token")
            .to_owned();

        let before = proxy.commands().len();
        let start = Instant::now();
        let request = e2e::app::graphql_request(Some(&token), ME, json!({}));
        let response = graphql.invoke(request.event(Payload::RestV1)).await;
        routes[2].samples.push(start.elapsed());
        routes[2].commands = commands_since(proxy, before);
        assert_eq!(response.status, 200, "{}", response.raw_body);

        let before = proxy.commands().len();
        let start = Instant::now();
        let request = HttpRequest::post("/admin/logout")
            .bearer(&token)
            .json(&json!({}));
        let response = logout.invoke(request.event(Payload::RestV1)).await;
        routes[1].samples.push(start.elapsed());
        routes[1].commands = commands_since(proxy, before);
        assert_eq!(response.status, 200, "{}", response.raw_body);
    }
    // A failed read is a broken bench, not "0 MiB".
    let peak = |f: &Function| f.peak_rss_kib().expect("the function's VmHWM") as f64 / 1024.0;
    Side {
        name: "Rust functions",
        routes,
        startup: median(startups),
        peak_mib: [peak(&login), peak(&logout), peak(&graphql)],
    }
}

async fn flask(db: &TestDb, proxy: &Proxy) -> Side {
    let uri = proxy.mongodb_uri();
    let start = Instant::now();
    let service = PythonService::start_with(db, &[("MONGODB_URI", &uri)]).await;
    let startup = start.elapsed();
    let mut routes: [Route; 3] = Default::default();
    for _ in 0..RUNS {
        let before = proxy.commands().len();
        let start = Instant::now();
        let response = service.post_login("pybench", "bench-password").await;
        routes[0].samples.push(start.elapsed());
        routes[0].commands = commands_since(proxy, before);
        assert_eq!(response.status, 200, "{}", response.raw_body);
        let token = response.body["data"]["access_token"]
            .as_str()
            .expect("token")
            .to_owned();

        let before = proxy.commands().len();
        let start = Instant::now();
        let response = service.graphql(&token, ME, json!({})).await;
        routes[2].samples.push(start.elapsed());
        routes[2].commands = commands_since(proxy, before);
        assert_eq!(response.status, 200, "{}", response.raw_body);

        let before = proxy.commands().len();
        let start = Instant::now();
        let response = service.logout(&token).await;
        routes[1].samples.push(start.elapsed());
        routes[1].commands = commands_since(proxy, before);
        assert_eq!(response.status, 200, "{}", response.raw_body);
    }
    let peak = service.peak_rss_kib().expect("the package's VmHWM") as f64 / 1024.0;
    Side {
        name: "Flask package 0.1.8",
        routes,
        startup,
        peak_mib: [peak; 3],
    }
}

/// Median start-up of `login` with the settings in the environment, and with
/// them read from Secrets Manager (moto on loopback).
async fn secret_startups(db: &TestDb) -> (Duration, Duration) {
    let secret_env = e2e::moto_server::secret_env_for(db).await;
    let mut plain = Vec::new();
    let mut with_secret = Vec::new();
    for _ in 0..STARTS * 2 {
        for (env, samples) in [(&db.env(), &mut plain), (&secret_env, &mut with_secret)] {
            let function = Function::start("login", env).await;
            let ready = function.ready_after(Duration::from_secs(10)).await;
            samples.push(ready.expect("login became ready"));
        }
    }
    (median(plain), median(with_secret))
}

const ROUTES: [&str; 3] = ["login", "logout", "GraphQL `me`"];

/// The authorizer: warm TOKEN events for a live token, start-up and peak.
async fn authorizer(db: &TestDb, proxy: &Proxy) -> (Route, Duration, f64) {
    let mut env = db.env();
    env.retain(|(name, _)| *name != "MONGODB_URI");
    env.push(("MONGODB_URI", proxy.mongodb_uri()));
    let mut startups = Vec::new();
    for _ in 0..STARTS {
        let function = Function::start("authorizer", &env).await;
        let ready = function.ready_after(Duration::from_secs(10)).await;
        startups.push(ready.expect("authorizer became ready"));
    }
    let mut login = Function::start("login", &env).await;
    let mut authorizer = Function::start("authorizer", &env).await;
    authorizer.ready_after(Duration::from_secs(10)).await;
    let response = login.invoke(login_event("bench", "bench-password")).await;
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
        let before = proxy.commands().len();
        let start = Instant::now();
        let answer = authorizer
            .invoke_json(event.clone())
            .await
            .expect("an answer");
        route.samples.push(start.elapsed());
        route.commands = commands_since(proxy, before);
        assert!(answer["context"]["user_id"].is_string(), "{answer}");
    }
    let peak = authorizer.peak_rss_kib().expect("the authorizer's VmHWM") as f64 / 1024.0;
    (route, median(startups), peak)
}

fn table(sides: &[Side; 2]) -> String {
    let mut out = String::from(
        "| route | | p50 | p95 | start-up | peak RSS | DB commands |\n|---|---|---|---|---|---|---|\n",
    );
    for (i, route) in ROUTES.iter().enumerate() {
        for side in sides {
            let r = &side.routes[i];
            let _ = writeln!(
                out,
                "| {route} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} MiB | {} |",
                side.name,
                ms(r.quantile(0.5)),
                ms(r.quantile(0.95)),
                ms(side.startup),
                side.peak_mib[i],
                r.commands
            );
        }
    }
    out
}

/// Horizontal bars of p50 per route, ours against Flask's, each route on its
/// own scale (login is two orders of magnitude slower than the rest).
fn svg(sides: &[Side; 2], machine: &str) -> String {
    let (width, bar_max, left) = (720.0, 440.0, 170.0);
    let colours = ["#d9541e", "#3572a5"];
    let mut body = String::new();
    let mut y = 60.0;
    for (i, route) in ROUTES.iter().enumerate() {
        let top = sides
            .iter()
            .map(|s| ms(s.routes[i].quantile(0.5)))
            .fold(0.0, f64::max);
        let _ = writeln!(
            body,
            r#"<text x="10" y="{}" font-weight="bold">{}</text>"#,
            y + 18.0,
            route.replace('`', "")
        );
        for (s, side) in sides.iter().enumerate() {
            let value = ms(side.routes[i].quantile(0.5));
            let length = (value / top * bar_max).max(1.0);
            let bar_y = y + s as f64 * 26.0;
            let _ = writeln!(
                body,
                r#"<rect x="{left}" y="{bar_y}" width="{length:.1}" height="20" fill="{}"/><text x="{:.1}" y="{:.1}">{value:.1} ms</text>"#,
                colours[s],
                left + length + 6.0,
                bar_y + 15.0
            );
        }
        y += 70.0;
    }
    let legend: String = sides
        .iter()
        .enumerate()
        .map(|(s, side)| {
            format!(
                r#"<rect x="{}" y="{:.1}" width="14" height="14" fill="{}"/><text x="{}" y="{:.1}">{}</text>"#,
                left + s as f64 * 220.0,
                y,
                colours[s],
                left + s as f64 * 220.0 + 20.0,
                y + 12.0,
                side.name
            )
        })
        .collect();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{:.0}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="24" font-size="15" font-weight="bold">Warm request, median (p50): Rust functions vs flask-auth-service-mongo 0.1.8</text>
<text x="10" y="42" fill="#555">{machine}; each route on its own scale</text>
{body}{legend}
</svg>
"##,
        y + 30.0
    )
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} × {cpu}, database and functions on loopback")
}

#[tokio::main]
async fn main() {
    let db = TestDb::new().await;
    let admin = db.role("admin").await;
    db.user("bench", "bench-password", admin).await;
    // The package only checks bcrypt: its user has the hash it would write
    // (ours would upgrade a bcrypt hash to argon2id at the first login).
    let bcrypt = shared::auth::password::hash_with(
        shared::auth::password::HashScheme::Bcrypt,
        "bench-password",
    )
    .expect("bcrypt hash");
    db.user_with_hash("pybench", &bcrypt, admin).await;
    let proxy = Proxy::recording_mongodb_commands(&mongodb_address(&db.uri));

    let rust = ours(&db, &proxy).await;
    let python = flask(&db, &proxy).await;
    let (guard, guard_startup, guard_peak) = authorizer(&db, &proxy).await;
    let (plain, with_secret) = secret_startups(&db).await;
    let sides = [rust, python];
    let machine = machine();
    println!("\nMachine: {machine}\n");
    println!("{}", table(&sides));
    println!(
        "| authorizer (TOKEN event) | Rust functions | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} MiB | {} |\n",
        ms(guard.quantile(0.5)),
        ms(guard.quantile(0.95)),
        ms(guard_startup),
        guard_peak,
        guard.commands
    );
    println!(
        "login start-up: {:.1} ms with settings from the environment, {:.1} ms reading them from Secrets Manager (emulator on loopback)",
        ms(plain),
        ms(with_secret)
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmark.svg");
    std::fs::write(&path, svg(&sides, &machine)).expect("write the chart");
    println!("chart: docs/benchmark.svg");
}
