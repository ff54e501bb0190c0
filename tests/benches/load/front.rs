//! The API Gateway stand-in of the load run: an HTTP server on a loopback port
//! that turns each request into a REST API (payload 1.0) event and hands it to
//! a free container of its route's function, as Lambda does: a container
//! serves one event at a time, and a request that finds every container busy
//! waits (first come, first served) for one. That wait is part of the
//! latency the client measures; the front also keeps it per route.
//!
//! A container that fails an invocation outright (no answer in the harness's
//! 30 s, or a crash) is replaced by a fresh one, as Lambda would, and the
//! request answers 502.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use e2e::{Function, HttpRequest, Payload};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The routes, as the package mounts them, and the function behind each.
pub const ROUTES: [(&str, &str); 3] = [
    ("/admin/login", "login"),
    ("/admin/logout", "logout"),
    ("/admin/graphql", "graphql"),
];

/// The bodies API Gateway would accept (ours refuse past 64 KiB anyway).
const BODY_LIMIT: usize = 1 << 20;

/// The containers of one function.
pub struct Pool {
    pub function: &'static str,
    idle: Mutex<Vec<Function>>,
    free: Semaphore,
    env: Vec<(&'static str, String)>,
    /// How long each request waited for a free container.
    waits: Mutex<Vec<Duration>>,
    pub replaced: AtomicUsize,
}

impl Pool {
    async fn start(
        function: &'static str,
        containers: usize,
        env: &[(&'static str, String)],
    ) -> Pool {
        let mut idle = Vec::new();
        for _ in 0..containers {
            idle.push(ready(function, env).await);
        }
        if function == "login" {
            // Login times both password schemes in the background at start:
            // let that finish before the load starts.
            for container in &idle {
                container.wait_for_timing_calibration().await;
            }
        }
        Pool {
            function,
            idle: Mutex::new(idle),
            free: Semaphore::new(containers),
            env: env.to_vec(),
            waits: Mutex::new(Vec::new()),
            replaced: AtomicUsize::new(0),
        }
    }

    /// Runs `event` on the next free container.
    async fn invoke(self: Arc<Self>, event: Value) -> Result<Value, String> {
        let queued = Instant::now();
        let _permit = self.free.acquire().await.map_err(|e| e.to_string())?;
        lock(&self.waits).push(queued.elapsed());
        let mut container = lock(&self.idle)
            .pop()
            .ok_or("no idle container behind a permit")?;
        let run = tokio::spawn(async move {
            let answer = container.invoke_json(event).await;
            (container, answer)
        });
        match run.await {
            Ok((container, answer)) => {
                lock(&self.idle).push(container);
                answer.map_err(|error| format!("invocation error: {error}"))
            }
            Err(_) => {
                // The harness gave up on it (and killed it): a fresh one.
                self.replaced.fetch_add(1, Ordering::Relaxed);
                let fresh = ready(self.function, &self.env).await;
                lock(&self.idle).push(fresh);
                Err(format!("a {} container failed", self.function))
            }
        }
    }

    /// The waits for a free container so far.
    pub fn waits(&self) -> Vec<Duration> {
        lock(&self.waits).clone()
    }
}

async fn ready(function: &'static str, env: &[(&'static str, String)]) -> Function {
    let container = Function::start(function, env).await;
    let limit = Duration::from_secs(20);
    assert!(
        container.ready_after(limit).await.is_some(),
        "{function} did not start within {limit:?}: {}",
        container.logs()
    );
    container
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The front and its pools; serves until dropped.
pub struct Front {
    pub port: u16,
    pub pools: Arc<Vec<Arc<Pool>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Front {
    /// `containers` containers of each function, all started with `env`.
    pub async fn start(containers: usize, env: &[(&'static str, String)]) -> Front {
        let mut pools = Vec::new();
        for (_, function) in ROUTES {
            pools.push(Arc::new(Pool::start(function, containers, env).await));
        }
        let pools = Arc::new(pools);
        let app = Router::new().fallback(handle).with_state(pools.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the front");
        let port = listener.local_addr().expect("the front's address").port();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Front {
            port,
            pools,
            server,
        }
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn handle(State(pools): State<Arc<Vec<Arc<Pool>>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let Some(index) = ROUTES.iter().position(|(route, _)| *route == path) else {
        return answer(StatusCode::NOT_FOUND, json!({"message": "not_found"}));
    };
    let Ok(body) = to_bytes(body, BODY_LIMIT).await else {
        return answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"message": "payload_too_large"}),
        );
    };
    let headers = parts
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let event = HttpRequest {
        method: parts.method.to_string(),
        path,
        headers,
        body: (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned()),
        source_ip: Some("127.0.0.1".to_owned()),
    }
    .event(Payload::RestV1);
    // Detached: a client that hangs up doesn't strand the container.
    let pool = pools[index].clone();
    match tokio::spawn(pool.invoke(event)).await {
        Ok(Ok(result)) => proxy_response(&result),
        Ok(Err(why)) => answer(StatusCode::BAD_GATEWAY, json!({"message": why})),
        Err(why) => answer(StatusCode::BAD_GATEWAY, json!({"message": why.to_string()})),
    }
}

/// The function's proxy response as HTTP.
fn proxy_response(result: &Value) -> Response {
    let status = result["statusCode"]
        .as_u64()
        .and_then(|code| StatusCode::from_u16(code as u16).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let body = result["body"].as_str().unwrap_or_default().to_owned();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let mut set = |name: &str, value: &Value| {
        if let (Ok(name), Some(Ok(value))) = (
            HeaderName::try_from(name),
            value.as_str().map(HeaderValue::from_str),
        ) {
            response.headers_mut().append(name, value);
        }
    };
    // The same header may come in both maps: the multi-value one wins.
    let multi = result["multiValueHeaders"]
        .as_object()
        .filter(|m| !m.is_empty());
    match multi {
        Some(multi) => {
            for (name, values) in multi {
                for value in values.as_array().into_iter().flatten() {
                    set(name, value);
                }
            }
        }
        None => {
            for (name, value) in result["headers"].as_object().into_iter().flatten() {
                set(name, value);
            }
        }
    }
    response
}

fn answer(status: StatusCode, body: Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
