//! CORS for a browser console on another origin (`CORS_ALLOWED_ORIGINS`, the
//! template's `CorsAllowedOrigins`): off unless origins are listed; then each
//! function answers the preflight and lets a listed origin read its answers,
//! refusals included, and tells every other origin nothing.

use e2e::app::{GRAPHQL_PATH, LOGIN_PATH, LOGOUT_PATH};
use e2e::{Function, HttpRequest, LambdaResponse, Payload, TestApp, TestDb};
use serde_json::json;
use std::time::Duration;

const CONSOLE: &str = "https://console.example.com";
const LOCAL_CONSOLE: &str = "http://localhost:5173";
const ALLOWED: (&str, &str) = (
    "CORS_ALLOWED_ORIGINS",
    "https://console.example.com, http://localhost:5173",
);

/// A browser's preflight from `origin` for a POST with a token and JSON.
fn preflight(path: &str, origin: &str) -> HttpRequest {
    HttpRequest::post(path)
        .method("OPTIONS")
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
}

/// Each function of `app` with its route.
fn routes(app: &mut TestApp) -> [(&mut Function, &'static str); 3] {
    [
        (&mut app.login_fn, LOGIN_PATH),
        (&mut app.logout_fn, LOGOUT_PATH),
        (&mut app.graphql_fn, GRAPHQL_PATH),
    ]
}

fn allowed_origin(response: &LambdaResponse) -> Option<&str> {
    response.header("Access-Control-Allow-Origin")
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let mut app = TestApp::spawn().await;
    for (function, path) in routes(&mut app) {
        let answer = function
            .invoke(preflight(path, CONSOLE).event(Payload::RestV1))
            .await;
        assert_eq!(answer.status, 405, "{path}: {}", answer.raw_body);
        assert_eq!(allowed_origin(&answer), None, "{path}");
    }
    let login = app
        .login_fn
        .invoke(
            HttpRequest::post(LOGIN_PATH)
                .header("Origin", CONSOLE)
                .json(&json!({"username": "root", "password": "root-password"}))
                .event(Payload::RestV1),
        )
        .await;
    assert_eq!(login.status, 200);
    assert_eq!(allowed_origin(&login), None);
    assert_eq!(login.header("Vary"), None);
}

#[tokio::test]
async fn every_function_answers_the_preflight_of_a_listed_origin() {
    let mut app = TestApp::with_env(&[ALLOWED]).await;
    for (function, path) in routes(&mut app) {
        for origin in [CONSOLE, LOCAL_CONSOLE] {
            for payload in Payload::ALL {
                let answer = function
                    .invoke(preflight(path, origin).event(payload))
                    .await;
                assert_eq!(
                    answer.status, 204,
                    "{path} {payload:?}: {}",
                    answer.raw_body
                );
                assert_eq!(allowed_origin(&answer), Some(origin), "{path}");
                let methods = answer.header("Access-Control-Allow-Methods").unwrap_or("");
                assert!(methods.contains("POST"), "{path}: {methods}");
                let headers = answer
                    .header("Access-Control-Allow-Headers")
                    .unwrap_or("")
                    .to_ascii_lowercase();
                assert!(
                    headers.contains("authorization") && headers.contains("content-type"),
                    "{path}: {headers}"
                );
                assert_eq!(answer.header("Vary"), Some("Origin"));
            }
        }
    }
}

#[tokio::test]
async fn a_listed_origin_may_read_answers_and_refusals() {
    let mut app = TestApp::with_env(&[ALLOWED]).await;
    let login = |password: &str| {
        HttpRequest::post(LOGIN_PATH)
            .header("Origin", CONSOLE)
            .json(&json!({"username": "root", "password": password}))
            .event(Payload::RestV1)
    };
    let granted = app.login_fn.invoke(login("root-password")).await;
    assert_eq!(granted.status, 200, "{}", granted.raw_body);
    assert_eq!(allowed_origin(&granted), Some(CONSOLE));
    assert_eq!(granted.header("Vary"), Some("Origin"));

    let refused = app.login_fn.invoke(login("wrong-password")).await;
    assert_eq!(refused.status, 400, "{}", refused.raw_body);
    assert_eq!(allowed_origin(&refused), Some(CONSOLE));
    // A lockout's 429 says when to retry; the page may read that header.
    assert_eq!(
        refused.header("Access-Control-Expose-Headers"),
        Some("Retry-After")
    );

    let token = app.admin_token().await;
    let logout = app
        .logout_fn
        .invoke(
            HttpRequest::post(LOGOUT_PATH)
                .header("Origin", CONSOLE)
                .bearer(&token)
                .json(&json!({}))
                .event(Payload::HttpV2),
        )
        .await;
    assert_eq!(logout.status, 200, "{}", logout.raw_body);
    assert_eq!(allowed_origin(&logout), Some(CONSOLE));
}

#[tokio::test]
async fn an_unlisted_origin_is_told_nothing() {
    let mut app = TestApp::with_env(&[ALLOWED]).await;
    for origin in [
        "https://evil.example.com",
        "https://console.example.com.evil.example",
        "null",
    ] {
        let answer = app
            .graphql_fn
            .invoke(preflight(GRAPHQL_PATH, origin).event(Payload::RestV1))
            .await;
        assert_eq!(answer.status, 405, "{origin}");
        assert_eq!(allowed_origin(&answer), None, "{origin}");

        let login = app
            .login_fn
            .invoke(
                HttpRequest::post(LOGIN_PATH)
                    .header("Origin", origin)
                    .json(&json!({"username": "root", "password": "root-password"}))
                    .event(Payload::RestV1),
            )
            .await;
        assert_eq!(login.status, 200);
        assert_eq!(allowed_origin(&login), None, "{origin}");
        // Still varies by origin, so a cache can't serve it to a listed one.
        assert_eq!(login.header("Vary"), Some("Origin"));
    }
}

#[tokio::test]
async fn a_wildcard_or_malformed_origin_list_stops_start_up_naming_the_setting() {
    let db = TestDb::new().await;
    for bad in [
        "*",
        "console.example.com",
        "https://console.example.com/app",
    ] {
        let mut env = db.env();
        env.push(("CORS_ALLOWED_ORIGINS", bad.to_owned()));
        let mut function = Function::start("login", &env).await;
        let code = function.exit_code(Duration::from_secs(10)).await;
        assert!(matches!(code, Some(c) if c != 0), "{bad}: still running");
        let logs = function.logs();
        assert!(logs.contains("CORS_ALLOWED_ORIGINS"), "{bad}: {logs}");
    }
}
