//! A Lambda Runtime API emulator: the HTTP interface a function binary polls for
//! events and posts results to, as the Lambda service offers it on
//! `AWS_LAMBDA_RUNTIME_API`. Only what `lambda_runtime` uses is implemented.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// What the function answered to one event.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    Error(Bytes),
}

struct Pending {
    event: serde_json::Value,
    reply: oneshot::Sender<Outcome>,
}

struct Inner {
    queue: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    first_poll: OnceLock<Instant>,
    init_error: Mutex<Option<String>>,
}

/// One emulator per function process.
#[derive(Clone)]
pub struct RuntimeApi {
    inner: Arc<Inner>,
    sender: mpsc::Sender<Pending>,
    pub addr: SocketAddr,
}

impl RuntimeApi {
    /// Binds a free loopback port and serves until the runtime is dropped.
    pub async fn start() -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel(16);
        let inner = Arc::new(Inner {
            queue: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(HashMap::new()),
            first_poll: OnceLock::new(),
            init_error: Mutex::new(None),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(RuntimeApi {
            inner,
            sender,
            addr,
        })
    }

    /// Queues `event` and waits for the function's answer.
    pub async fn invoke(&self, event: serde_json::Value) -> Result<Outcome, String> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Pending { event, reply })
            .await
            .map_err(|_| "the runtime API is gone".to_owned())?;
        answer
            .await
            .map_err(|_| "the event was dropped unanswered".to_owned())
    }

    /// When the function first asked for an event: it had finished its init.
    pub fn first_poll(&self) -> Option<Instant> {
        self.inner.first_poll.get().copied()
    }

    pub fn init_error(&self) -> Option<String> {
        self.inner.init_error.lock().ok().and_then(|e| e.clone())
    }
}

async fn next(State(inner): State<Arc<Inner>>) -> impl IntoResponse {
    let _ = inner.first_poll.set(Instant::now());
    let pending = inner.queue.lock().await.recv().await;
    let Some(Pending { event, reply }) = pending else {
        return (StatusCode::GONE, HeaderMap::new(), String::new());
    };
    let id = uuid::Uuid::new_v4().to_string();
    if let Ok(mut in_flight) = inner.in_flight.lock() {
        in_flight.insert(id.clone(), reply);
    }
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 30_000)
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:e2e".to_owned(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".to_owned(),
    );
    set("content-type", "application/json".to_owned());
    (StatusCode::OK, headers, event.to_string())
}

fn answer(inner: &Inner, id: &str, outcome: Outcome) -> StatusCode {
    let reply = inner
        .in_flight
        .lock()
        .ok()
        .and_then(|mut map| map.remove(id));
    match reply {
        Some(reply) => {
            let _ = reply.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    answer(&inner, &id, Outcome::Response(body))
}

async fn error(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    answer(&inner, &id, Outcome::Error(body))
}

async fn init_error(State(inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    if let Ok(mut slot) = inner.init_error.lock() {
        *slot = Some(String::from_utf8_lossy(&body).into_owned());
    }
    StatusCode::ACCEPTED
}
