//! `auth-admin` as built, run as an operator runs it: with arguments and an
//! environment, standard input piped or closed, or on a terminal of its own (a
//! pseudo-terminal) for the password prompt.

use crate::function::binary_path;
use crate::TestDb;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long one run may take before the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// The command with a fixed environment; nothing leaks in from the developer's.
#[derive(Clone)]
pub struct AdminCli {
    env: Vec<(&'static str, String)>,
}

/// What a finished run left: its exit code and both streams.
#[derive(Debug)]
pub struct CliOutput {
    /// `None` if a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    /// Fails the test unless the run exited 0.
    pub fn assert_success(&self) -> &Self {
        assert_eq!(self.code, Some(0), "{self:?}");
        self
    }

    /// Fails the test unless the run exited `code` with `text` on stderr.
    pub fn assert_refused(&self, code: i32, text: &str) -> &Self {
        assert_eq!(self.code, Some(code), "{self:?}");
        assert!(self.stderr.contains(text), "expected {text:?}: {self:?}");
        self
    }
}

fn path() -> PathBuf {
    let path = binary_path("auth-admin");
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

impl AdminCli {
    /// Against `db`, with its connection settings in the environment.
    pub fn on(db: &TestDb) -> AdminCli {
        AdminCli::with_env(db.env())
    }

    /// With exactly `env`.
    pub fn with_env(env: Vec<(&'static str, String)>) -> AdminCli {
        AdminCli { env }
    }

    /// One more setting on top.
    pub fn setting(mut self, name: &'static str, value: &str) -> AdminCli {
        self.env.push((name, value.to_owned()));
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(path());
        command
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())));
        command
    }

    /// Runs with standard input closed (not a terminal).
    pub fn run(&self, args: &[&str]) -> CliOutput {
        self.run_with_stdin(args, None)
    }

    /// Runs with `stdin` piped in.
    pub fn run_piped(&self, args: &[&str], stdin: &str) -> CliOutput {
        self.run_with_stdin(args, Some(stdin))
    }

    fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> CliOutput {
        let mut child = self
            .command(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run auth-admin");
        if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
            // It may exit before reading (a usage error): a broken pipe is fine.
            let _ = input.write_all(text.as_bytes());
        }
        let output = wait_with_limit(child, args);
        CliOutput {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `script` with `bash -euo pipefail` on a pseudo-terminal, as typed
    /// into an operator's shell, with `auth-admin` on the `PATH`.
    pub fn shell_on_terminal(&self, script: &str) -> Terminal {
        let dir = path().parent().map(PathBuf::from).unwrap_or_default();
        let mut command = Command::new("bash");
        command
            .args(["-euo", "pipefail", "-c", script])
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", dir.display()),
            );
        Terminal::spawn(command)
    }

    /// Runs on a pseudo-terminal of its own: its controlling terminal and its
    /// stdin, stdout and stderr, as in an operator's shell.
    pub fn on_terminal(&self, args: &[&str]) -> Terminal {
        Terminal::spawn(self.command(args))
    }
}

fn wait_with_limit(child: Child, args: &[&str]) -> std::process::Output {
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done.send(());
        output
    });
    if finished.recv_timeout(RUN_LIMIT).is_err() {
        // SAFETY: kill(2) on the child's own pid.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        panic!("auth-admin {args:?} did not finish within {RUN_LIMIT:?}");
    }
    waiter
        .join()
        .expect("waiter thread")
        .expect("auth-admin output")
}

/// A run on a pseudo-terminal: what it printed there so far, and typing.
pub struct Terminal {
    master: std::fs::File,
    child: Child,
    screen: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

impl Terminal {
    fn spawn(mut command: Command) -> Terminal {
        use std::os::unix::process::CommandExt;
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty fills two descriptors, owned below.
        let opened = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened and are owned only here.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let stdio = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup pty"));
        command
            .stdin(stdio(&slave))
            .stdout(stdio(&slave))
            .stderr(stdio(&slave));
        // SAFETY: setsid and ioctl are async-signal-safe; they make the pty
        // (already the child's stdin) its controlling terminal, so /dev/tty
        // is the pty, as in a shell.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("run auth-admin on a terminal");
        // Only the child holds the terminal's side now, so reading ends
        // (EIO) once it exits.
        drop(command);
        drop(slave);
        let master = std::fs::File::from(master);
        let screen = Arc::new(Mutex::new(String::new()));
        let reader = {
            let mut master = master.try_clone().expect("dup pty master");
            let screen = Arc::clone(&screen);
            std::thread::spawn(move || {
                let mut buffer = [0u8; 1024];
                while let Ok(n @ 1..) = master.read(&mut buffer) {
                    if let Ok(mut screen) = screen.lock() {
                        screen.push_str(&String::from_utf8_lossy(&buffer[..n]));
                    }
                }
            })
        };
        Terminal {
            master,
            child,
            screen,
            reader: Some(reader),
        }
    }

    /// Everything printed on the terminal so far, echoed input included.
    pub fn screen(&self) -> String {
        self.screen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Whether the terminal echoes what is typed (off while a password is read).
    pub fn echoes(&self) -> bool {
        // SAFETY: tcgetattr fills a termios; on Linux a pty master reports
        // its terminal's settings.
        let mut settings: libc::termios = unsafe { std::mem::zeroed() };
        let got = unsafe { libc::tcgetattr(self.master.as_raw_fd(), &mut settings) };
        assert_eq!(got, 0, "tcgetattr: {}", std::io::Error::last_os_error());
        settings.c_lflag & libc::ECHO != 0
    }

    /// Waits until `text` appears on the terminal `times` times in all.
    pub fn wait_for(&self, text: &str, times: usize) {
        let start = Instant::now();
        while self.screen().matches(text).count() < times {
            assert!(
                start.elapsed() < RUN_LIMIT,
                "{text:?} did not appear {times} time(s) within {RUN_LIMIT:?}; screen: {:?}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the `times`-th `prompt`, then for echo to go off, then types
    /// `line` and Enter: a password typed where nobody can see it.
    pub fn answer_hidden(&mut self, prompt: &str, times: usize, line: &str) {
        self.wait_for(prompt, times);
        let start = Instant::now();
        while self.echoes() {
            assert!(
                start.elapsed() < RUN_LIMIT,
                "echo stayed on after {prompt:?}; screen: {:?}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.master
            .write_all(format!("{line}\n").as_bytes())
            .expect("type on the terminal");
    }

    /// Answers every password prompt with `password` (hidden, as a person
    /// would type it) until the run ends; its exit status and the screen.
    pub fn answer_prompts_until_exit(mut self, password: &str) -> (ExitStatus, String) {
        let start = Instant::now();
        let mut answered = [0, 0];
        loop {
            if self.child.try_wait().expect("wait").is_some() {
                return self.finish();
            }
            assert!(
                start.elapsed() < RUN_LIMIT,
                "did not finish within {RUN_LIMIT:?}; screen: {:?}",
                self.screen()
            );
            let screen = self.screen();
            for (i, prompt) in ["Password: ", "Confirm password: "].into_iter().enumerate() {
                if screen.matches(prompt).count() > answered[i] {
                    answered[i] += 1;
                    self.answer_hidden(prompt, answered[i], password);
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the run to end; its exit status and the whole screen.
    pub fn finish(mut self) -> (ExitStatus, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for auth-admin") {
                break status;
            }
            if start.elapsed() > RUN_LIMIT {
                let _ = self.child.kill();
                panic!(
                    "auth-admin on a terminal did not finish; screen: {:?}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        (status, self.screen())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
