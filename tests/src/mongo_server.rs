//! The MongoDB-wire server the tests run against.
//!
//! `MONGODB_URI`, if set, points the tests at a server of your own (a real mongod
//! works). Otherwise one SecantusDB server per test process is started on a free
//! loopback port from the project-local venv that `scripts/setup` creates. If
//! neither is available the tests fail and say so: they are never skipped.
//!
//! Either way the tests reach it through a compatibility proxy
//! ([`crate::proxy::Proxy::checking_compatibility`]): whatever a function,
//! `auth-admin` or a fixture sends outside what MongoDB 4.4+ and DocumentDB
//! 5.0 both support is refused with a MongoDB error, so the test that sent it
//! fails. A `MONGODB_URI` of yours is proxied too when it is a plain
//! `mongodb://host:port/...` (one host, no credentials, no TLS); otherwise it is
//! used directly and the compatibility test says the check did not run.
//! `E2E_COMPAT=record` records without refusing.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The connection string of the shared test server, started on first use,
/// through the process's compatibility proxy.
pub fn uri() -> String {
    shared().0.clone()
}

/// The shared server's own connection string, with no proxy in between (for
/// the tests of the compatibility proxy itself).
pub fn direct_uri() -> String {
    shared().1.clone()
}

/// Whether [`uri`] goes through the compatibility proxy.
pub fn compatibility_checked() -> bool {
    shared().0 != shared().1
}

fn shared() -> &'static (String, String) {
    static SERVER: OnceLock<Result<(String, String), String>> = OnceLock::new();
    match SERVER.get_or_init(start_shared) {
        Ok(uris) => uris,
        Err(why) => panic!("no MongoDB-wire server for the tests: {why}"),
    }
}

fn start_shared() -> Result<(String, String), String> {
    let direct = match std::env::var("MONGODB_URI") {
        Ok(uri) => uri,
        Err(_) => {
            let port = free_port()?;
            spawn_for_the_process(move || spawn_secantus(port))?;
            wait_until_listening(port, Duration::from_secs(20))?;
            uri_for(port)
        }
    };
    let Some((address, options)) = plain_address(&direct) else {
        eprintln!("MONGODB_URI is not a plain mongodb://host:port URI: no compatibility check");
        return Ok((direct.clone(), direct));
    };
    let refuse = std::env::var("E2E_COMPAT").map_or(true, |mode| mode != "record");
    let proxy = crate::proxy::Proxy::checking_compatibility(&address, refuse);
    let proxied = format!("mongodb://127.0.0.1:{}/{options}", proxy.port);
    // The proxy serves the whole process.
    std::mem::forget(proxy);
    Ok((proxied, direct))
}

/// `host:port` and the rest (`?options`) of a one-host `mongodb://` URI
/// without credentials or TLS.
fn plain_address(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("mongodb://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (address, options) = rest.split_at(end);
    let options = options.strip_prefix('/').unwrap_or(options);
    let tls = options.contains("tls=true") || options.contains("ssl=true");
    (!address.contains('@') && !address.contains(',') && !tls && !address.is_empty())
        .then(|| (address.to_owned(), options.to_owned()))
}

/// Runs `spawn` on a thread that lives as long as the test process and keeps the
/// child it starts. With [`die_with_parent`], the child then ends when the test
/// process ends, not when the test thread that happened to start it finishes.
pub fn spawn_for_the_process(
    spawn: impl FnOnce() -> Result<Child, String> + Send + 'static,
) -> Result<(), String> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outcome = spawn().map(std::mem::forget);
        let _ = sender.send(outcome);
        loop {
            std::thread::park();
        }
    });
    receiver
        .recv()
        .map_err(|_| "the server thread died".to_owned())?
}

pub fn uri_for(port: u16) -> String {
    format!("mongodb://127.0.0.1:{port}/?directConnection=true")
}

/// The `secantusd-py` launcher: `SECANTUSD`, else the project venv's.
pub fn secantus_launcher() -> PathBuf {
    std::env::var_os("SECANTUSD")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/secantusd-py")
        })
}

/// Starts a SecantusDB server with in-memory storage on `port`. The child gets
/// SIGTERM when the thread that spawned it exits.
pub fn spawn_secantus(port: u16) -> Result<Child, String> {
    let launcher = secantus_launcher();
    if !launcher.exists() {
        return Err(format!(
            "{} is missing: run `scripts/setup` (or set MONGODB_URI to a server of yours)",
            launcher.display()
        ));
    }
    let mut command = Command::new(&launcher);
    command
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--storage-path", ":memory:"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    die_with_parent(&mut command);
    command
        .spawn()
        .map_err(|err| format!("cannot start {}: {err}", launcher.display()))
}

/// Asks the kernel to SIGTERM the child when its parent thread exits, so no test
/// run leaves servers behind.
pub fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the new process.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
}

pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|err| format!("no free port: {err}"))
}

pub fn wait_until_listening(port: u16, limit: Duration) -> Result<(), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("nothing listened on port {port} within {limit:?}"))
}
