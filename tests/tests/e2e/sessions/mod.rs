//! Session lifecycle (#10): reuse of a refresh token ends its session, a grace
//! window for racing clients, the absolute lifetime cap, the sessions a user
//! sees and ends, and the audit events.

use e2e::app::{graphql_request, ANY_ROLE, REFRESH_QUERY};
use e2e::db::claims;
use e2e::{LambdaResponse, Payload, TestApp};
use mongodb::bson::{doc, DateTime};
use serde_json::{json, Value};
use std::time::Duration;

/// Every role may log in; `sue` (support) is a plain signed-in user.
async fn app() -> TestApp {
    TestApp::with_env(&[ANY_ROLE]).await
}

/// The new (access, refresh) of a refresh answer, if it has them.
fn pair(response: &LambdaResponse) -> Option<(String, String)> {
    let data = &response.body["data"]["refresh_token"];
    data["access_token"]
        .as_str()
        .zip(data["refresh_token"].as_str())
        .map(|(a, r)| (a.to_owned(), r.to_owned()))
}

fn new_pair(response: &LambdaResponse) -> (String, String) {
    pair(response).unwrap_or_else(|| panic!("no new pair: {}", response.raw_body))
}

fn assert_unauthorized(response: &LambdaResponse) {
    assert_eq!(response.status, 200, "{}", response.raw_body);
    assert_eq!(
        response.body["errors"][0]["message"], "unauthorized",
        "{}",
        response.raw_body
    );
    assert_eq!(response.body["data"]["refresh_token"], Value::Null);
}

fn uuid(token: &str) -> String {
    claims(token)["uuid"].as_str().expect("uuid").to_owned()
}

mod after_the_end;
mod ending;
mod events;
mod events_at_any_level;
mod lifetime;
mod listing;
mod retired;
mod reuse;
