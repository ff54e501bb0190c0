//! The Python service this project replaces, running beside ours: the package
//! flask-auth-service-mongo 0.1.8 mounted in a small Flask app
//! (`tests/python/flask_service.py`), on a free loopback port, against a test's
//! database with the same `SECRET_KEY`. Methods read as its API, as
//! [`crate::TestApp`]'s do; what a test asserts stays in the test.
//!
//! The package lives in the venv `.tools/flask`, which `scripts/setup` creates
//! with the package's old pins. Without it the tests fail and say so.

use crate::function::capture_output;
use crate::mongo_server::{die_with_parent, free_port};
use crate::TestDb;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the service may take to start (imports of graphene, mongoengine).
const START_LIMIT: Duration = Duration::from_secs(30);
/// How long one request may take (a bcrypt check at cost 12 is ~0.3 s).
const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// The Python of the venv that holds the package.
pub fn python() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/flask/bin/python")
}

/// The Flask host app.
pub fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/flask_service.py")
}

fn require_python() -> PathBuf {
    let python = python();
    assert!(
        python.exists(),
        "{} is missing: run `scripts/setup`, which installs flask-auth-service-mongo 0.1.8 there",
        python.display()
    );
    python
}

/// An HTTP answer of the Python service; `body` is `null` when it isn't JSON
/// (Flask's HTML error pages).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub raw_body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

pub struct PythonService {
    pub port: u16,
    child: Child,
    output: Arc<Mutex<String>>,
}

impl PythonService {
    /// The service on `db` with the package's defaults and our default
    /// `ALLOWED_ROLES` (`admin`).
    pub async fn start(db: &TestDb) -> PythonService {
        PythonService::start_with(db, &[]).await
    }

    /// The service on `db` with `extra` environment on top (`ALLOWED_ROLES`).
    pub async fn start_with(db: &TestDb, extra: &[(&str, &str)]) -> PythonService {
        let python = require_python();
        let port = free_port().expect("a free port for the Python service");
        let mut command = Command::new(&python);
        command
            .arg(script())
            .args(["--port", &port.to_string()])
            .env_clear()
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .envs(db.env())
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut command);
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", python.display()));
        let output = capture_output(&mut child);
        let mut service = PythonService {
            port,
            child,
            output,
        };
        service.wait_until_listening().await;
        service
    }

    async fn wait_until_listening(&mut self) {
        let start = Instant::now();
        while start.elapsed() < START_LIMIT {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the Python service exited during start-up ({status})\nlogs:\n{}",
                    self.logs()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the Python service did not listen on port {} within {START_LIMIT:?}\nlogs:\n{}",
            self.port,
            self.logs()
        );
    }

    /// The process's peak resident memory (VmHWM) in KiB, from /proc.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Everything the process wrote so far (werkzeug's access log, tracebacks).
    pub fn logs(&self) -> String {
        self.output.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits up to `limit` for `text` in the logs. They come in through reader
    /// threads, so a line written before an answer may arrive after it.
    pub async fn wait_for_log(&self, limit: Duration, text: &str) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if self.logs().contains(text) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// `POST path` with a JSON body and an optional bearer token.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> HttpResponse {
        let body = body.to_string();
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.port,
            body.len()
        );
        if let Some(token) = token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        head.push_str("\r\n");
        let exchange = async {
            let mut stream = TcpStream::connect(("127.0.0.1", self.port)).await?;
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        };
        let answer = match tokio::time::timeout(REQUEST_LIMIT, exchange).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(err)) => panic!(
                "POST {path} to the Python service: {err}\nlogs:\n{}",
                self.logs()
            ),
            Err(_) => panic!(
                "the Python service did not answer POST {path} within {REQUEST_LIMIT:?}\nlogs:\n{}",
                self.logs()
            ),
        };
        parse_response(&answer)
            .unwrap_or_else(|why| panic!("POST {path}: {why}\nlogs:\n{}", self.logs()))
    }

    /// `POST /admin/login` with `{"username", "password"}`.
    pub async fn post_login(&self, username: &str, password: &str) -> HttpResponse {
        self.post(
            "/admin/login",
            None,
            &json!({"username": username, "password": password}),
        )
        .await
    }

    /// Logs in, failing the test unless it succeeds; returns (access, refresh).
    /// The package answers the access token as `data.access_token` only.
    pub async fn login(&self, username: &str, password: &str) -> (String, String) {
        let response = self.post_login(username, password).await;
        assert_eq!(
            response.status, 200,
            "login {username} at the Python service: {}",
            response.raw_body
        );
        let data = &response.body["data"];
        (
            data["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            data["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        )
    }

    /// `POST /admin/logout` with `Authorization: Bearer <token>`.
    pub async fn logout(&self, token: &str) -> HttpResponse {
        self.post("/admin/logout", Some(token), &json!({})).await
    }

    /// `POST /admin/graphql` with `{"query", "variables"}`. The package's
    /// guard sits in front of the whole route, so a token is needed.
    pub async fn graphql(&self, token: &str, query: &str, variables: Value) -> HttpResponse {
        self.post(
            "/admin/graphql",
            Some(token),
            &json!({"query": query, "variables": variables}),
        )
        .await
    }

    /// The status `{ me { username } }` gets with `token`: 200 while the
    /// package's guard lets it through, 401 once not.
    pub async fn me_status(&self, token: &str) -> u16 {
        self.graphql(token, "{ me { username } }", json!({}))
            .await
            .status
    }

    /// The package's `refresh_token` mutation: `refresh` as the credential, sent
    /// with the access token `access` its guard needs. Returns the answer and,
    /// if it issued them, the new (access, refresh).
    pub async fn refresh(
        &self,
        access: &str,
        refresh: &str,
    ) -> (HttpResponse, Option<(String, String)>) {
        let response = self
            .graphql(
                access,
                "mutation($r: String!) { refresh_token(input: {refresh_token: $r}) \
                 { token_type access_token refresh_token expires_in } }",
                json!({"r": refresh}),
            )
            .await;
        let pair = &response.body["data"]["refresh_token"];
        let tokens = pair["access_token"]
            .as_str()
            .zip(pair["refresh_token"].as_str())
            .map(|(a, r)| (a.to_owned(), r.to_owned()));
        (response, tokens)
    }
}

impl Drop for PythonService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Loads every `role`, `user` and `whitelist_token` document of `db` through
/// the package's mongoengine models, touching every field (references
/// followed), as `flask_service.py --load-models` does. `Ok` holds the counts
/// it loaded per collection; `Err` what it printed when something raised.
pub fn load_with_the_package_models(db: &TestDb) -> Result<Value, String> {
    let python = require_python();
    let output: Output = Command::new(&python)
        .arg(script())
        .arg("--load-models")
        .env_clear()
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .envs(db.env())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("{}\n{stdout}{stderr}", output.status));
    }
    serde_json::from_str(stdout.trim())
        .map_err(|err| format!("not the expected JSON ({err}): {stdout}{stderr}"))
}

/// A whole HTTP/1.x response read to the end of the connection (we sent
/// `Connection: close`; werkzeug's server answers HTTP/1.0 with a length).
fn parse_response(bytes: &[u8]) -> Result<HttpResponse, String> {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no end of headers in {:?}", String::from_utf8_lossy(bytes)))?;
    let head = String::from_utf8_lossy(&bytes[..split]);
    let raw = &bytes[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        return Err("a chunked body, which this small client does not read".to_owned());
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(raw.len());
    let raw_body = String::from_utf8_lossy(&raw[..length.min(raw.len())]).into_owned();
    let body = serde_json::from_str(&raw_body).unwrap_or(Value::Null);
    Ok(HttpResponse {
        status,
        headers,
        body,
        raw_body,
    })
}
