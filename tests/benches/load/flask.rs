//! The Python package under load: `tests/python/flask_service.py`'s app (the
//! package 0.1.8 mounted as its docs show) served by gunicorn with N sync
//! worker processes, each serving one request at a time (as a Lambda
//! container does), on a loopback port. gunicorn lives in `.tools/flask`
//! beside the package; `scripts/load` installs it there.

use e2e::function::capture_output;
use e2e::mongo_server::{die_with_parent, free_port};
use e2e::TestDb;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

pub struct Gunicorn {
    pub port: u16,
    child: Child,
    output: Arc<Mutex<String>>,
}

fn gunicorn() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/flask/bin/gunicorn")
}

impl Gunicorn {
    /// The package on `db` with `workers` worker processes, once every worker
    /// has loaded the app.
    pub async fn start(db: &TestDb, workers: usize) -> Gunicorn {
        let binary = gunicorn();
        assert!(
            binary.exists(),
            "{} is missing: scripts/load installs it",
            binary.display()
        );
        let script = e2e::python_service::script();
        let port = free_port().expect("a free port for gunicorn");
        let mut command = Command::new(&binary);
        command
            .args(["--workers", &workers.to_string()])
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--worker-class", "sync", "--timeout", "60"])
            .arg("--chdir")
            .arg(script.parent().expect("the script's folder"))
            .arg("flask_service:create_app()")
            .env_clear()
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .envs(db.env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut command);
        let mut child = command.spawn().expect("start gunicorn");
        let output = capture_output(&mut child);
        let mut service = Gunicorn {
            port,
            child,
            output,
        };
        service.wait_until_serving(workers).await;
        service
    }

    /// Until the port listens and each worker has said it booted, then a
    /// moment for the last ones to import the app (graphene, mongoengine).
    async fn wait_until_serving(&mut self, workers: usize) {
        let start = Instant::now();
        let limit = Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "gunicorn exited during start-up ({status}):\n{}",
                    self.logs()
                );
            }
            let booted = self.logs().matches("Booting worker").count() >= workers;
            if booted && TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                break;
            }
            assert!(
                start.elapsed() < limit,
                "gunicorn did not start {workers} workers within {limit:?}:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }

    /// The master's process id (the workers are its children).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn logs(&self) -> String {
        self.output.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Gunicorn {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers (a SIGKILL would orphan them).
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: signalling our own child, which we have not reaped yet.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
