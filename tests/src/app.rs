//! The app under test, as its clients see it: a fresh database seeded with an
//! admin and a support user, the three functions running against it, and
//! methods that read as the API (`login`, `logout`, `graphql`). Set-up lives
//! here; what a test asserts stays in the test.

use crate::{Function, HttpRequest, LambdaResponse, Payload, TestDb};
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;

pub const LOGIN_PATH: &str = "/admin/login";

/// `POST /admin/login` with `username` and `password`, to add to (a source IP,
/// headers) before making it an event.
pub fn login_request(username: &str, password: &str) -> HttpRequest {
    HttpRequest::post(LOGIN_PATH).json(&json!({"username": username, "password": password}))
}

/// A REST API (payload 1.0) login event for `username` and `password`.
pub fn login_event(username: &str, password: &str) -> Value {
    login_request(username, password).event(Payload::RestV1)
}

/// Logs in through the `login` function and returns (access, refresh).
pub async fn login_pair(login: &mut Function, username: &str, password: &str) -> (String, String) {
    let response = login.invoke(login_event(username, password)).await;
    assert_eq!(
        response.status, 200,
        "login {username}: {}",
        response.raw_body
    );
    let data = &response.body["data"];
    (
        data["token"].as_str().expect("token").to_owned(),
        data["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_owned(),
    )
}

pub const LOGOUT_PATH: &str = "/admin/logout";
pub const GRAPHQL_PATH: &str = "/admin/graphql";

/// The environment setting that lets every role in (the default is `admin`).
pub const ANY_ROLE: (&str, &str) = ("ALLOWED_ROLES", "*");

/// A seeded user and the password that logs them in.
pub struct TestUser {
    pub id: ObjectId,
    pub username: &'static str,
    pub password: &'static str,
}

pub struct TestApp {
    pub db: TestDb,
    /// The environment every function of this app starts with.
    pub env: Vec<(&'static str, String)>,
    pub admin_role: ObjectId,
    /// Role `support`, with permissions `{"tickets": "rw"}`.
    pub support_role: ObjectId,
    /// `root` / `root-password`, role `admin`.
    pub admin: TestUser,
    /// `sue` / `current`, role `support`.
    pub support: TestUser,
    pub login_fn: Function,
    pub logout_fn: Function,
    pub graphql_fn: Function,
}

impl TestApp {
    /// The app with the functions' default settings.
    pub async fn spawn() -> TestApp {
        TestApp::with_env(&[]).await
    }

    /// The app with `extra` settings on top of (or in place of) the database's.
    pub async fn with_env(extra: &[(&'static str, &str)]) -> TestApp {
        let db = TestDb::new().await;
        let admin_role = db.role("admin").await;
        let support_role = db
            .role_with_permissions("support", doc! {"tickets": "rw"})
            .await;
        let admin = TestUser {
            id: db
                .user_with_hash("root", &seed_hash("root-password"), admin_role)
                .await,
            username: "root",
            password: "root-password",
        };
        let support = TestUser {
            id: db
                .user_with_hash("sue", &seed_hash("current"), support_role)
                .await,
            username: "sue",
            password: "current",
        };
        let env = with_settings(db.env(), extra);
        let login_fn = Function::start("login", &env).await;
        let logout_fn = Function::start("logout", &env).await;
        let graphql_fn = Function::start("graphql", &env).await;
        TestApp {
            db,
            env,
            admin_role,
            support_role,
            admin,
            support,
            login_fn,
            logout_fn,
            graphql_fn,
        }
    }

    /// One more container of function `name`, configured as this app's.
    pub async fn start(&self, name: &str) -> Function {
        Function::start(name, &self.env).await
    }

    /// One more container of function `name`, with `extra` settings on top.
    pub async fn start_with(&self, name: &str, extra: &[(&'static str, &str)]) -> Function {
        Function::start(name, &with_settings(self.env.clone(), extra)).await
    }

    /// `POST /admin/login` with `body` as JSON.
    pub async fn post_login(&mut self, payload: Payload, body: &Value) -> LambdaResponse {
        self.login_fn
            .invoke(HttpRequest::post(LOGIN_PATH).json(body).event(payload))
            .await
    }

    /// Logs in, failing the test unless it succeeds; returns (access, refresh).
    pub async fn login(&mut self, username: &str, password: &str) -> (String, String) {
        login_pair(&mut self.login_fn, username, password).await
    }

    /// An access token of the seeded admin, from a fresh login.
    pub async fn admin_token(&mut self) -> String {
        let (username, password) = (self.admin.username, self.admin.password);
        self.login(username, password).await.0
    }

    /// An access token of the seeded support user, from a fresh login.
    pub async fn support_token(&mut self) -> String {
        let (username, password) = (self.support.username, self.support.password);
        self.login(username, password).await.0
    }

    /// `POST /admin/logout` with `Authorization: Bearer <token>`.
    pub async fn logout(&mut self, token: &str) -> LambdaResponse {
        self.logout_with(Some(&format!("Bearer {token}")), Payload::RestV1)
            .await
    }

    /// `POST /admin/logout` with exactly `authorization` (or none), over `payload`.
    pub async fn logout_with(
        &mut self,
        authorization: Option<&str>,
        payload: Payload,
    ) -> LambdaResponse {
        let mut request = HttpRequest::post(LOGOUT_PATH).json(&json!({}));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        self.logout_fn.invoke(request.event(payload)).await
    }

    /// `POST /admin/graphql` with `{"query", "variables"}` and an optional bearer
    /// token.
    pub async fn graphql(
        &mut self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> LambdaResponse {
        self.graphql_fn
            .invoke(graphql_request(token, query, variables).event(Payload::RestV1))
            .await
    }

    /// Logs in from `ip` with `User-Agent: user_agent`, failing the test unless
    /// it succeeds; returns (access, refresh).
    pub async fn login_from(
        &mut self,
        username: &str,
        password: &str,
        ip: &str,
        user_agent: &str,
    ) -> (String, String) {
        let body = json!({"username": username, "password": password});
        let request = HttpRequest::post(LOGIN_PATH)
            .json(&body)
            .header("User-Agent", user_agent)
            .from_ip(ip);
        let response = self.login_fn.invoke(request.event(Payload::RestV1)).await;
        assert_eq!(response.status, 200, "{}", response.raw_body);
        let token = |name: &str| {
            response.body["data"][name]
                .as_str()
                .unwrap_or_else(|| panic!("no {name}: {}", response.raw_body))
                .to_owned()
        };
        (token("token"), token("refresh_token"))
    }

    /// The `refresh_token` mutation with `refresh` alone (no access token).
    pub async fn refresh(&mut self, refresh: &str) -> LambdaResponse {
        self.graphql(None, REFRESH_QUERY, json!({"r": refresh}))
            .await
    }

    /// The caller's `sessions`, failing the test unless they come back.
    pub async fn sessions(&mut self, token: &str) -> Vec<Value> {
        let response = self.graphql(Some(token), SESSIONS_QUERY, json!({})).await;
        response.body["data"]["sessions"]
            .as_array()
            .unwrap_or_else(|| panic!("no sessions: {}", response.raw_body))
            .clone()
    }

    /// `end_session(input: {id})` as the holder of `token`.
    pub async fn end_session(&mut self, token: &str, id: &Value) -> LambdaResponse {
        let query = "mutation($id: ID!) { end_session(input: {id: $id}) { ok } }";
        self.graphql(Some(token), query, json!({"id": id})).await
    }

    /// `end_other_sessions` as the holder of `token`.
    pub async fn end_other_sessions(&mut self, token: &str) -> LambdaResponse {
        let query = "mutation { end_other_sessions { ok } }";
        self.graphql(Some(token), query, json!({})).await
    }

    /// The log records of every function of this app whose `event` is `name`.
    pub fn events(&self, name: &str) -> Vec<Value> {
        [&self.login_fn, &self.logout_fn, &self.graphql_fn]
            .iter()
            .flat_map(|function| function.log_records())
            .filter(|record| record["event"] == name)
            .collect()
    }

    /// The records of `name` once there are at least `count` of them (or 5 s
    /// have passed): log lines come in through reader threads, so a line
    /// written before an answer may arrive after it.
    pub async fn wait_for_events(&self, name: &str, count: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let records = self.events(name);
            if records.len() >= count || std::time::Instant::now() >= deadline {
                return records;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Everything every function of this app logged.
    pub fn all_logs(&self) -> String {
        [&self.login_fn, &self.logout_fn, &self.graphql_fn]
            .iter()
            .map(|function| function.logs())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The status `{ me { username } }` gets with `token`: 200 while its session
    /// lives, 401 once it has been ended.
    pub async fn me_status(&mut self, token: &str) -> u16 {
        self.graphql(Some(token), "{ me { username } }", json!({}))
            .await
            .status
    }
}

/// `refresh_token` with `$r`, asking for the new pair.
pub const REFRESH_QUERY: &str = "mutation($r: String!) { refresh_token(input: {refresh_token: $r}) { access_token refresh_token } }";

/// `sessions` with every field.
pub const SESSIONS_QUERY: &str =
    "{ sessions { id created_at refreshed_at source_ip user_agent current } }";

/// A GraphQL request as a client sends it, for sending elsewhere than
/// [`TestApp::graphql`] (another container, another payload format).
pub fn graphql_request(token: Option<&str>, query: &str, variables: Value) -> HttpRequest {
    let mut request =
        HttpRequest::post(GRAPHQL_PATH).json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.bearer(token);
    }
    request
}

/// The stored hash of a seeded user's password, hashed once per run: every app
/// seeds the same two users, and hashing is the costly part of seeding. Salt is
/// per password, not per user; nothing the tests check depends on that.
fn seed_hash(password: &str) -> String {
    static HASHES: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
    let mut hashes = HASHES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    hashes
        .entry(password.to_owned())
        .or_insert_with(|| shared::auth::password::hash(password).expect("hash"))
        .clone()
}

/// `env` with each of `extra` set, replacing a setting of the same name.
fn with_settings(
    mut env: Vec<(&'static str, String)>,
    extra: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    for (name, value) in extra {
        env.retain(|(key, _)| key != name);
        env.push((*name, (*value).to_owned()));
    }
    env
}
