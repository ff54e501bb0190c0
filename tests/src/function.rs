//! A built function binary running under the Runtime API emulator, as Lambda
//! would run it: its own process, configured only through its environment.

use crate::runtime_api::{Outcome, RuntimeApi};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one invocation may take before the test fails (times
/// [`slowdown`]: the first one includes the start-up).
const INVOKE_LIMIT: Duration = Duration::from_secs(30);

/// The program (and its first arguments) that runs each binary instead of
/// running it directly: `LAMBDA_RUNNER`, split on whitespace, such as
/// `qemu-aarch64 -L /usr/aarch64-linux-gnu` for the arm64 packages (with
/// `LAMBDA_DIR` pointing at them). Empty when unset. Under qemu-user the process
/// started is the emulator running the binary in itself, so its pid (and
/// `/proc/<pid>/status`) is the function's.
pub fn runner() -> Vec<String> {
    std::env::var("LAMBDA_RUNNER")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// How many times slower than native the binaries may run: 10 under a
/// [`runner`] (qemu-user runs argon2id ~10 times slower, and login's start-up
/// calibration of both password schemes with it), else 1. The harness's own
/// deadlines scale by it; what a test asserts about time does not.
pub fn slowdown() -> u32 {
    if runner().is_empty() {
        1
    } else {
        10
    }
}

pub struct Function {
    name: String,
    child: Child,
    runtime: RuntimeApi,
    started: Instant,
    output: Arc<Mutex<String>>,
}

/// An API Gateway proxy response, decoded.
#[derive(Debug, Clone)]
pub struct LambdaResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: serde_json::Value,
    pub raw_body: String,
}

impl LambdaResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Where cargo put the workspace's binaries: beside this test executable's
/// `deps/` folder, whatever the target directory is. With `LAMBDA_DIR` set, the
/// `<function>/bootstrap` files under it instead: the deployable packages
/// `scripts/package` built, unpacked (`scripts/test`, `scripts/bench`).
pub fn binary_path(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("LAMBDA_DIR") {
        return PathBuf::from(dir).join(name).join("bootstrap");
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    dir.join(name)
}

impl Function {
    /// Starts binary `name` with exactly `env` (plus the Runtime API's own
    /// variables); nothing leaks in from the developer's environment.
    pub async fn start(name: &str, env: &[(&str, String)]) -> Function {
        let path = binary_path(name);
        assert!(
            path.exists(),
            "{} is not built: run `cargo build --workspace --bins` first (scripts/test does; \
             with LAMBDA_DIR, scripts/package and unpack)",
            path.display()
        );
        let runtime = RuntimeApi::start().await.expect("runtime API emulator");
        let runner = runner();
        let mut command = match runner.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(&path);
                command
            }
            None => Command::new(&path),
        };
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command.spawn().unwrap_or_else(|why| match runner.first() {
            Some(program) => panic!(
                "LAMBDA_RUNNER's {program} could not run {}: {why} \
                 (qemu-aarch64 comes with Debian's qemu-user: scripts/setup)",
                path.display()
            ),
            None => panic!("spawn {}: {why}", path.display()),
        });
        let output = capture_output(&mut child);
        Function {
            name: name.to_owned(),
            child,
            runtime,
            started,
            output,
        }
    }

    /// Sends one event and decodes the proxy response.
    pub async fn invoke(&mut self, event: serde_json::Value) -> LambdaResponse {
        let outcome = tokio::time::timeout(invoke_limit(), self.runtime.invoke(event)).await;
        let bytes = match outcome {
            Ok(Ok(Outcome::Response(bytes))) => bytes,
            Ok(Ok(Outcome::Error(bytes))) => panic!(
                "{} reported an invocation error: {}\nlogs:\n{}",
                self.name,
                String::from_utf8_lossy(&bytes),
                self.logs()
            ),
            Ok(Err(why)) => panic!("{}: {why}\nlogs:\n{}", self.name, self.logs()),
            Err(_) => panic!(
                "{} did not answer within {:?} (exited: {:?})\nlogs:\n{}",
                self.name,
                invoke_limit(),
                self.child.try_wait().ok().flatten(),
                self.logs()
            ),
        };
        decode_proxy_response(&bytes)
    }

    /// Sends one event and returns the function's answer as JSON, or its
    /// invocation error (what Lambda reports as the function's failure).
    pub async fn invoke_json(
        &mut self,
        event: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        let outcome = tokio::time::timeout(invoke_limit(), self.runtime.invoke(event)).await;
        let parse = |bytes: &[u8]| {
            serde_json::from_slice(bytes).unwrap_or_else(|_| {
                panic!(
                    "{} answered no JSON: {}",
                    self.name,
                    String::from_utf8_lossy(bytes)
                )
            })
        };
        match outcome {
            Ok(Ok(Outcome::Response(bytes))) => Ok(parse(&bytes)),
            Ok(Ok(Outcome::Error(bytes))) => Err(parse(&bytes)),
            Ok(Err(why)) => panic!("{}: {why}\nlogs:\n{}", self.name, self.logs()),
            Err(_) => panic!(
                "{} did not answer within {:?}\nlogs:\n{}",
                self.name,
                invoke_limit(),
                self.logs()
            ),
        }
    }

    /// Time from process start until it first polled for an event, waiting up to
    /// `limit` (times [`slowdown`]) for that to happen.
    pub async fn ready_after(&self, limit: Duration) -> Option<Duration> {
        let deadline = Instant::now() + limit * slowdown();
        while Instant::now() < deadline {
            if let Some(at) = self.runtime.first_poll() {
                return Some(at - self.started);
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        None
    }

    /// Waits until `login` has timed both password schemes, as it does in the
    /// background when it starts: until then refusals are padded to the
    /// schemes timed so far only (a busy machine can take seconds), so tests
    /// of refusal timing or short locks wait for it first.
    pub async fn wait_for_timing_calibration(&self) {
        let done = |line: &str| line.contains("padded to the slowest password check");
        assert!(
            self.wait_for_log(Duration::from_secs(20) * slowdown(), done)
                .await,
            "login never logged its timing calibration: {}",
            self.logs()
        );
    }

    /// Waits up to `limit` for a log line that `found` accepts. The logs come in
    /// through reader threads, so a line the function wrote before it answered
    /// may still be on its way when the answer arrives: wait for it, don't sleep.
    pub async fn wait_for_log(&self, limit: Duration, found: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if self.logs().lines().any(&found) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits up to `limit` (times [`slowdown`]) for the process to end (start-up
    /// failures), returning its exit code.
    pub async fn exit_code(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit * slowdown();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        self.output.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The log lines, parsed as JSON; a line that isn't JSON fails the test.
    pub fn log_records(&self) -> Vec<serde_json::Value> {
        self.logs()
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|_| panic!("log line is not JSON: {line}"))
            })
            .collect()
    }

    /// The process's peak resident memory (VmHWM) in KiB, from /proc.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.status_kib("VmHWM")
    }

    /// The resident pages mapped from files (the binary's own code, shared
    /// libraries) in KiB: `RssFile` from /proc.
    pub fn file_rss_kib(&self) -> Option<u64> {
        self.status_kib("RssFile")
    }

    /// A `kB` field of `/proc/<pid>/status`.
    fn status_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub fn runtime_init_error(&self) -> Option<String> {
        self.runtime.init_error()
    }
}

fn invoke_limit() -> Duration {
    INVOKE_LIMIT * slowdown()
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Everything `child` writes to stdout and stderr, gathered as it comes by two
/// threads (so a chatty child never blocks on a full pipe).
pub fn capture_output(child: &mut Child) -> Arc<Mutex<String>> {
    let output = Arc::new(Mutex::new(String::new()));
    let streams = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ];
    for stream in streams.into_iter().flatten() {
        let output = output.clone();
        std::thread::spawn(move || collect(stream, output));
    }
    output
}

fn collect(mut stream: Box<dyn Read + Send>, output: Arc<Mutex<String>>) {
    let mut buffer = [0u8; 4096];
    while let Ok(read) = stream.read(&mut buffer) {
        if read == 0 {
            break;
        }
        if let Ok(mut output) = output.lock() {
            output.push_str(&String::from_utf8_lossy(&buffer[..read]));
        }
    }
}

fn decode_proxy_response(bytes: &[u8]) -> LambdaResponse {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).expect("the function's response is JSON");
    let status = value["statusCode"].as_u64().expect("statusCode") as u16;
    let mut headers = BTreeMap::new();
    if let Some(map) = value["headers"].as_object() {
        for (key, v) in map {
            headers.insert(
                key.to_ascii_lowercase(),
                v.as_str().unwrap_or_default().to_owned(),
            );
        }
    }
    if let Some(map) = value["multiValueHeaders"].as_object() {
        for (key, values) in map {
            if let Some(first) = values
                .as_array()
                .and_then(|a| a.first())
                .and_then(|v| v.as_str())
            {
                headers
                    .entry(key.to_ascii_lowercase())
                    .or_insert_with(|| first.to_owned());
            }
        }
    }
    let raw_body = value["body"].as_str().unwrap_or_default().to_owned();
    let body = serde_json::from_str(&raw_body).unwrap_or(serde_json::Value::Null);
    LambdaResponse {
        status,
        headers,
        body,
        raw_body,
    }
}
