//! A loopback TCP proxy in front of a real server, for outages that strike at a
//! chosen moment: a Secrets Manager endpoint that answers at start-up and then
//! goes silent, or a database that dies in the middle of a request, on the one
//! command a test names. It counts the connections it accepts, and can delay
//! each connection's first reply as a distant server's handshake would. It can
//! answer a chosen command with a MongoDB error instead of forwarding it (a
//! replica set's election, see [`Failure`]), and note every read or
//! find-and-modify that leaves out `maxTimeMS` ([`Proxy::checking_max_time`]).
//!
//! The shared test server is reached through one of these for the whole test
//! process, with the compatibility check of [`crate::compat`] on every
//! message it relays.

use crate::compat::{shared_recording, Check, Recording};
use mongodb::bson::{doc, RawBsonRef, RawDocument};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Proxy {
    pub port: u16,
    silent: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    commands: Option<Arc<Mutex<Vec<String>>>>,
    failure: Option<Arc<Failing>>,
    timed: Option<Arc<Mutex<Vec<Timed>>>>,
}

/// A MongoDB error the proxy answers in place of a command, as a replica set
/// answers writes during an election: `{ok: 0, code, codeName, errmsg,
/// errorLabels}`.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The command's name (`insert`, `findAndModify`, ...).
    pub command: String,
    /// Only on this collection (the command's first value), if given.
    pub collection: Option<String>,
    pub code: i32,
    pub code_name: String,
    pub labels: Vec<String>,
    /// Only the Nth matching command (from 1), or every one when `None`.
    pub nth: Option<usize>,
}

impl Failure {
    /// Every `command` (on `collection`, if given) answered with error `code`
    /// `code_name` and the label `RetryableWriteError`.
    pub fn every(command: &str, collection: Option<&str>, code: i32, code_name: &str) -> Failure {
        Failure {
            command: command.to_owned(),
            collection: collection.map(str::to_owned),
            code,
            code_name: code_name.to_owned(),
            labels: vec!["RetryableWriteError".to_owned()],
            nth: None,
        }
    }

    /// The same error on the `nth` matching command only (from 1).
    pub fn only(self, nth: usize) -> Failure {
        Failure {
            nth: Some(nth),
            ..self
        }
    }

    /// The same error without any label.
    pub fn unlabelled(self) -> Failure {
        Failure {
            labels: Vec::new(),
            ..self
        }
    }

    fn matches(&self, name: &str, collection: Option<&str>) -> bool {
        name == self.command
            && self
                .collection
                .as_deref()
                .is_none_or(|wanted| collection == Some(wanted))
    }
}

/// A failure being injected, and what the proxy has seen of it.
struct Failing {
    failure: Failure,
    injecting: AtomicBool,
    /// Matching commands seen so far (forwarded or answered).
    seen: AtomicUsize,
    /// Matching commands answered with the error.
    answered: AtomicUsize,
}

/// A command that should carry `maxTimeMS`: its name, its collection, and
/// whether it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timed {
    pub command: String,
    pub collection: String,
    pub max_time_ms: bool,
}

/// The commands the server may spend unbounded time on unless told
/// `maxTimeMS`.
const TIMED_COMMANDS: &[&str] = &["find", "aggregate", "findAndModify", "count"];

/// Commands a driver sends on its own, not for an operation of the app.
const DRIVER_COMMANDS: &[&str] = &[
    "hello",
    "ismaster",
    "ping",
    "buildinfo",
    "saslstart",
    "saslcontinue",
    "endsessions",
    "getlasterror",
];

/// What the proxy does besides forwarding.
#[derive(Clone, Default)]
struct Behaviour {
    /// Drop the connection instead of forwarding a wire message holding this.
    cut_on: Option<Arc<Vec<u8>>>,
    /// Hold each connection's first reply this long.
    first_reply_delay: Duration,
    /// Record the name of every MongoDB command clients send.
    commands: Option<Arc<Mutex<Vec<String>>>>,
    /// Refuse what the compatibility profile leaves out, and record it all.
    check: Option<Arc<Check>>,
    /// Answer a chosen command with an error.
    failure: Option<Arc<Failing>>,
    /// Note whether each of [`TIMED_COMMANDS`] carries `maxTimeMS`.
    timed: Option<Arc<Mutex<Vec<Timed>>>>,
}

impl Proxy {
    /// Forwards every byte between its clients and `upstream` (`host:port`)
    /// until [`Proxy::go_silent`].
    pub fn start(upstream: &str) -> Proxy {
        Self::spawn(upstream, Behaviour::default())
    }

    /// Forwards every byte, but holds each new connection's first reply for
    /// `delay`: a remote cluster, where TCP, TLS and authentication cost a new
    /// connection hundreds of milliseconds before its first answer.
    pub fn delaying_first_replies(upstream: &str, delay: Duration) -> Proxy {
        let behaviour = Behaviour {
            first_reply_delay: delay,
            ..Behaviour::default()
        };
        Self::spawn(upstream, behaviour)
    }

    /// Forwards MongoDB wire messages whole and records the name of each
    /// command clients send (see [`Proxy::commands`]): a count of database
    /// commands for any client, whatever its language.
    pub fn recording_mongodb_commands(upstream: &str) -> Proxy {
        let behaviour = Behaviour {
            commands: Some(Arc::default()),
            ..Behaviour::default()
        };
        let commands = behaviour.commands.clone();
        let mut proxy = Self::spawn(upstream, behaviour);
        proxy.commands = commands;
        proxy
    }

    /// The commands clients sent so far (`OP_MSG` only), leaving out the
    /// drivers' own: handshakes, heartbeats, authentication, session ends.
    pub fn commands(&self) -> Vec<String> {
        let Some(commands) = &self.commands else {
            return Vec::new();
        };
        let sent = commands.lock().map(|c| c.clone()).unwrap_or_default();
        sent.into_iter()
            .filter(|name| !DRIVER_COMMANDS.contains(&name.to_ascii_lowercase().as_str()))
            .collect()
    }

    /// How many connections clients have opened through the proxy so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Forwards MongoDB wire messages to `upstream` whole, except one holding
    /// `pattern`: instead of forwarding it, the proxy drops that connection, as
    /// a database dying at that very command would. See [`command_on`].
    pub fn cutting_mongodb_commands(upstream: &str, pattern: Vec<u8>) -> Proxy {
        let behaviour = Behaviour {
            cut_on: Some(Arc::new(pattern)),
            ..Behaviour::default()
        };
        Self::spawn(upstream, behaviour)
    }

    /// Forwards MongoDB wire messages to `upstream` whole, checking each
    /// command against the compatibility profile: one outside it is not
    /// forwarded but answered `{ok: 0, code: 2}` naming what is outside.
    /// With `refuse` false it only records. Everything seen goes to
    /// [`compat_recording`].
    pub fn checking_compatibility(upstream: &str, refuse: bool) -> Proxy {
        Self::checking_compatibility_into(upstream, refuse, shared_recording().clone())
    }

    /// [`Proxy::checking_compatibility`], recording into `recording` instead
    /// of the process's (for tests of the check itself).
    pub fn checking_compatibility_into(
        upstream: &str,
        refuse: bool,
        recording: Arc<Mutex<Recording>>,
    ) -> Proxy {
        let behaviour = Behaviour {
            check: Some(Arc::new(Check { refuse, recording })),
            ..Behaviour::default()
        };
        Self::spawn(upstream, behaviour)
    }

    /// Forwards MongoDB wire messages to `upstream` whole, except the
    /// commands `failure` names: those it answers itself with its error, as
    /// a primary stepping down would, until [`Proxy::stop_failing`].
    pub fn failing_mongodb_commands(upstream: &str, failure: Failure) -> Proxy {
        let failing = Arc::new(Failing {
            failure,
            injecting: AtomicBool::new(true),
            seen: AtomicUsize::new(0),
            answered: AtomicUsize::new(0),
        });
        let behaviour = Behaviour {
            failure: Some(failing.clone()),
            ..Behaviour::default()
        };
        let mut proxy = Self::spawn(upstream, behaviour);
        proxy.failure = Some(failing);
        proxy
    }

    /// From now on the commands of the failure are forwarded: the election is over.
    pub fn stop_failing(&self) {
        if let Some(failing) = &self.failure {
            failing.injecting.store(false, Ordering::SeqCst);
        }
    }

    /// How many commands matching the failure clients have sent, and how
    /// many of them the proxy answered with its error.
    pub fn failure_counts(&self) -> (usize, usize) {
        self.failure.as_ref().map_or((0, 0), |failing| {
            (
                failing.seen.load(Ordering::SeqCst),
                failing.answered.load(Ordering::SeqCst),
            )
        })
    }

    /// Forwards MongoDB wire messages to `upstream` whole and notes, for each
    /// `find`, `aggregate`, `findAndModify` and `count`, whether it carries
    /// `maxTimeMS` (see [`Proxy::timed_commands`]).
    pub fn checking_max_time(upstream: &str) -> Proxy {
        let behaviour = Behaviour {
            timed: Some(Arc::default()),
            ..Behaviour::default()
        };
        let timed = behaviour.timed.clone();
        let mut proxy = Self::spawn(upstream, behaviour);
        proxy.timed = timed;
        proxy
    }

    /// Every `find`, `aggregate`, `findAndModify` and `count` seen so far.
    pub fn timed_commands(&self) -> Vec<Timed> {
        self.timed
            .as_ref()
            .and_then(|timed| timed.lock().ok().map(|timed| timed.clone()))
            .unwrap_or_default()
    }

    /// `mongodb://127.0.0.1:<port>/?directConnection=true` for this proxy.
    pub fn mongodb_uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
    }

    /// From now on the proxy accepts connections and reads what its clients send,
    /// but forwards nothing either way, and never answers: the worst outage.
    pub fn go_silent(&self) {
        self.silent.store(true, Ordering::SeqCst);
    }

    fn spawn(upstream: &str, behaviour: Behaviour) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let silent = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let upstream = upstream.to_owned();
        let (flag, count) = (silent.clone(), connections.clone());
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for client in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                if flag.load(Ordering::SeqCst) {
                    held.push(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let (flag, behaviour) = (flag.clone(), behaviour.clone());
                std::thread::spawn(move || relay(client, server, flag, behaviour));
            }
        });
        Proxy {
            port,
            silent,
            connections,
            commands: None,
            failure: None,
            timed: None,
        }
    }
}

/// The bytes that open a MongoDB command `name` (an OP_MSG body's first element)
/// on collection `collection`: `{name: "<collection>", ...}` as BSON.
pub fn command_on(name: &str, collection: &str) -> Vec<u8> {
    let mut pattern = vec![0x02];
    pattern.extend_from_slice(name.as_bytes());
    pattern.push(0);
    let length = i32::try_from(collection.len() + 1).expect("a short collection name");
    pattern.extend_from_slice(&length.to_le_bytes());
    pattern.extend_from_slice(collection.as_bytes());
    pattern.push(0);
    pattern
}

/// The `host:port` of a `mongodb://host:port/...` connection string without
/// credentials (the test server's).
pub fn mongodb_address(uri: &str) -> String {
    let rest = uri.strip_prefix("mongodb://").expect("a mongodb:// URI");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let address = &rest[..end];
    assert!(
        !address.contains('@') && !address.contains(','),
        "the proxy fronts one server without credentials, not {address}"
    );
    address.to_owned()
}

fn relay(client: TcpStream, mut server: TcpStream, silent: Arc<AtomicBool>, behaviour: Behaviour) {
    let Behaviour {
        cut_on,
        first_reply_delay,
        commands,
        check,
        failure,
        timed,
    } = behaviour;
    let whole_messages = cut_on.is_some()
        || commands.is_some()
        || check.is_some()
        || failure.is_some()
        || timed.is_some();
    if check.is_some() || failure.is_some() {
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
    }
    let (Ok(mut client_reader), Ok(mut server_reader)) = (client.try_clone(), server.try_clone())
    else {
        return;
    };
    // Both directions write to the client when the proxy answers a refusal
    // itself: whole messages, one at a time.
    let client = Arc::new(Mutex::new(client));
    let client_writer = client.clone();
    let answers_silent = silent.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        let mut first = true;
        while let Ok(read) = server_reader.read(&mut buffer) {
            if read == 0 || answers_silent.load(Ordering::SeqCst) {
                break;
            }
            if std::mem::take(&mut first) {
                std::thread::sleep(first_reply_delay);
            }
            let written = client_writer
                .lock()
                .map(|mut client| client.write_all(&buffer[..read]).is_ok());
            if !matches!(written, Ok(true)) {
                break;
            }
        }
        // Silent: hold the client's socket open and never write to it again.
        while answers_silent.load(Ordering::SeqCst) {
            std::thread::park();
        }
        if let Ok(client) = client_writer.lock() {
            let _ = client.shutdown(Shutdown::Both);
        }
    });
    loop {
        let message = if whole_messages {
            read_wire_message(&mut client_reader)
        } else {
            read_chunk(&mut client_reader)
        };
        let Some(message) = message else { break };
        if let (Some(commands), Some(name)) = (&commands, command_name(&message)) {
            if let Ok(mut commands) = commands.lock() {
                commands.push(name);
            }
        }
        if silent.load(Ordering::SeqCst) {
            // Read and dropped: the client waits for an answer that never comes.
            continue;
        }
        if let Some(pattern) = &cut_on {
            if contains(&message, pattern) {
                let _ = client_reader.shutdown(Shutdown::Both);
                break;
            }
        }
        if let Some(timed) = &timed {
            note_max_time(&message, timed);
        }
        let refusal = failure
            .as_deref()
            .and_then(|failing| inject(&message, failing))
            .or_else(|| check.as_ref().and_then(|check| check.inspect(&message)));
        if let Some(refusal) = refusal {
            let answered = client
                .lock()
                .map(|mut client| client.write_all(&refusal).is_ok());
            if matches!(answered, Ok(true)) {
                continue;
            }
            break;
        }
        if server.write_all(&message).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Both);
}

/// The body of an `OP_MSG` (its first section, kind 0), the command.
fn op_msg_body(message: &[u8]) -> Option<&RawDocument> {
    const OP_MSG: i32 = 2013;
    let opcode = i32::from_le_bytes(message.get(12..16)?.try_into().ok()?);
    if opcode != OP_MSG || *message.get(20)? != 0 {
        return None;
    }
    let length = usize::try_from(i32::from_le_bytes(message.get(21..25)?.try_into().ok()?)).ok()?;
    RawDocument::from_bytes(message.get(21..21 + length)?).ok()
}

/// A command's name and, when its value is a string, the collection it names.
fn command_target(body: &RawDocument) -> Option<(&str, Option<&str>)> {
    let (name, value) = body.iter().next()?.ok()?;
    let collection = match value {
        RawBsonRef::String(collection) => Some(collection),
        _ => None,
    };
    Some((name, collection))
}

/// The error reply for `message`, if it is a command `failing` names and
/// its turn to fail; counts what it sees.
fn inject(message: &[u8], failing: &Failing) -> Option<Vec<u8>> {
    let body = op_msg_body(message)?;
    let (name, collection) = command_target(body)?;
    let failure = &failing.failure;
    if !failure.matches(name, collection) {
        return None;
    }
    let seen = failing.seen.fetch_add(1, Ordering::SeqCst) + 1;
    let turn = failure.nth.is_none_or(|nth| nth == seen);
    if !turn || !failing.injecting.load(Ordering::SeqCst) {
        return None;
    }
    failing.answered.fetch_add(1, Ordering::SeqCst);
    let request_id = i32::from_le_bytes(message.get(4..8)?.try_into().ok()?);
    let reply = doc! {
        "ok": 0.0,
        "errmsg": format!("{} (injected by the test proxy)", failure.code_name),
        "code": failure.code,
        "codeName": &failure.code_name,
        "errorLabels": &failure.labels,
    };
    Some(op_msg_reply(request_id, &reply))
}

/// Notes whether `message`, if one of [`TIMED_COMMANDS`], carries `maxTimeMS`.
fn note_max_time(message: &[u8], timed: &Mutex<Vec<Timed>>) {
    let Some(body) = op_msg_body(message) else {
        return;
    };
    let Some((name, collection)) = command_target(body) else {
        return;
    };
    if !TIMED_COMMANDS.contains(&name) {
        return;
    }
    let max_time_ms = matches!(body.get("maxTimeMS"), Ok(Some(_)));
    if let Ok(mut timed) = timed.lock() {
        timed.push(Timed {
            command: name.to_owned(),
            collection: collection.unwrap_or_default().to_owned(),
            max_time_ms,
        });
    }
}

/// An `OP_MSG` reply to request `response_to` holding `body`.
fn op_msg_reply(response_to: i32, body: &mongodb::bson::Document) -> Vec<u8> {
    let mut bytes = Vec::new();
    body.to_writer(&mut bytes).expect("a BSON document");
    let length = i32::try_from(16 + 4 + 1 + bytes.len()).expect("a small reply");
    let mut reply = Vec::new();
    for field in [length, 0, response_to, 2013, 0] {
        reply.extend_from_slice(&field.to_le_bytes());
    }
    reply.push(0);
    reply.extend_from_slice(&bytes);
    reply
}

/// The command an `OP_MSG` carries: the first element's name of its body
/// (header 16 bytes, flag bits 4, section kind 1, document length 4, type 1).
fn command_name(message: &[u8]) -> Option<String> {
    const OP_MSG: i32 = 2013;
    let opcode = i32::from_le_bytes(message.get(12..16)?.try_into().ok()?);
    if opcode != OP_MSG || *message.get(20)? != 0 {
        return None;
    }
    let name = message.get(26..)?;
    let end = name.iter().position(|&byte| byte == 0)?;
    Some(String::from_utf8_lossy(&name[..end]).into_owned())
}

fn read_chunk(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buffer = vec![0u8; 16 * 1024];
    match stream.read(&mut buffer) {
        Ok(0) | Err(_) => None,
        Ok(read) => {
            buffer.truncate(read);
            Some(buffer)
        }
    }
}

/// One whole wire message: its int32 length, then the rest.
fn read_wire_message(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).ok()?;
    let length = usize::try_from(i32::from_le_bytes(header)).ok()?;
    let mut message = header.to_vec();
    message.resize(length.max(4), 0);
    stream.read_exact(&mut message[4..]).ok()?;
    Some(message)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
